using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Virtio;

/// <summary>Where a <see cref="VirtioDriver"/> keeps its rings and buffers in guest RAM.</summary>
public static class VirtioDriverLayout
{
    /// <summary>Guest-physical base of the fuzz/test RAM.</summary>
    public const ulong Base = 0x10_0000;

    /// <summary>Bytes of RAM.</summary>
    public const int RamSize = 1 << 20;

    /// <summary>One 16 KiB area per queue: descriptors, then the available ring, then (4 KiB in) the used ring.</summary>
    public const ulong QueueArea = Base;

    /// <summary>Bytes per queue area.</summary>
    public const ulong QueueAreaSize = 0x4000;

    /// <summary>Indirect tables: 64 slots of 4 KiB (256 descriptors each).</summary>
    public const ulong IndirectTables = Base + 0x1_0000;

    /// <summary>Request headers and status bytes: 64 bytes per descriptor slot, 16 KiB per queue.</summary>
    public const ulong Headers = Base + 0x5_0000;

    /// <summary>Data buffers.</summary>
    public const ulong Data = Base + 0x6_0000;

    /// <summary>Bytes of data buffers (to the end of RAM).</summary>
    public const ulong DataSize = Base + RamSize - Data;

    /// <summary>Descriptor table of queue <paramref name="q"/>.</summary>
    public static ulong Descriptors(int q) => QueueArea + (ulong)q * QueueAreaSize;

    /// <summary>Available ring (driver area) of queue <paramref name="q"/>.</summary>
    public static ulong Avail(int q) => Descriptors(q) + 0x1000;

    /// <summary>Used ring (device area) of queue <paramref name="q"/>.</summary>
    public static ulong Used(int q) => Descriptors(q) + 0x2000;
}

/// <summary>
/// A virtio-pci driver played against a <see cref="VirtioBlkDevice"/> without KVM: BAR accesses
/// through the device's MMIO dispatch (as a vCPU's exits would arrive), split rings in a red-zoned
/// <see cref="GuestRam"/>. It follows Linux's virtio_pci_modern + virtio_ring order (status
/// handshake, features in two halves, queue setup, avail idx after the ring entry, EVENT_IDX
/// notification rule) unless a caller writes the rings itself to be hostile.
/// </summary>
public sealed class VirtioDriver(VirtioBlkDevice device, GuestRam ram)
{
    private readonly ushort[] _availIdx = new ushort[VirtioPciLayout.MaxQueues];
    private readonly ushort[] _lastUsed = new ushort[VirtioPciLayout.MaxQueues];
    private readonly ushort[] _sizes = new ushort[VirtioPciLayout.MaxQueues];

    /// <summary>The device under test.</summary>
    public VirtioBlkDevice Device => device;

    /// <summary>The guest RAM the rings live in.</summary>
    public GuestRam Ram => ram;

    /// <summary>Whether EVENT_IDX was negotiated (the notify and interrupt rules follow it).</summary>
    public bool EventIdx { get; private set; }

    /// <summary>Notify writes the driver made (its rule said ring).</summary>
    public long NotifyWrites { get; private set; }

    /// <summary>Notifications the driver's rule let it skip.</summary>
    public long NotifiesSkipped { get; private set; }

    /// <summary>A BAR read (common configuration at 0, ISR, device configuration, notify).</summary>
    public ulong Read(ulong barOffset, int size) => device.ReadMmio(barOffset, size);

    /// <summary>A BAR write.</summary>
    public void Write(ulong barOffset, int size, ulong value) => device.WriteMmio(barOffset, size, value);

    private ulong Common(ulong offset) => VirtioPciLayout.CommonConfigOffset + offset;

    /// <summary>The device status byte.</summary>
    public VirtioDeviceStatus Status => (VirtioDeviceStatus)Read(Common(VirtioCommonConfigRegisters.DeviceStatusOffset), 1);

    /// <summary>The offered features, read as Linux does: select 0 and 1, two 32-bit reads.</summary>
    public VirtioFeatures ReadDeviceFeatures()
    {
        Write(Common(VirtioCommonConfigRegisters.DeviceFeatureSelectOffset), 4, 0);
        ulong low = Read(Common(VirtioCommonConfigRegisters.DeviceFeatureOffset), 4);
        Write(Common(VirtioCommonConfigRegisters.DeviceFeatureSelectOffset), 4, 1);
        ulong high = Read(Common(VirtioCommonConfigRegisters.DeviceFeatureOffset), 4);
        return (VirtioFeatures)(low | high << 32);
    }

    /// <summary>Writes device_status (0 resets the device).</summary>
    public void WriteStatus(VirtioDeviceStatus status) => Write(Common(VirtioCommonConfigRegisters.DeviceStatusOffset), 1, (byte)status);

    /// <summary>Writes both halves of the accepted features.</summary>
    public void WriteDriverFeatures(VirtioFeatures features)
    {
        Write(Common(VirtioCommonConfigRegisters.DriverFeatureSelectOffset), 4, 0);
        Write(Common(VirtioCommonConfigRegisters.DriverFeatureOffset), 4, (uint)features);
        Write(Common(VirtioCommonConfigRegisters.DriverFeatureSelectOffset), 4, 1);
        Write(Common(VirtioCommonConfigRegisters.DriverFeatureOffset), 4, (uint)((ulong)features >> 32));
    }

    /// <summary>
    /// 3.1.1 steps 1–6: reset, ACKNOWLEDGE, DRIVER, accept <paramref name="wanted"/> ∩ offered,
    /// FEATURES_OK, and re-read it. False when the device refused the features.
    /// </summary>
    public bool Negotiate(VirtioFeatures wanted)
    {
        WriteStatus(VirtioDeviceStatus.Reset);
        WriteStatus(VirtioDeviceStatus.Acknowledge);
        WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        var accepted = ReadDeviceFeatures() & wanted;
        WriteDriverFeatures(accepted);
        WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk);
        EventIdx = (accepted & VirtioFeatures.RingEventIdx) != 0;
        Array.Clear(_availIdx);
        Array.Clear(_lastUsed);
        return (Status & VirtioDeviceStatus.FeaturesOk) != 0;
    }

    /// <summary>Step 7 for queue <paramref name="q"/>: zeroed rings at the layout's addresses, size, then queue_enable = 1.</summary>
    public void SetUpQueue(int q, ushort size)
    {
        ram.At(VirtioDriverLayout.Descriptors(q), (int)VirtioDriverLayout.QueueAreaSize).Clear();
        Write(Common(VirtioCommonConfigRegisters.QueueSelectOffset), 2, (ushort)q);
        Write(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2, size);
        WriteTwoHalves(VirtioCommonConfigRegisters.QueueDescOffset, VirtioDriverLayout.Descriptors(q));
        WriteTwoHalves(VirtioCommonConfigRegisters.QueueDriverOffset, VirtioDriverLayout.Avail(q));
        WriteTwoHalves(VirtioCommonConfigRegisters.QueueDeviceOffset, VirtioDriverLayout.Used(q));
        Write(Common(VirtioCommonConfigRegisters.QueueEnableOffset), 2, 1);
        _sizes[q] = size;
        _availIdx[q] = 0;
        _lastUsed[q] = 0;
    }

    /// <summary>
    /// The size the driver's own ring arithmetic uses: what it set up, or 1 for a size its 16 KiB
    /// queue area cannot hold (a hostile set-up; the device refuses such a queue anyway), so the
    /// model itself never leaves its area.
    /// </summary>
    private ushort RingSize(int q) => _sizes[q] is > 0 and <= 256 ? _sizes[q] : (ushort)1;

    /// <summary>Step 8: DRIVER_OK.</summary>
    public void DriverOk() =>
        WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk | VirtioDeviceStatus.DriverOk);

    // Linux's vp_iowrite64_twopart: low half, then high half.
    private void WriteTwoHalves(ulong offset, ulong value)
    {
        Write(Common(offset), 4, (uint)value);
        Write(Common(offset + 4), 4, (uint)(value >> 32));
    }

    /// <summary>Writes descriptor <paramref name="index"/> of the table at <paramref name="table"/>.</summary>
    public void WriteDescriptor(ulong table, int index, ulong address, uint length, ushort flags, ushort next)
    {
        var d = ram.At(table + 16UL * (ulong)index, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Puts <paramref name="head"/> in the next available slot and publishes it (entry, barrier, idx), without notifying.</summary>
    public ushort Publish(int q, ushort head)
    {
        ushort size = RingSize(q);
        BinaryPrimitives.WriteUInt16LittleEndian(ram.At(VirtioDriverLayout.Avail(q) + 4 + 2UL * (ushort)(_availIdx[q] % size), 2), head);
        Interlocked.MemoryBarrier();
        _availIdx[q]++;
        SetAvailIdx(q, _availIdx[q]);
        return _availIdx[q];
    }

    /// <summary>Writes the available ring's idx directly (a hostile driver may write anything).</summary>
    public void SetAvailIdx(int q, ushort idx)
    {
        _availIdx[q] = idx;
        BinaryPrimitives.WriteUInt16LittleEndian(ram.At(VirtioDriverLayout.Avail(q) + 2, 2), idx);
    }

    /// <summary>Rings queue <paramref name="q"/>'s notify doorbell: a 16-bit write of its index at 4q in the notify region.</summary>
    public void Notify(int q)
    {
        NotifyWrites++;
        Write(VirtioPciLayout.NotifyOffset + (ulong)(q * VirtioPciLayout.NotifyOffMultiplier), 2, (ushort)q);
    }

    /// <summary>
    /// Linux's virtqueue_kick_prepare: after publishing chains from <paramref name="oldAvail"/>, ring
    /// if EVENT_IDX's <c>vring_need_event(avail_event, new, old)</c> says so, or if the device did not
    /// set VIRTQ_USED_F_NO_NOTIFY.
    /// </summary>
    public bool KickIfNeeded(int q, ushort oldAvail)
    {
        Interlocked.MemoryBarrier(); // virtio_mb: the idx before reading the device's suppression
        ushort size = RingSize(q);
        bool kick = EventIdx
            ? NeedEvent(BinaryPrimitives.ReadUInt16LittleEndian(ram.At(VirtioDriverLayout.Used(q) + 4 + 8UL * size, 2)), _availIdx[q], oldAvail)
            : (BinaryPrimitives.ReadUInt16LittleEndian(ram.At(VirtioDriverLayout.Used(q), 2)) & 1) == 0;
        if (kick) Notify(q);
        else NotifiesSkipped++;
        return kick;
    }

    /// <summary>The available idx the driver has published.</summary>
    public ushort AvailIdx(int q) => _availIdx[q];

    /// <summary>The used ring's idx as the device wrote it.</summary>
    public ushort UsedIdx(int q) => BinaryPrimitives.ReadUInt16LittleEndian(ram.At(VirtioDriverLayout.Used(q) + 2, 2));

    /// <summary>Takes the next used element, if the device published one.</summary>
    public bool TryTakeUsed(int q, out uint id, out uint written)
    {
        id = written = 0;
        if (UsedIdx(q) == _lastUsed[q]) return false;
        var element = ram.At(VirtioDriverLayout.Used(q) + 4 + 8UL * (ushort)(_lastUsed[q] % RingSize(q)), 8);
        id = BinaryPrimitives.ReadUInt32LittleEndian(element);
        written = BinaryPrimitives.ReadUInt32LittleEndian(element[4..]);
        _lastUsed[q]++;
        return true;
    }

    /// <summary>Sets used_event (EVENT_IDX: interrupt when the used idx passes it).</summary>
    public void SetUsedEvent(int q, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(ram.At(VirtioDriverLayout.Avail(q) + 4 + 2UL * RingSize(q), 2), value);

    /// <summary>Sets the available ring's flags (VIRTQ_AVAIL_F_NO_INTERRUPT = 1).</summary>
    public void SetAvailFlags(int q, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(ram.At(VirtioDriverLayout.Avail(q), 2), value);

    /// <summary>A 16-byte request header at <paramref name="address"/>.</summary>
    public void WriteHeader(ulong address, VirtioBlkRequestType type, ulong sector)
    {
        var h = ram.At(address, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], sector);
    }

    /// <summary>
    /// Builds Linux's request shape at descriptors <paramref name="first"/>.. of queue
    /// <paramref name="q"/>: header (readable), data (readable for OUT, writable for IN; none if
    /// <paramref name="dataLength"/> is 0), status (writable). With <paramref name="indirect"/> the
    /// three go in indirect table <paramref name="first"/> and descriptor <paramref name="first"/>
    /// points at it. Returns the head.
    /// </summary>
    public ushort BuildRequest(int q, ushort first, VirtioBlkRequestType type, ulong sector, ulong data, uint dataLength, bool indirect = false)
    {
        ulong header = VirtioDriverLayout.Headers + 64UL * first + 0x4000UL * (ulong)q;
        WriteHeader(header, type, sector);
        ram.At(header + 16, 1)[0] = 0xFF; // the status byte, so a test sees the device wrote it
        ulong table = indirect ? VirtioDriverLayout.IndirectTables + 4096UL * (ulong)(first % 64) : VirtioDriverLayout.Descriptors(q);
        int at = indirect ? 0 : first;
        ushort size = RingSize(q);
        int Next(int i) => indirect ? i + 1 : (i + 1) % size;
        ushort dataFlags = type == VirtioBlkRequestType.Out ? (ushort)0 : (ushort)2;
        int count = 0;
        WriteDescriptor(table, at, header, 16, 1, (ushort)Next(at));
        count++;
        int cursor = Next(at);
        if (dataLength > 0)
        {
            WriteDescriptor(table, cursor, data, dataLength, (ushort)(dataFlags | 1), (ushort)Next(cursor));
            cursor = Next(cursor);
            count++;
        }
        WriteDescriptor(table, cursor, header + 16, 1, 2, 0);
        count++;
        if (indirect) WriteDescriptor(VirtioDriverLayout.Descriptors(q), first, table, (uint)(16 * count), 4, 0);
        return first;
    }

    /// <summary>The status byte of the request built at <paramref name="first"/> on queue <paramref name="q"/>.</summary>
    public byte StatusOf(int q, ushort first) => ram.At(VirtioDriverLayout.Headers + 64UL * first + 0x4000UL * (ulong)q + 16, 1)[0];

    private static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) => (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);
}
