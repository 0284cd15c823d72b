namespace ShadowIo.VfioUser.Client;

/// <summary>
/// A vfio-user request failed: the server answered with an error (<see cref="Errno"/> is its
/// errno), or broke the protocol (EPROTO: the link is closed for further requests).
/// </summary>
public sealed class VfioUserException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The server's errno, or EPROTO for a protocol violation.</param>
    /// <param name="message">What was asked and what came back.</param>
    public VfioUserException(int errno, string message) : base(message) => Errno = errno;

    /// <summary>The errno (positive, Linux numbering).</summary>
    public int Errno { get; }
}
