namespace ShadowIo;

/// <summary>
/// A device's MMIO handler for one block: offsets are relative to the block's base.
/// Guest-controlled: implementations must never throw for any offset, size or value.
/// </summary>
public interface IMmioDevice
{
    /// <summary>Guest read of <paramref name="size"/> bytes (1, 2, 4 or 8) at <paramref name="offset"/>.</summary>
    ulong ReadMmio(ulong offset, int size);

    /// <summary>Guest write of <paramref name="size"/> bytes (1, 2, 4 or 8) at <paramref name="offset"/>.</summary>
    void WriteMmio(ulong offset, int size, ulong value);
}

/// <summary>Implemented by generated register blocks.</summary>
public interface IRegisterBlock : IMmioDevice
{
    /// <summary>The block's ioeventfd registration table and shadow layout.</summary>
    static abstract DoorbellTable DoorbellTable { get; }

    /// <summary>Returns every register to its reset value.</summary>
    void ResetRegisters();
}
