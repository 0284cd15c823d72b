using ShadowIo.Kvm;

namespace ShadowIo.Testing;

/// <summary>The guest stopped in a way the harness does not expect (fault, HLT, unknown port, failed entry).</summary>
public sealed class GuestExitException : Exception
{
    public GuestExitException() { }

    public GuestExitException(string message) : base(message) { }

    public GuestExitException(string message, Exception innerException) : base(message, innerException) { }

    public GuestExitException(VcpuExit exit, ulong rip, string hint)
        : base($"Unexpected guest exit: {exit} at RIP 0x{rip:x}. {hint}")
    {
        Exit = exit;
        Rip = rip;
    }

    public VcpuExit Exit { get; }

    public ulong Rip { get; }
}
