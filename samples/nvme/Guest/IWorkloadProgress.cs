namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>Told as the workload moves through a mode's steps (setup, each measured phase, verification).</summary>
internal interface IWorkloadProgress
{
    /// <summary>Step <paramref name="step"/> of <paramref name="steps"/> of <paramref name="mode"/> begins.</summary>
    void Step(WorkloadMode mode, int step, int steps, string description);

    /// <summary>The mode finished (or was found unsupported).</summary>
    void Finished(ModeResult result);
}
