using System.Runtime.CompilerServices;

namespace ShadowIo;

/// <summary>
/// KVM's rule for whether an ioeventfd fires on a write (virt/kvm/eventfd.c,
/// <c>ioeventfd_in_range</c>): the access starts at the doorbell, has exactly its width, and,
/// when the doorbell has a datamatch, its bytes equal it. Every trap path (a KVM exit, a vfio-user
/// region write) applies the same rule so a doorbell behaves alike whatever carried it.
/// </summary>
public static class IoEventFdMatch
{
    /// <summary>Whether a <paramref name="size"/>-byte write of <paramref name="value"/> at the doorbell's offset would fire it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Matches(in DoorbellEntry entry, int size, ulong value) =>
        size == entry.Width && (!entry.HasDataMatch || TruncateToWidth(value, size) == entry.DataMatch);

    /// <summary>The low <paramref name="width"/> bytes of <paramref name="value"/>: all KVM compares.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong TruncateToWidth(ulong value, int width) => width >= 8 ? value : value & ((1UL << (width * 8)) - 1);
}
