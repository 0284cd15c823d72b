using System.Text;
using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>virtio-blk requests (virtio 1.2, 5.2.6) over direct and indirect chains, and requests that must fail.</summary>
public sealed class RequestTests
{
    private const ulong Data = VirtioDriverLayout.Data;

    private static void Fill(DeviceFixture f, ulong at, int length, byte seed)
    {
        var span = f.Ram.At(at, length);
        for (int i = 0; i < span.Length; i++) span[i] = (byte)(seed + i * 13);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_write_then_a_read_round_trips_the_data(bool indirect)
    {
        using var f = new DeviceFixture().Ready();
        Fill(f, Data, 8192, 5);
        f.Submit(f.Driver.BuildRequest(0, 0, VirtioBlkRequestType.Out, 40, Data, 8192, indirect));
        f.Submit(f.Driver.BuildRequest(0, 4, VirtioBlkRequestType.In, 40, Data + 0x4000, 8192, indirect));
        Assert.Equal((0, 0), (f.Driver.StatusOf(0, 0), f.Driver.StatusOf(0, 4)));
        Assert.True(f.Ram.At(Data, 8192).SequenceEqual(f.Ram.At(Data + 0x4000, 8192)));
        var onDisk = new byte[8192];
        Assert.True(f.Storage.TryRead(40 * 512, onDisk));
        Assert.True(onDisk.AsSpan().SequenceEqual(f.Ram.At(Data, 8192)));
        // 2.7.8.2: used.len counts the bytes written into device-writable buffers: the OUT's status byte, the IN's data and status.
        Assert.True(f.Driver.TryTakeUsed(0, out uint id, out uint written));
        Assert.Equal((0u, 1u), (id, written));
        Assert.True(f.Driver.TryTakeUsed(0, out id, out written));
        Assert.Equal((4u, 8193u), (id, written));
        Assert.Equal((8192L, 8192L, 2L), (f.Device.Counters.BytesWritten, f.Device.Counters.BytesRead, f.Device.Counters.RequestsCompleted));
        f.AssertSafe();
    }

    [Fact]
    public void The_device_assumes_no_framing_a_header_split_over_descriptors_still_works()
    {
        // VERSION_1 implies ANY_LAYOUT (2.7.4.3): header in two pieces, data and status in one writable descriptor.
        using var f = new DeviceFixture().Ready();
        ulong header = VirtioDriverLayout.Headers;
        f.Driver.WriteHeader(header, VirtioBlkRequestType.In, 2);
        Assert.True(f.Storage.TryWrite(2 * 512, Enumerable.Range(0, 512).Select(i => (byte)i).ToArray()));
        ulong table = VirtioDriverLayout.Descriptors(0);
        f.Driver.WriteDescriptor(table, 0, header, 5, 1, 1);
        f.Driver.WriteDescriptor(table, 1, header + 5, 11, 1, 2);
        f.Driver.WriteDescriptor(table, 2, Data, 513, 2, 0);
        f.Submit(0);
        Assert.Equal(0, f.Ram.At(Data + 512, 1)[0]);
        Assert.True(f.Ram.At(Data, 512).SequenceEqual(Enumerable.Range(0, 512).Select(i => (byte)i).ToArray()));
        f.AssertSafe();
    }

    [Fact]
    public void Get_id_answers_the_serial_number_nul_padded_to_20_bytes()
    {
        using var f = new DeviceFixture(new VirtioBlkDeviceOptions { SerialNumber = "disk-7" }).Ready();
        f.Ram.At(Data, 20).Fill(0xEE);
        f.Submit(f.Driver.BuildRequest(0, 0, VirtioBlkRequestType.GetId, 0, Data, 20));
        Assert.Equal(0, f.Driver.StatusOf(0, 0));
        Assert.Equal(Encoding.ASCII.GetBytes("disk-7").Concat(new byte[14]), f.Ram.At(Data, 20).ToArray());
    }

    [Fact]
    public void Flush_succeeds_and_an_unknown_type_is_unsupported()
    {
        using var f = new DeviceFixture().Ready();
        f.Submit(f.Driver.BuildRequest(0, 0, VirtioBlkRequestType.Flush, 0, 0, 0));
        f.Submit(f.Driver.BuildRequest(0, 4, VirtioBlkRequestType.Discard, 0, Data, 512));
        f.Submit(f.Driver.BuildRequest(0, 8, (VirtioBlkRequestType)77, 0, 0, 0));
        Assert.Equal(new byte[] { 0, 2, 2 }, new[] { f.Driver.StatusOf(0, 0), f.Driver.StatusOf(0, 4), f.Driver.StatusOf(0, 8) });
        Assert.False(f.NeedsReset);
    }

    [Theory]
    [InlineData(VirtioBlkRequestType.In, 2047UL, 1024u)]    // runs past the last sector (2048 sectors of 512 bytes)
    [InlineData(VirtioBlkRequestType.Out, 2048UL, 512u)]    // starts past it
    [InlineData(VirtioBlkRequestType.Out, ulong.MaxValue, 512u)] // sector × 512 would overflow
    [InlineData(VirtioBlkRequestType.In, 0UL, 700u)]        // not whole sectors
    public void A_request_outside_the_disk_or_not_whole_sectors_fails_with_ioerr(VirtioBlkRequestType type, ulong sector, uint length)
    {
        using var f = new DeviceFixture().Ready();
        f.Submit(f.Driver.BuildRequest(0, 0, type, sector, Data, length));
        Assert.Equal((byte)VirtioBlkStatus.IoError, f.Driver.StatusOf(0, 0));
        Assert.Equal(1L, f.Device.Counters.RequestsFailed);
        Assert.False(f.NeedsReset);
        f.AssertSafe();
    }

    [Theory]
    [InlineData(VirtioBlkRequestType.In)]
    [InlineData(VirtioBlkRequestType.Out)]
    public void A_data_buffer_running_past_ram_fails_the_request_and_touches_nothing_outside(VirtioBlkRequestType type)
    {
        using var f = new DeviceFixture().Ready();
        ulong nearEnd = VirtioDriverLayout.Base + VirtioDriverLayout.RamSize - 512;
        f.Submit(f.Driver.BuildRequest(0, 0, type, 0, nearEnd, 4096));
        Assert.Equal((byte)VirtioBlkStatus.IoError, f.Driver.StatusOf(0, 0));
        f.Submit(f.Driver.BuildRequest(0, 4, type, 0, 0xFFFF_FFFF_FFFF_F000, 4096));
        Assert.Equal((byte)VirtioBlkStatus.IoError, f.Driver.StatusOf(0, 4));
        Assert.False(f.NeedsReset);
        f.AssertSafe();
    }

    [Fact]
    public void A_header_the_device_cannot_read_fails_the_request()
    {
        using var f = new DeviceFixture().Ready();
        ulong table = VirtioDriverLayout.Descriptors(0);
        f.Driver.WriteDescriptor(table, 0, VirtioDriverLayout.Headers, 8, 1, 1);   // 8 of 16 header bytes
        f.Driver.WriteDescriptor(table, 1, VirtioDriverLayout.Headers + 16, 1, 2, 0);
        f.Ram.At(VirtioDriverLayout.Headers + 16, 1)[0] = 0xFF;
        f.Submit(0);
        Assert.Equal((byte)VirtioBlkStatus.IoError, f.Ram.At(VirtioDriverLayout.Headers + 16, 1)[0]);
        Assert.False(f.NeedsReset);
    }

    [Fact]
    public void A_buffer_listed_both_readable_and_writable_is_answered_and_stays_in_ram()
    {
        // The same guest bytes as an OUT's readable data and as its writable status: the device reads the
        // data, writes the sector, then the status byte over the data's first byte. Protocol-correct, no harm.
        using var f = new DeviceFixture().Ready();
        ulong table = VirtioDriverLayout.Descriptors(0);
        f.Driver.WriteHeader(VirtioDriverLayout.Headers, VirtioBlkRequestType.Out, 3);
        Fill(f, Data, 512, 1);
        f.Driver.WriteDescriptor(table, 0, VirtioDriverLayout.Headers, 16, 1, 1);
        f.Driver.WriteDescriptor(table, 1, Data, 512, 1, 2);
        f.Driver.WriteDescriptor(table, 2, Data, 512, 2, 0);
        f.Submit(0);
        Assert.True(f.Driver.TryTakeUsed(0, out _, out uint written));
        Assert.Equal(1u, written);
        Assert.Equal(0, f.Ram.At(Data + 511, 1)[0]); // the status: the last writable byte
        f.AssertSafe();
    }
}
