namespace ShadowIo;

/// <summary>
/// Declares a value-carrying doorbell: the emulator needs the value the guest wrote
/// (an NVMe submission-queue tail). The value is kept in the shadow page.
/// </summary>
/// <param name="name">The doorbell's name; the generated reader and index member are named after it.</param>
/// <param name="offset">Byte offset within the register block, aligned to <paramref name="width"/>.</param>
/// <param name="width">Access size in bytes the guest writes: 1, 2, 4 or 8 (the ioeventfd length).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DoorbellAttribute(string name, ulong offset, int width) : Attribute
{
    /// <summary>The doorbell's name as declared (generated members are named after it).</summary>
    public string Name { get; } = name;

    /// <summary>Byte offset within the register block.</summary>
    public ulong Offset { get; } = offset;

    /// <summary>Access size in bytes: 1, 2, 4 or 8.</summary>
    public int Width { get; } = width;
}

/// <summary>
/// Declares a notify-only doorbell: only the event matters (a virtio-pci notify).
/// With <see cref="DataMatch"/> set, only writes of exactly that value fire.
/// </summary>
/// <param name="name">The doorbell's name; the generated index member is named after it.</param>
/// <param name="offset">Byte offset within the register block, aligned to <paramref name="width"/>.</param>
/// <param name="width">Access size in bytes the guest writes: 1, 2, 4 or 8 (the ioeventfd length).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class NotifyDoorbellAttribute(string name, ulong offset, int width) : Attribute
{
    /// <summary>The doorbell's name as declared.</summary>
    public string Name { get; } = name;

    /// <summary>Byte offset within the register block.</summary>
    public ulong Offset { get; } = offset;

    /// <summary>Access size in bytes: 1, 2, 4 or 8.</summary>
    public int Width { get; } = width;

    /// <summary>The only value that fires this doorbell; unset means any value fires.</summary>
    public ulong DataMatch { get; set; }
}

/// <summary>
/// Declares an array of value-carrying doorbells: element <c>i</c> sits at
/// <c>offset + i * stride</c>. NVMe with DSTRD = 0: SQ tails at 0x1000 stride 8,
/// CQ heads at 0x1004 stride 8.
/// </summary>
/// <param name="name">The array's name; the generated reader takes the element index.</param>
/// <param name="offset">Byte offset of element 0 within the register block.</param>
/// <param name="width">Access size in bytes of each element: 1, 2, 4 or 8.</param>
/// <param name="count">Number of elements (each becomes one ioeventfd row).</param>
/// <param name="stride">Bytes from one element to the next; at least <paramref name="width"/>.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DoorbellArrayAttribute(string name, ulong offset, int width, int count, ulong stride) : Attribute
{
    /// <summary>The array's name as declared.</summary>
    public string Name { get; } = name;

    /// <summary>Byte offset of element 0 within the register block.</summary>
    public ulong Offset { get; } = offset;

    /// <summary>Access size in bytes of each element: 1, 2, 4 or 8.</summary>
    public int Width { get; } = width;

    /// <summary>Number of elements.</summary>
    public int Count { get; } = count;

    /// <summary>Bytes between consecutive elements in the block (the shadow page keeps the same stride).</summary>
    public ulong Stride { get; } = stride;
}
