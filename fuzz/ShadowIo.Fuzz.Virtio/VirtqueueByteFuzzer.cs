using System.Buffers.Binary;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Fuzz.Virtio;

/// <summary>
/// The virtio-blk device's entry for coverage-guided fuzzing (shadowio-fuzz's <c>virtio-blk</c>
/// target) and for the corpus replay test. The input is a list of operations a hostile driver
/// and its host make: the status handshake with any feature set, queue setup with any size and
/// addresses, raw descriptors (direct and in indirect tables) with any address, length, flags and
/// next, any available ring entry and idx, well-formed requests between them, notifies, polling
/// on and off, raw BAR accesses at any offset and width, and stray RAM writes.
/// </summary>
/// <remarks>
/// Checked after the input: no exception left the device, the device caught no internal error,
/// nothing was written outside guest RAM (red zones), every used element the device published names
/// a descriptor inside its queue (seen through the device's hook as it publishes: the guest's own RAM,
/// which the input may overwrite, proves nothing), and a reset followed by a clean driver always gets
/// a write and its read-back through.
/// </remarks>
public static class VirtqueueByteFuzzer
{
    /// <summary>Longer inputs are cut here.</summary>
    public const int MaxInputBytes = 16 * 1024;

    private const long DiskBytes = 1 << 20;

    private static GuestRam? s_ram;

    /// <summary>What the device did with the last input before the final round trip (for the replay test: the seeds reach the device).</summary>
    public static (long RequestsCompleted, long RequestsFailed, long NeedsResetRaised, VirtqueueError LastReason) LastRun { get; private set; }

    /// <summary>Runs one input; throws <see cref="FuzzInvariantException"/> on a violated invariant.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxInputBytes) input = input[..MaxInputBytes];
        s_ram ??= new GuestRam(VirtioDriverLayout.Base, VirtioDriverLayout.RamSize);
        var ram = s_ram;
        ram.Bytes.Clear();
        using var storage = new MemoryBlockStorage(DiskBytes);
        var device = new VirtioBlkDevice(ram.Memory, storage, new VirtioBlkDeviceOptions { Queues = 2, MaxQueueSize = 64 });
        var driver = new VirtioDriver(device, ram);
        string? badElement = null;
        // What the device published, checked as it happens: the guest may scribble over its own used ring later.
        device.UsedElementPublished = (queue, size, head, written) =>
        {
            if (head >= size) badElement ??= $"queue {queue}: a used element names descriptor {head} of a {size}-entry queue";
        };
        try
        {
            RunOperations(new Reader(input), driver);
            LastRun = (device.Counters.RequestsCompleted, device.Counters.RequestsFailed, device.Counters.NeedsResetRaised, device.NeedsResetReason);
            if (badElement is not null) throw new FuzzInvariantException(badElement);
            CheckRoundTrip(driver);
        }
        catch (FuzzInvariantException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new FuzzInvariantException($"an exception escaped the device: {e.GetType().Name}: {e.Message}", e);
        }
        if (device.InternalErrors != 0)
            throw new FuzzInvariantException($"the device caught {device.InternalErrors} internal error(s): {device.LastInternalError}");
        if (!ram.RedZonesIntact())
        {
            s_ram = null;
            ram.Dispose();
            throw new FuzzInvariantException("guest RAM red zone changed: a write landed outside guest memory");
        }
    }

    private static void RunOperations(Reader input, VirtioDriver driver)
    {
        var device = driver.Device;
        while (!input.Done)
        {
            int q = input.Byte() & 1;
            switch (input.Byte() % 13)
            {
                case 0:
                    driver.Negotiate((VirtioFeatures)input.UInt64());
                    break;
                case 1:
                {
                    // Mostly a power of two up to 128; a third of the time any 16-bit size.
                    byte choice = input.Byte();
                    driver.SetUpQueue(q, (ushort)(choice % 3 == 0 ? input.UInt16() : 1 << (choice % 8)));
                    break;
                }
                case 2:
                    driver.DriverOk();
                    break;
                case 3:
                {
                    ulong table = input.Byte() % 4 == 0 ? VirtioDriverLayout.IndirectTables + 4096UL * (ulong)(input.Byte() % 4) : VirtioDriverLayout.Descriptors(q);
                    driver.WriteDescriptor(table, input.Byte() % 64, Address(ref input), input.UInt32() % 0x2_0000 + (input.Byte() == 0 ? input.UInt32() : 0), input.UInt16(), input.UInt16());
                    break;
                }
                case 4:
                    driver.Publish(q, (ushort)(input.UInt16() % 80));
                    break;
                case 5:
                    driver.SetAvailIdx(q, input.UInt16());
                    break;
                case 6:
                    if ((input.Byte() & 1) == 0) driver.Notify(q);
                    else device.ProcessDoorbell(input.Byte() % 6);
                    break;
                case 7:
                    driver.Write(input.UInt16() % VirtioPciLayout.BarSize, 1 << (input.Byte() % 4), input.UInt64());
                    break;
                case 8:
                    driver.Read(input.UInt16() % VirtioPciLayout.BarSize, 1 << (input.Byte() % 4));
                    break;
                case 9:
                {
                    ushort first = (ushort)(input.Byte() % 60);
                    var type = (VirtioBlkRequestType)(input.Byte() % 10);
                    ulong data = VirtioDriverLayout.Data + 512UL * (ulong)(input.Byte() % 64);
                    uint length = 512u * (uint)(input.Byte() % 9) + (input.Byte() % 8 == 0 ? 1u : 0u);
                    ushort old = driver.AvailIdx(q);
                    driver.Publish(q, driver.BuildRequest(q, first, type, (ulong)(input.UInt16() % 2100), data, length, indirect: (input.Byte() & 1) != 0));
                    driver.KickIfNeeded(q, old);
                    break;
                }
                case 10:
                    device.IsPolling = (input.Byte() & 1) != 0;
                    device.Poll();
                    break;
                case 11:
                {
                    ulong at = VirtioDriverLayout.Base + input.UInt32() % (uint)(VirtioDriverLayout.RamSize - 8);
                    BinaryPrimitives.WriteUInt64LittleEndian(driver.Ram.At(at, 8), input.UInt64());
                    break;
                }
                case 12:
                    driver.WriteStatus(VirtioDeviceStatus.Reset);
                    break;
            }
        }
    }

    /// <summary>A guest address: mostly inside RAM, sometimes just past it, sometimes anywhere.</summary>
    private static ulong Address(ref Reader input) => (input.Byte() % 8) switch
    {
        0 => input.UInt64(),
        1 => VirtioDriverLayout.Base + (ulong)VirtioDriverLayout.RamSize - (ulong)(input.UInt16() % 1024),
        2 => VirtioDriverLayout.Headers + 64UL * (ulong)(input.Byte() % 64),
        3 => VirtioDriverLayout.IndirectTables + 4096UL * (ulong)(input.Byte() % 4),
        _ => VirtioDriverLayout.Data + 512UL * (ulong)(input.UInt16() % 1024),
    };

    /// <summary>Whatever came before, a reset and a clean driver get a 4 KiB write and its read-back through.</summary>
    private static void CheckRoundTrip(VirtioDriver driver)
    {
        var device = driver.Device;
        device.IsPolling = false;
        if (!driver.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx | VirtioFeatures.RingIndirectDesc))
            throw new FuzzInvariantException("after a reset the device refused VERSION_1 | EVENT_IDX | INDIRECT_DESC");
        driver.SetUpQueue(0, 16);
        driver.DriverOk();
        var pattern = driver.Ram.At(VirtioDriverLayout.Data, 4096);
        for (int i = 0; i < pattern.Length; i++) pattern[i] = (byte)(i * 7 + 3);
        driver.Publish(0, driver.BuildRequest(0, 0, VirtioBlkRequestType.Out, 8, VirtioDriverLayout.Data, 4096));
        driver.Notify(0);
        driver.Ram.At(VirtioDriverLayout.Data + 4096, 4096).Clear();
        driver.Publish(0, driver.BuildRequest(0, 4, VirtioBlkRequestType.In, 8, VirtioDriverLayout.Data + 4096, 4096, indirect: true));
        driver.Notify(0);
        if (device.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset))
            throw new FuzzInvariantException($"a clean driver after reset met DEVICE_NEEDS_RESET ({device.NeedsResetReason})");
        if (driver.StatusOf(0, 0) != 0 || driver.StatusOf(0, 4) != 0)
            throw new FuzzInvariantException($"round trip after reset: statuses {driver.StatusOf(0, 0)} and {driver.StatusOf(0, 4)}");
        if (!driver.Ram.At(VirtioDriverLayout.Data + 4096, 4096).SequenceEqual(driver.Ram.At(VirtioDriverLayout.Data, 4096)))
            throw new FuzzInvariantException("round trip after reset: the block read back differs from the block written");
    }

    /// <summary>The input as a stream of little-endian values; past the end it reads zeroes.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _next;

        public readonly bool Done => _next >= _bytes.Length;

        public byte Byte() => _next < _bytes.Length ? _bytes[_next++] : (byte)0;

        public ushort UInt16() => (ushort)(Byte() | Byte() << 8);

        public uint UInt32() => UInt16() | (uint)UInt16() << 16;

        public ulong UInt64() => UInt32() | (ulong)UInt32() << 32;
    }
}
