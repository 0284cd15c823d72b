namespace ShadowIo.Linux.Tests.Qemu.Support;

/// <summary>Counts this process's open descriptors whose target matches (e.g. "anon_inode:[eventfd]").</summary>
internal static class OpenDescriptors
{
    public static int Count(string targetContains) =>
        Directory.GetFiles("/proc/self/fd").Count(path =>
        {
            try { return new FileInfo(path).LinkTarget?.Contains(targetContains, StringComparison.Ordinal) == true; }
            catch (IOException) { return false; }   // closed while we looked
        });
}
