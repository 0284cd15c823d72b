using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Devices.Nvme;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Testing;
using Xunit;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// A guest resets the controller (CC.EN 1→0) after writing through shadow doorbells, then sets it
/// up again: the reset must hand the doorbells back to trapping (the binding detaches the guest
/// page), the new Doorbell Buffer Config must attach the new pages, and the namespace must still
/// hold what was written before the reset.
/// </summary>
public sealed class ControllerResetTests
{
    private const ulong Bar = GuestDriverSteps.Bar;
    private const int Entries = GuestDriverSteps.Entries;
    private const int Blocks = GuestDriverSteps.Blocks;
    private const int Pass = 7;

    [Fact]
    public void Data_written_before_a_controller_reset_reads_back_after_the_guest_sets_up_again_with_new_shadow_pages()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        var layout = new WorkloadLayout(ShadowIo.Testing.GuestLayout.Data, Entries, Blocks, Blocks);
        using var guest = TestGuest.Create(kvm, 16UL << 20);
        using var storage = new MemoryBlockStorage(Blocks * 4096L);
        using var host = new ControllerHost(guest, storage, Bar, DoorbellBindingMode.GuestShadow, polling: false, TimeSpan.Zero, TimeSpan.Zero);
        var memory = guest.Memory;

        // Set up with the first pair of shadow pages, write every block.
        GuestDriverSteps.SetUp(guest, host, layout, layout.ShadowDoorbells, layout.EventIndexes);
        for (int block = 0; block < Blocks; block++)
        {
            DataPatterns.Fill(Page, Pass, block);
            Assert.True(memory.TryWrite(layout.WriteBuffer(block), Page));
        }
        var writeJob = GuestDriverSteps.IoJob(memory, layout, SubmissionEntries.WriteOpcode, layout.WriteBuffers, layout.ShadowDoorbells, layout.EventIndexes);
        var writes = GuestDriverSteps.Run(guest, host, layout, p => p.Run(writeJob));
        Assert.Equal(Blocks, writes.Statistics.Completions);
        Assert.Equal(0, writes.Statistics.ErrorCompletions);
        Assert.Equal(0, writes.UserspaceExits); // I/O doorbells were ioeventfds

        // Reset: the controller drops its queues and the guest's shadow pages.
        GuestDriverSteps.Run(guest, host, layout, p => p.DisableController(maxReadyPolls: 1000));
        Assert.False(host.Controller.IsDoorbellBufferActive);
        Assert.False(host.Binding.IsGuestShadowAttached);

        // Set up again from zeroed queues, this time naming the pages the other way round.
        GuestDriverSteps.SetUp(guest, host, layout, layout.EventIndexes, layout.ShadowDoorbells);
        Assert.True(memory.TryGetSpan(layout.ReadBuffers, Blocks * 4096, out var readBuffers));
        readBuffers.Clear();
        var readJob = GuestDriverSteps.IoJob(memory, layout, SubmissionEntries.ReadOpcode, layout.ReadBuffers, layout.EventIndexes, layout.ShadowDoorbells);
        var reads = GuestDriverSteps.Run(guest, host, layout, p => p.Run(readJob));
        Assert.Equal(Blocks, reads.Statistics.Completions);
        Assert.Equal(0, reads.Statistics.ErrorCompletions);
        Assert.Equal(0, reads.UserspaceExits);
        for (int block = 0; block < Blocks; block++)
        {
            Assert.True(memory.TryRead(layout.ReadBuffer(block), Page));
            Assert.True(DataPatterns.Matches(Page, Pass, block), $"block {block} did not survive the controller reset");
        }
        Assert.Equal(0, host.Controller.Counters.InternalErrors);
    }

    private static readonly byte[] Page = new byte[4096];
}
