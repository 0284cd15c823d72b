namespace ShadowIo;

/// <summary>
/// Declares a value-carrying doorbell: the emulator needs the value the guest wrote
/// (an NVMe submission-queue tail). The value is kept in the shadow page.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DoorbellAttribute(string name, ulong offset, int width) : Attribute
{
    public string Name { get; } = name;
    public ulong Offset { get; } = offset;
    public int Width { get; } = width;
}

/// <summary>
/// Declares a notify-only doorbell: only the event matters (a virtio-pci notify).
/// With <see cref="DataMatch"/> set, only writes of exactly that value fire.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class NotifyDoorbellAttribute(string name, ulong offset, int width) : Attribute
{
    public string Name { get; } = name;
    public ulong Offset { get; } = offset;
    public int Width { get; } = width;

    /// <summary>The only value that fires this doorbell; unset means any value fires.</summary>
    public ulong DataMatch { get; set; }
}

/// <summary>
/// Declares an array of value-carrying doorbells: element <c>i</c> sits at
/// <c>offset + i * stride</c>. NVMe with DSTRD = 0: SQ tails at 0x1000 stride 8,
/// CQ heads at 0x1004 stride 8.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DoorbellArrayAttribute(string name, ulong offset, int width, int count, ulong stride) : Attribute
{
    public string Name { get; } = name;
    public ulong Offset { get; } = offset;
    public int Width { get; } = width;
    public int Count { get; } = count;
    public ulong Stride { get; } = stride;
}
