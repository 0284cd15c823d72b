namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// One boot of the Debian test guest under QEMU TCG, as the comparison asks for it. The test
/// suite boots through its LinuxGuest fixture, the demo's <c>linux</c> verb through
/// <see cref="QemuGuestBooter"/>; both give back what the script printed.
/// </summary>
/// <param name="Files">Files added to the initramfs (guest path → text).</param>
/// <param name="InheritedFds">Descriptors QEMU must inherit under the same numbers.</param>
/// <param name="ConsoleLine">Every console line as it arrives (job markers drive the counters).</param>
internal sealed record GuestBootRequest(
    string Script,
    IReadOnlyDictionary<string, string> Files,
    IReadOnlyList<string> QemuArgs,
    IReadOnlyList<string> KernelArgs,
    IReadOnlyList<int> InheritedFds,
    Action<string> ConsoleLine,
    int MemoryMiB,
    TimeSpan Timeout);

/// <summary>Boots the guest once and returns the script's output (between /init's markers).</summary>
internal delegate Task<string> GuestBooter(GuestBootRequest request, CancellationToken cancellationToken);
