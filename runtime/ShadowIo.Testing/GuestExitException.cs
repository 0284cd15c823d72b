using ShadowIo.Kvm;

namespace ShadowIo.Testing;

/// <summary>The guest stopped in a way the harness does not expect (fault, HLT, unknown port, failed entry).</summary>
public sealed class GuestExitException : Exception
{
    /// <summary>Exception-pattern constructor: no exit recorded (<see cref="Exit"/> is default).</summary>
    public GuestExitException() { }

    /// <summary>Exception-pattern constructor: no exit recorded.</summary>
    /// <param name="message">What went wrong.</param>
    public GuestExitException(string message) : base(message) { }

    /// <summary>Exception-pattern constructor: no exit recorded.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The failure underneath.</param>
    public GuestExitException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The guest stopped with <paramref name="exit"/> at <paramref name="rip"/>.</summary>
    /// <param name="exit">The exit the run loop could not handle.</param>
    /// <param name="rip">Guest RIP after the exit (0 when it could not be read).</param>
    /// <param name="hint">What usually causes this exit in a test guest, appended to the message.</param>
    public GuestExitException(VcpuExit exit, ulong rip, string hint)
        : base($"Unexpected guest exit: {exit} at RIP 0x{rip:x}. {hint}")
    {
        Exit = exit;
        Rip = rip;
    }

    /// <summary>The unexpected exit.</summary>
    public VcpuExit Exit { get; }

    /// <summary>Guest RIP after the exit: for a fault, at or after the faulting instruction; 0 when unknown.</summary>
    public ulong Rip { get; }
}
