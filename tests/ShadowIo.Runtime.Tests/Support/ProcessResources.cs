using System.Globalization;

namespace ShadowIo.Runtime.Tests.Support;

/// <summary>What this process holds right now: open fds and mapped memory, from /proc/self.</summary>
public readonly record struct ProcessResources(int OpenFds, long MappedBytes, int KvmAndShadowMappings)
{
    public static ProcessResources Now()
    {
        int fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        // statm field 1: total program size in pages (every mapping, reserved or not).
        long pages = long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[0], CultureInfo.InvariantCulture);
        int ours = File.ReadLines("/proc/self/maps").Count(l =>
            l.Contains("kvm", StringComparison.Ordinal) || l.Contains("shadowio", StringComparison.Ordinal));
        return new ProcessResources(fds, pages * Environment.SystemPageSize, ours);
    }

    public override string ToString() => $"{OpenFds} fds, {MappedBytes >> 20} MiB mapped, {KvmAndShadowMappings} KVM/shadow mappings";
}

/// <summary>Tests that count the process's fds and mappings must not run beside tests that open them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResourceCountingCollection
{
    public const string Name = "resource counting (runs alone)";
}
