using System.Buffers.Binary;
using ShadowIo.Devices.Nvme;
using Xunit;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>Read, Write, Flush, Write Zeroes; PRP1/PRP2, PRP lists crossing pages and chained lists.</summary>
public sealed class IoCommandTests : IDisposable
{
    private const ulong Data = NvmeTestHost.DataArea;
    private const ulong ListArea = NvmeTestHost.DataArea + 0x20_0000;
    private readonly NvmeTestHost _host = new(namespaceBytes: 4 << 20);
    private readonly HostQueue _io;

    public IoCommandTests()
    {
        _host.Enable();
        _io = _host.CreateIoQueuePair(1);
    }

    public void Dispose() => _host.Dispose();

    private CompletionEntry Io(SubmissionEntry e) => _host.Execute(_io, e);

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private byte[] NamespaceBytes(long offset, int length)
    {
        var b = new byte[length];
        Assert.True(_host.Storage.TryRead(offset, b));
        return b;
    }

    [Theory]
    [InlineData(1, 0)]       // 512 bytes inside one page
    [InlineData(8, 0)]       // exactly one page
    [InlineData(8, 0x200)]   // one page starting mid-page: PRP2 carries the rest
    [InlineData(16, 0)]      // two pages: PRP2 is a data pointer
    [InlineData(24, 0x400)]  // crosses three pages from an offset: PRP list
    [InlineData(256, 0)]     // 128 KiB = MDTS: a 32-entry PRP list
    public void Write_then_read_round_trips_through_prps(int blocks, int offsetInPage)
    {
        int bytes = blocks * 512;
        var pattern = Pattern(bytes, blocks + offsetInPage);
        ulong buffer = Data + (ulong)offsetInPage;
        pattern.CopyTo(_host.Ram.At(buffer, bytes));
        var (prp1, prp2) = BuildPrps(buffer, bytes, ListArea);

        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.Write, 100, blocks, prp1, prp2)).Status);
        Assert.Equal(pattern, NamespaceBytes(100 * 512, bytes));

        _host.Ram.At(buffer, bytes).Clear();
        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.Read, 100, blocks, prp1, prp2)).Status);
        Assert.Equal(pattern, _host.Ram.At(buffer, bytes).ToArray());
    }

    /// <summary>PRP1/PRP2 for a contiguous buffer; a PRP list at <paramref name="list"/> when it spans more than two pages.</summary>
    private (ulong Prp1, ulong Prp2) BuildPrps(ulong buffer, int bytes, ulong list)
    {
        int first = Math.Min(bytes, 4096 - (int)(buffer & 0xFFF));
        int rest = bytes - first;
        if (rest == 0) return (buffer, 0);
        ulong next = (buffer & ~0xFFFUL) + 0x1000;
        if (rest <= 4096) return (buffer, next);
        int pages = (rest + 4095) / 4096;
        for (int i = 0; i < pages; i++) BinaryPrimitives.WriteUInt64LittleEndian(_host.Ram.At(list + (ulong)i * 8, 8), next + (ulong)i * 0x1000);
        return (buffer, list);
    }

    [Fact]
    public void Chained_prp_lists_are_followed_across_list_pages()
    {
        // 64 KiB (16 pages) where the list starts 8 bytes before the end of its page: entry 1 in
        // that page is the pointer to the next list page.
        int bytes = 16 * 4096;
        var pattern = Pattern(bytes, 7);
        ulong prp1 = Data;
        pattern.CopyTo(_host.Ram.At(Data, bytes));
        ulong list1 = ListArea + 0x1000 - 16;      // two slots left: data page 2, then pointer
        ulong list2 = ListArea + 0x3000;
        BinaryPrimitives.WriteUInt64LittleEndian(_host.Ram.At(list1, 8), Data + 0x1000);
        BinaryPrimitives.WriteUInt64LittleEndian(_host.Ram.At(list1 + 8, 8), list2);
        for (int i = 0; i < 14; i++) BinaryPrimitives.WriteUInt64LittleEndian(_host.Ram.At(list2 + (ulong)i * 8, 8), Data + (ulong)(i + 2) * 0x1000);

        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.Write, 0, bytes / 512, prp1, list1)).Status);
        Assert.Equal(pattern, NamespaceBytes(0, bytes));
    }

    [Fact]
    public void A_prp_list_that_points_back_at_itself_ends_with_an_error()
    {
        // A list of one entry per page, each the last slot, pointing at itself: never any data.
        ulong list = ListArea + 0x1000 - 8;
        BinaryPrimitives.WriteUInt64LittleEndian(_host.Ram.At(list, 8), list);
        var c = Io(Commands.Io(IoOpcode.Write, 0, 64, Data, list));
        Assert.Equal(NvmeStatus.InvalidPrpOffset, c.Status);
        Assert.Equal(0, _host.Controller.Counters.InternalErrors);
    }

    [Fact]
    public void Prps_outside_ram_or_misaligned_fail_without_touching_the_namespace()
    {
        var before = NamespaceBytes(0, 64 * 512);
        ulong end = NvmeTestHost.RamBase + NvmeTestHost.RamSize;
        Assert.Equal(NvmeStatus.DataTransferError, Io(Commands.Io(IoOpcode.Write, 0, 8, 0x1000)).Status);
        Assert.Equal(NvmeStatus.DataTransferError, Io(Commands.Io(IoOpcode.Write, 0, 16, Data, end)).Status);       // PRP2 page outside
        Assert.Equal(NvmeStatus.DataTransferError, Io(Commands.Io(IoOpcode.Write, 0, 64, Data, end - 8)).Status);   // list runs off RAM
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Io(Commands.Io(IoOpcode.Write, 0, 8, Data + 1)).Status);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Io(Commands.Io(IoOpcode.Write, 0, 16, Data, Data + 0x1800)).Status);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Io(Commands.Io(IoOpcode.Write, 0, 64, Data, ListArea + 4)).Status);
        BinaryPrimitives.WriteUInt64LittleEndian(_host.Ram.At(ListArea, 8), Data + 0x1234);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Io(Commands.Io(IoOpcode.Write, 0, 64, Data, ListArea)).Status);
        Assert.Equal(NvmeStatus.DataTransferError, Io(Commands.Io(IoOpcode.Read, 0, 8, ulong.MaxValue - 0xFFF)).Status);
        Assert.Equal(before, NamespaceBytes(0, 64 * 512));
        Assert.True(_host.Ram.RedZonesIntact());
    }

    [Fact]
    public void Lba_range_namespace_and_transfer_size_are_checked()
    {
        ulong blocks = (4 << 20) / 512;
        Assert.Equal(NvmeStatus.LbaOutOfRange, Io(Commands.Io(IoOpcode.Read, blocks, 1, Data)).Status);
        Assert.Equal(NvmeStatus.LbaOutOfRange, Io(Commands.Io(IoOpcode.Write, blocks - 1, 2, Data)).Status);
        Assert.Equal(NvmeStatus.LbaOutOfRange, Io(Commands.Io(IoOpcode.Write, ulong.MaxValue, 2, Data)).Status);
        Assert.Equal(NvmeStatus.LbaOutOfRange, Io(Commands.Io(IoOpcode.WriteZeroes, blocks - 4, 5, 0)).Status);
        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.Read, blocks - 1, 1, Data)).Status);
        Assert.Equal(NvmeStatus.InvalidNamespaceOrFormat, Io(Commands.Io(IoOpcode.Read, 0, 1, Data, nsid: 2)).Status);
        Assert.Equal(NvmeStatus.InvalidNamespaceOrFormat, Io(Commands.Io(IoOpcode.Write, 0, 1, Data, nsid: 0)).Status);
        Assert.Equal(NvmeStatus.InvalidField, Io(Commands.Io(IoOpcode.Read, 0, 257, Data, ListArea)).Status); // > MDTS
        Assert.Equal(NvmeStatus.InvalidOpcode, Io(Commands.Io((IoOpcode)0x7F, 0, 1, Data)).Status);
        Assert.Equal(NvmeStatus.InvalidOpcode, Io(Commands.Io((IoOpcode)AdminOpcode.Identify, 0, 1, Data)).Status);
    }

    [Fact]
    public void Write_zeroes_clears_exactly_its_range_and_flush_succeeds()
    {
        var pattern = Pattern(32 * 512, 3);
        Assert.True(_host.Storage.TryWrite(0, pattern));
        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.WriteZeroes, 8, 8, 0)).Status);
        var now = NamespaceBytes(0, 32 * 512);
        Assert.Equal(pattern.AsSpan(0, 8 * 512).ToArray(), now.AsSpan(0, 8 * 512).ToArray());
        Assert.True(now.AsSpan(8 * 512, 8 * 512).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(pattern.AsSpan(16 * 512).ToArray(), now.AsSpan(16 * 512).ToArray());

        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.Flush, 0, 1, 0)).Status);
        Assert.Equal(NvmeStatus.Success, Io(Commands.Io(IoOpcode.Flush, 0, 1, 0, nsid: 0xFFFF_FFFF)).Status);
        Assert.Equal(NvmeStatus.InvalidNamespaceOrFormat, Io(Commands.Io(IoOpcode.Flush, 0, 1, 0, nsid: 3)).Status);
    }

    [Fact]
    public void File_backed_namespace_is_sparse_and_round_trips()
    {
        string path = Path.Combine(Path.GetTempPath(), $"shadowio-nvme-{Guid.NewGuid():N}.img");
        try
        {
            using (var host = new NvmeTestHost(storage: FileBlockStorage.Open(path, 64L << 20)))
            {
                host.Enable();
                var io = host.CreateIoQueuePair(2);
                var pattern = Pattern(4096, 11);
                pattern.CopyTo(host.Ram.At(Data, 4096));
                Assert.Equal(NvmeStatus.Success, host.Execute(io, Commands.Io(IoOpcode.Write, 100_000, 8, Data)).Status);
                host.Ram.At(Data, 4096).Clear();
                Assert.Equal(NvmeStatus.Success, host.Execute(io, Commands.Io(IoOpcode.Read, 100_000, 8, Data)).Status);
                Assert.Equal(pattern, host.Ram.At(Data, 4096).ToArray());
                Assert.Equal(NvmeStatus.Success, host.Execute(io, Commands.Io(IoOpcode.Flush, 0, 1, 0)).Status);
                Assert.Equal((ulong)(64 << 20) / 512, host.Controller.BlockCount);
            }
            Assert.Equal(64L << 20, new FileInfo(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
