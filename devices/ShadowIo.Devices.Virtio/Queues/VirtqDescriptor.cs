using System.Runtime.InteropServices;

namespace ShadowIo.Devices.Virtio;

/// <summary><c>struct virtq_desc</c> (virtio 1.2, section 2.7.5): 16 bytes, little-endian.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal readonly struct VirtqDescriptor
{
    /// <summary>Bytes of one descriptor in a descriptor table (and in an indirect table).</summary>
    public const int Size = 16;

    /// <summary>VIRTQ_DESC_F_NEXT: the chain continues at <see cref="Next"/>.</summary>
    public const ushort FlagNext = 1;

    /// <summary>VIRTQ_DESC_F_WRITE: the buffer is device-writable (otherwise device-readable).</summary>
    public const ushort FlagWrite = 2;

    /// <summary>VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors (2.7.5.3).</summary>
    public const ushort FlagIndirect = 4;

    public readonly ulong Address;
    public readonly uint Length;
    public readonly ushort Flags;
    public readonly ushort Next;

    public VirtqDescriptor(ulong address, uint length, ushort flags, ushort next)
    {
        Address = address;
        Length = length;
        Flags = flags;
        Next = next;
    }
}

/// <summary>One buffer of a descriptor chain: where, how long, and which way the data goes.</summary>
internal readonly record struct BufferSegment(ulong Address, uint Length, bool DeviceWritable);
