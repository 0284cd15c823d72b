using ShadowIo.Kvm;
using ShadowIo.Samples.Nvme.Guest;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>The same workload with the namespace in a sparse file: the data must land in the file.</summary>
public sealed class BackingFileTests : IDisposable
{
    private const int Blocks = 64;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"shadowio-e2e-{Guid.NewGuid():N}.img");

    [Fact]
    public void A_file_backed_namespace_holds_the_last_pattern_of_every_block_after_the_guest_wrote_it()
    {
        KvmRequirement.Present();
        using (var file = File.Create(_path)) file.SetLength(Blocks * 4096L);
        using var kvm = KvmSystem.Open();

        var result = NvmeWorkload.Run(kvm, WorkloadMode.IoEventFd, new WorkloadSettings { Blocks = Blocks, QueueDepth = 8, BackingFile = _path }, progress: null);

        Assert.True(result.Verified);
        Assert.Equal(2L * Blocks, result.VerifiedBlocks);
        byte[] contents = File.ReadAllBytes(_path);
        for (int block = 0; block < Blocks; block++)
            Assert.True(DataPatterns.Matches(contents.AsSpan(block * 4096, 4096), pass: 2, block), $"block {block} of the file does not hold the QD8 pass's pattern");
    }

    public void Dispose() => File.Delete(_path);
}
