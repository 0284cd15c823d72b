namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>The workload could not finish: the guest timed out, a command failed, data did not come back.</summary>
internal sealed class WorkloadException : Exception
{
    public WorkloadException(string message) : base(message) { }

    public WorkloadException(string message, Exception innerException) : base(message, innerException) { }

    public WorkloadException() { }
}
