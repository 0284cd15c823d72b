namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// A mistake or an environment problem the user can fix (a bad option value, a backing file
/// that cannot be used): printed as one line on stderr, no stack trace, nonzero exit.
/// </summary>
internal sealed class UserErrorException : Exception
{
    public UserErrorException(string message) : base(message) { }

    public UserErrorException(string message, Exception innerException) : base(message, innerException) { }

    public UserErrorException() { }
}
