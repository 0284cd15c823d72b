using Iced.Intel;
using ShadowIo.Devices.Virtio;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>
/// Assembles a virtio-blk driver that runs at CPL3 with no operating system: the status handshake
/// and queue set-up through the common configuration (3.1.1), then requests submitted on queue 0
/// the way Linux's virtio_ring does it (ring entry, then the available idx, full barrier, then the
/// notification rule: EVENT_IDX's <c>vring_need_event(avail_event, new, old)</c> or the device's
/// VIRTQ_USED_F_NO_NOTIFY) and completions reaped from the used ring by polling (the guest takes
/// no interrupts: it asks for none, VIRTQ_AVAIL_F_NO_INTERRUPT or a far used_event).
/// </summary>
/// <remarks>
/// Each request uses one descriptor (slot s = request number mod depth) pointing at indirect table s,
/// built by the host: header s, data buffer s (4 KiB), status s. The guest writes the header's type
/// and sector itself; an OUT stamps the block number into its buffer's first and last qword, an IN
/// checks the stamps it read back. Registers in the I/O loop: rbp = BAR, r8 = statistics, r9 =
/// headers, r10d = available idx, r11d = last used idx, r12 = submitted, r13 = completed, r14 = in
/// flight, ebx = the used idx read; rax, rcx, rdx, rsi, rdi scratch.
/// </remarks>
internal static class VirtioGuestDriver
{
    private const int StatusOffset = (int)VirtioCommonConfigRegisters.DeviceStatusOffset;
    private const long TimeoutSpins = 1L << 28;

    /// <summary>Reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK (read back), queue 0, DRIVER_OK (read back).</summary>
    public static Assembler Setup(VirtioFeatures features)
    {
        var a = new Assembler(64);
        a.mov(rbp, VirtioGuestLayout.Bar);
        a.mov(r8, VirtioGuestLayout.Statistics);
        a.mov(__byte_ptr[rbp + StatusOffset], 0);
        a.mov(__byte_ptr[rbp + StatusOffset], (byte)VirtioDeviceStatus.Acknowledge);
        a.mov(__byte_ptr[rbp + StatusOffset], (byte)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver));
        a.mov(__dword_ptr[rbp + (int)VirtioCommonConfigRegisters.DriverFeatureSelectOffset], 0);
        a.mov(__dword_ptr[rbp + (int)VirtioCommonConfigRegisters.DriverFeatureOffset], (uint)features);
        a.mov(__dword_ptr[rbp + (int)VirtioCommonConfigRegisters.DriverFeatureSelectOffset], 1);
        a.mov(__dword_ptr[rbp + (int)VirtioCommonConfigRegisters.DriverFeatureOffset], (uint)((ulong)features >> 32));
        a.mov(__byte_ptr[rbp + StatusOffset], (byte)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk));
        a.movzx(eax, __byte_ptr[rbp + StatusOffset]);
        a.mov(__qword_ptr[r8 + GuestCounters.StatusAfterFeatures], rax);
        a.mov(__word_ptr[rbp + (int)VirtioCommonConfigRegisters.QueueSelectOffset], 0);
        a.mov(__word_ptr[rbp + (int)VirtioCommonConfigRegisters.QueueSizeOffset], VirtioGuestLayout.QueueSize);
        a.mov(rax, VirtioGuestLayout.Descriptors);
        a.mov(__qword_ptr[rbp + (int)VirtioCommonConfigRegisters.QueueDescOffset], rax);
        a.mov(rax, VirtioGuestLayout.Avail);
        a.mov(__qword_ptr[rbp + (int)VirtioCommonConfigRegisters.QueueDriverOffset], rax);
        a.mov(rax, VirtioGuestLayout.Used);
        a.mov(__qword_ptr[rbp + (int)VirtioCommonConfigRegisters.QueueDeviceOffset], rax);
        a.mov(__word_ptr[rbp + (int)VirtioCommonConfigRegisters.QueueEnableOffset], 1);
        a.mov(__byte_ptr[rbp + StatusOffset], (byte)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk | VirtioDeviceStatus.DriverOk));
        a.movzx(eax, __byte_ptr[rbp + StatusOffset]);
        a.mov(__qword_ptr[r8 + GuestCounters.StatusAfterDriverOk], rax);
        a.xor(eax, eax);
        ShadowIo.Testing.TestGuest.EmitFinish(a);
        return a;
    }

    /// <summary>
    /// <paramref name="count"/> requests of <paramref name="type"/> (IN or OUT) on blocks
    /// <paramref name="firstBlock"/>.. at queue depth <paramref name="depth"/> (a power of two up to
    /// <see cref="VirtioGuestLayout.MaxDepth"/>). Finishes with AL = 0, or 2 when a completion never came.
    /// </summary>
    public static Assembler Requests(VirtioBlkRequestType type, long firstBlock, int count, int depth, bool eventIdx)
    {
        if (depth <= 0 || depth > VirtioGuestLayout.MaxDepth || (depth & (depth - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(depth));
        const int mask = VirtioGuestLayout.QueueSize - 1;
        var a = new Assembler(64);
        var top = a.CreateLabel("top");
        var submitLoop = a.CreateLabel("submit");
        var submitDone = a.CreateLabel("submitted");
        var skipKick = a.CreateLabel("skip_kick");
        var wait = a.CreateLabel("wait");
        var waitLoop = a.CreateLabel("wait_loop");
        var reapLoop = a.CreateLabel("reap");
        var inOrder = a.CreateLabel("in_order");
        var statusOk = a.CreateLabel("status_ok");
        var dataOk = a.CreateLabel("data_ok");
        var dataBad = a.CreateLabel("data_bad");
        var timedOut = a.CreateLabel("timed_out");
        var save = a.CreateLabel("save");

        a.mov(rbp, VirtioGuestLayout.Bar);
        a.mov(r8, VirtioGuestLayout.Statistics);
        a.mov(r9, VirtioGuestLayout.Headers);
        a.mov(r10d, __dword_ptr[r8 + GuestCounters.AvailIdx]);
        a.mov(r11d, __dword_ptr[r8 + GuestCounters.LastUsed]);
        a.xor(r12d, r12d);
        a.xor(r13d, r13d);
        a.xor(r14d, r14d);

        a.Label(ref top);
        a.mov(esi, r10d); // the available idx before this batch ("old")
        a.Label(ref submitLoop);
        a.cmp(r14, depth);
        a.jae(submitDone);
        a.cmp(r12, count);
        a.jae(submitDone);
        a.mov(rdx, r12);
        a.and(rdx, depth - 1);                        // slot
        a.mov(rdi, rdx);
        a.shl(rdi, 5);
        a.add(rdi, r9);                               // its header
        a.mov(__dword_ptr[rdi], (uint)type);
        a.mov(__dword_ptr[rdi + 4], 0);
        a.mov(rax, r12);
        a.add(rax, checked((int)firstBlock));
        a.shl(rax, 3);                                // sector = block × 8
        a.mov(__qword_ptr[rdi + 8], rax);
        a.mov(__byte_ptr[rdi + 16], 0xFF);            // status, so a request the device skipped shows
        if (type == VirtioBlkRequestType.Out)
        {
            a.mov(rcx, rdx);
            a.shl(rcx, 12);
            a.mov(rax, VirtioGuestLayout.Data);
            a.add(rcx, rax);
            a.mov(rax, r12);
            a.add(rax, checked((int)firstBlock));
            a.mov(__qword_ptr[rcx], rax);
            a.not(rax);
            a.mov(__qword_ptr[rcx + VirtioGuestLayout.BlockBytes - 8], rax);
        }
        a.mov(eax, r10d);
        a.and(eax, mask);
        a.mov(rcx, VirtioGuestLayout.Avail + 4);
        a.mov(__word_ptr[rcx + rax * 2], dx);         // ring[idx % size] = head (slot s's descriptor)
        a.inc(r10d);
        a.inc(r12);
        a.inc(r14);
        a.jmp(submitLoop);

        a.Label(ref submitDone);
        a.cmp(r10w, si);
        a.je(wait);                                   // nothing new (the ring is full of in-flight requests)
        a.mov(rcx, VirtioGuestLayout.Avail + 2);
        a.mov(__word_ptr[rcx], r10w);                 // publish: x86 keeps the ring stores before it
        a.inc(__qword_ptr[r8 + GuestCounters.KickDecisions]);
        a.mfence();                                   // virtio_mb: the idx before the device's suppression is read
        if (eventIdx)
        {
            a.mov(rcx, VirtioGuestLayout.AvailEvent);
            a.movzx(eax, __word_ptr[rcx]);
            a.mov(ecx, r10d);
            a.sub(ecx, eax);
            a.dec(ecx);
            a.and(ecx, 0xFFFF);                       // (u16)(new − avail_event − 1)
            a.mov(edx, r10d);
            a.sub(edx, esi);
            a.and(edx, 0xFFFF);                       // (u16)(new − old)
            a.cmp(ecx, edx);
            a.jae(skipKick);
        }
        else
        {
            a.mov(rcx, VirtioGuestLayout.Used);
            a.test(__word_ptr[rcx], 1);               // VIRTQ_USED_F_NO_NOTIFY
            a.jnz(skipKick);
        }
        a.mov(__word_ptr[rbp + (int)VirtioPciLayout.NotifyOffset], 0); // queue 0's doorbell: its index
        a.inc(__qword_ptr[r8 + GuestCounters.NotifyWrites]);
        a.jmp(wait);
        a.Label(ref skipKick);
        a.inc(__qword_ptr[r8 + GuestCounters.NotifiesSkipped]);

        a.Label(ref wait);
        a.mov(rsi, TimeoutSpins);
        a.mov(rcx, VirtioGuestLayout.Used + 2);
        a.Label(ref waitLoop);
        a.movzx(ebx, __word_ptr[rcx]);
        a.cmp(bx, r11w);
        a.jne(reapLoop);
        a.pause();
        a.dec(rsi);
        a.jnz(waitLoop);
        a.jmp(timedOut);

        a.Label(ref reapLoop);
        a.mov(edx, r11d);
        a.and(edx, mask);
        a.mov(rcx, VirtioGuestLayout.Used + 4);
        a.mov(edi, __dword_ptr[rcx + rdx * 8]);       // used element id: the head, i.e. the slot
        a.mov(rcx, r13);
        a.and(rcx, depth - 1);
        a.cmp(rdi, rcx);
        a.je(inOrder);
        a.inc(__qword_ptr[r8 + GuestCounters.OrderErrors]);
        a.Label(ref inOrder);
        a.mov(rdx, rdi);
        a.and(rdx, depth - 1);                        // a hostile id stays inside the slots
        a.mov(rdi, rdx);
        a.shl(rdi, 5);
        a.add(rdi, r9);
        a.cmp(__byte_ptr[rdi + 16], 0);
        a.je(statusOk);
        a.inc(__qword_ptr[r8 + GuestCounters.StatusErrors]);
        a.Label(ref statusOk);
        if (type == VirtioBlkRequestType.In)
        {
            a.shl(rdx, 12);
            a.mov(rax, VirtioGuestLayout.Data);
            a.add(rdx, rax);
            a.mov(rax, r13);
            a.add(rax, checked((int)firstBlock));
            a.cmp(__qword_ptr[rdx], rax);
            a.jne(dataBad);
            a.not(rax);
            a.cmp(__qword_ptr[rdx + VirtioGuestLayout.BlockBytes - 8], rax);
            a.je(dataOk);
            a.Label(ref dataBad);
            a.inc(__qword_ptr[r8 + GuestCounters.DataErrors]);
            a.Label(ref dataOk);
        }
        a.inc(r11d);
        a.inc(r13);
        a.dec(r14);
        a.inc(__qword_ptr[r8 + GuestCounters.Completed]);
        a.cmp(r11w, bx);
        a.jne(reapLoop);
        a.cmp(r13, count);
        a.jb(top);
        a.xor(eax, eax);
        a.jmp(save);

        a.Label(ref timedOut);
        a.inc(__qword_ptr[r8 + GuestCounters.TimedOut]);
        a.mov(eax, 2);
        a.Label(ref save);
        a.movzx(r10d, r10w);
        a.mov(__qword_ptr[r8 + GuestCounters.AvailIdx], r10);
        a.movzx(r11d, r11w);
        a.mov(__qword_ptr[r8 + GuestCounters.LastUsed], r11);
        ShadowIo.Testing.TestGuest.EmitFinish(a);
        return a;
    }
}
