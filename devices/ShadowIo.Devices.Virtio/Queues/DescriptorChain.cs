namespace ShadowIo.Devices.Virtio;

/// <summary>
/// Walks one descriptor chain (virtio 1.2, sections 2.7.5 and 2.7.5.3) from its head into a list
/// of buffer segments, reading every descriptor through <see cref="GuestMemory"/>. Nothing the
/// driver wrote can make it loop, read outside RAM or overrun the segment list: the walk stops at
/// the queue size (a looping chain is longer than the queue), and every descriptor index is checked
/// against its table.
/// </summary>
/// <remarks>
/// The segments' own addresses are not checked here: the request's data moves through
/// <see cref="GuestMemory"/> later, and a buffer outside RAM fails that request rather than the ring.
/// Each descriptor is read once into a local (the guest may rewrite the table meanwhile).
/// </remarks>
internal static class DescriptorChain
{
    public static VirtqueueError Walk(GuestMemory memory, ulong descriptorTable, ushort queueSize, ushort head, bool indirectAllowed,
        Span<BufferSegment> segments, out int count)
    {
        count = 0;
        ulong table = descriptorTable;
        uint tableEntries = queueSize;
        uint index = head;
        bool inIndirect = false;
        bool sawWritable = false;
        int descriptors = 0;
        while (true)
        {
            if (index >= tableEntries) return inIndirect || descriptors > 0 ? VirtqueueError.NextOutOfRange : VirtqueueError.HeadOutOfRange;
            if (!memory.TryRead(table + (ulong)index * VirtqDescriptor.Size, out VirtqDescriptor descriptor)) return VirtqueueError.RingOutsideMemory;
            if ((descriptor.Flags & VirtqDescriptor.FlagIndirect) != 0)
            {
                // 2.7.5.3.2: the device ignores the write flag of the descriptor that refers to the table.
                if (!indirectAllowed) return VirtqueueError.IndirectNotNegotiated;
                if (inIndirect) return VirtqueueError.NestedIndirect;
                if ((descriptor.Flags & VirtqDescriptor.FlagNext) != 0) return VirtqueueError.IndirectWithNext;
                if (descriptor.Length == 0 || descriptor.Length % VirtqDescriptor.Size != 0) return VirtqueueError.IndirectBadLength;
                if (!memory.Contains(descriptor.Address, descriptor.Length)) return VirtqueueError.RingOutsideMemory;
                table = descriptor.Address;
                tableEntries = descriptor.Length / VirtqDescriptor.Size;
                index = 0;
                inIndirect = true;
                continue;
            }
            // 2.7.5.3.1: no chain longer than the queue size, indirect tables included. A loop never ends, so it ends here.
            if (++descriptors > queueSize || count == segments.Length) return VirtqueueError.ChainLongerThanQueue;
            bool writable = (descriptor.Flags & VirtqDescriptor.FlagWrite) != 0;
            if (!writable && sawWritable) return VirtqueueError.ReadableAfterWritable;
            sawWritable |= writable;
            segments[count++] = new BufferSegment(descriptor.Address, descriptor.Length, writable);
            if ((descriptor.Flags & VirtqDescriptor.FlagNext) == 0) return VirtqueueError.None;
            index = descriptor.Next;
        }
    }
}
