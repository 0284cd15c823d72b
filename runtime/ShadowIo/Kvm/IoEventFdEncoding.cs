using ShadowIo.Kvm.Native;

namespace ShadowIo.Kvm;

/// <summary>Turns an <see cref="IoEventFdRegistration"/> into the kernel's struct (mainline or post-write layout).</summary>
internal static class IoEventFdEncoding
{
    /// <summary>The mainline layout; <paramref name="flags"/> are used as given (no post-write bit).</summary>
    public static KvmIoEventFd Encode(in IoEventFdRegistration r, KvmIoEventFdFlags flags) => new()
    {
        DataMatch = r.DataMatch ?? 0,
        Addr = r.Address,
        Len = (uint)r.Length,
        Fd = r.EventFd,
        Flags = (uint)flags,
    };

    /// <summary>The revised patch's layout: <c>post_addr</c> after <c>flags</c>, with the POST_WRITE flag set.</summary>
    public static KvmIoEventFdPostWrite EncodePostWrite(in IoEventFdRegistration r, KvmIoEventFdFlags flags) => new()
    {
        DataMatch = r.DataMatch ?? 0,
        Addr = r.Address,
        Len = (uint)r.Length,
        Fd = r.EventFd,
        Flags = (uint)(flags | KvmIoEventFdFlags.PostWrite),
        PostAddr = (ulong)r.PostAddress,
    };
}
