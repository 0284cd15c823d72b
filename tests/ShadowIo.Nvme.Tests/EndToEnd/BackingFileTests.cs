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
    public void A_file_backed_namespace_holds_what_the_guest_wrote_last_where_its_prp_lists_put_it()
    {
        RequireKvm.Present();
        using (var file = File.Create(_path)) file.SetLength(Blocks * 4096L);
        using var kvm = KvmSystem.Open();

        var result = NvmeWorkload.Run(kvm, WorkloadMode.IoEventFd, new WorkloadSettings { Blocks = Blocks, QueueDepth = 8, BackingFile = _path }, progress: null);

        Assert.True(result.Verified);
        Assert.Equal(result.Blocks, result.VerifiedBlocks);
        // The last pass (pattern 3 after one round's passes 1 and 2) wrote 16 KiB per command whose
        // pages the PRP list names in reverse: file block 4t + k holds the pattern of block 4t + 3 - k.
        byte[] contents = File.ReadAllBytes(_path);
        for (int block = 0; block < Blocks; block++)
        {
            int source = block / 4 * 4 + 3 - block % 4;
            Assert.True(DataPatterns.Matches(contents.AsSpan(block * 4096, 4096), pass: 3, source),
                $"file block {block} does not hold block {source}'s pattern from the PRP-list pass");
        }
    }

    public void Dispose() => File.Delete(_path);
}
