using System.Runtime.InteropServices;
using ShadowIo.Kvm;
using ShadowIo.Kvm.Native;

namespace ShadowIo.Runtime.Tests.Kvm;

/// <summary>The bytes KVM_IOEVENTFD receives, for the mainline and the post-write layouts.</summary>
public sealed class IoEventFdEncodingTests
{
    [Fact]
    public void A_post_write_registration_encodes_post_addr_at_32_and_the_flag_bit_5()
    {
        var r = new IoEventFdRegistration(0xFEB0_1000, 4, 17) { PostAddress = unchecked((nint)0x7F00_1234_5678), DataMatch = 0x99 };
        var native = IoEventFdEncoding.EncodePostWrite(r, KvmIoEventFdFlags.DataMatch);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<KvmIoEventFdPostWrite>(in native));

        Assert.Equal(64, bytes.Length);
        Assert.Equal(0x99UL, BitConverter.ToUInt64(bytes[0..8]));
        Assert.Equal(0xFEB0_1000UL, BitConverter.ToUInt64(bytes[8..16]));
        Assert.Equal(4u, BitConverter.ToUInt32(bytes[16..20]));
        Assert.Equal(17, BitConverter.ToInt32(bytes[20..24]));
        Assert.Equal((1u << 5) | 1u, BitConverter.ToUInt32(bytes[24..28]));
        Assert.Equal(0u, BitConverter.ToUInt32(bytes[28..32]));
        Assert.Equal(0x7F00_1234_5678UL, BitConverter.ToUInt64(bytes[32..40]));
        Assert.True(bytes[40..].IndexOfAnyExcept((byte)0) < 0, "pad[24] must be zero");
    }

    [Fact]
    public void A_mainline_registration_leaves_the_pad_zero_and_sets_only_the_asked_flags()
    {
        var r = new IoEventFdRegistration(0x1004, 2, 5);
        var native = IoEventFdEncoding.Encode(r, KvmIoEventFdFlags.Deassign);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<KvmIoEventFd>(in native));

        Assert.Equal(64, bytes.Length);
        Assert.Equal(0UL, BitConverter.ToUInt64(bytes[0..8]));
        Assert.Equal(0x1004UL, BitConverter.ToUInt64(bytes[8..16]));
        Assert.Equal(2u, BitConverter.ToUInt32(bytes[16..20]));
        Assert.Equal(5, BitConverter.ToInt32(bytes[20..24]));
        Assert.Equal(4u, BitConverter.ToUInt32(bytes[24..28]));
        Assert.True(bytes[28..].IndexOfAnyExcept((byte)0) < 0, "pad[36] must be zero");
    }

    [Fact]
    public void The_seed_rfc_layout_would_have_moved_len_fd_and_flags_which_is_why_it_was_dropped()
    {
        // Seed RFC: vaddr inserted after addr → len at 24, fd at 28, flags at 32. The revised layout keeps 16/20/24.
        Assert.Equal(16, (int)Marshal.OffsetOf<KvmIoEventFdPostWrite>(nameof(KvmIoEventFdPostWrite.Len)));
        Assert.Equal(20, (int)Marshal.OffsetOf<KvmIoEventFdPostWrite>(nameof(KvmIoEventFdPostWrite.Fd)));
        Assert.Equal(24, (int)Marshal.OffsetOf<KvmIoEventFdPostWrite>(nameof(KvmIoEventFdPostWrite.Flags)));
        Assert.Equal(32, (int)Marshal.OffsetOf<KvmIoEventFdPostWrite>(nameof(KvmIoEventFdPostWrite.PostAddr)));
    }
}
