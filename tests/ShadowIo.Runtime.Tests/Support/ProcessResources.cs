using System.Globalization;

namespace ShadowIo.Runtime.Tests.Support;

/// <summary>What this process holds right now: open fds and mapped memory, from /proc/self.</summary>
/// <param name="OpenFds">Every open fd but pipes and sockets: the runtime makes neither, and the test
/// platform opens and closes its own (reporting to <c>dotnet test</c>) whenever it likes.</param>
/// <param name="KvmFds">Fds of the kinds the runtime opens: /dev/kvm, KVM VM/vCPU, eventfd, epoll, shadow memfd.</param>
/// <param name="FdTargets">What each counted fd is (sorted), to name a leak.</param>
public readonly record struct ProcessResources(int OpenFds, int KvmFds, long MappedBytes, int KvmAndShadowMappings, string[] FdTargets)
{
    private static readonly string[] TestHostFdKinds = ["pipe:", "socket:"];

    private static readonly string[] RuntimeFdKinds = ["/dev/kvm", "anon_inode:kvm", "anon_inode:[eventfd]", "anon_inode:[eventpoll]", "/memfd:shadowio"];

    public static ProcessResources Now()
    {
        var links = Directory.GetFileSystemEntries("/proc/self/fd").Select(f => new FileInfo(f).LinkTarget ?? "")
            .Where(target => !TestHostFdKinds.Any(kind => target.StartsWith(kind, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).ToArray();
        int fds = links.Length;
        int kvmFds = links.Count(target => RuntimeFdKinds.Any(kind => target.StartsWith(kind, StringComparison.Ordinal)));
        // statm field 1: total program size in pages (every mapping, reserved or not).
        long pages = long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[0], CultureInfo.InvariantCulture);
        int ours = File.ReadLines("/proc/self/maps").Count(l =>
            l.Contains("kvm", StringComparison.Ordinal) || l.Contains("shadowio", StringComparison.Ordinal));
        return new ProcessResources(fds, kvmFds, pages * Environment.SystemPageSize, ours, links);
    }

    /// <summary>The fds open now that were not open at <paramref name="earlier"/> (by what they are), for a failure message.</summary>
    public string NewSince(ProcessResources earlier)
    {
        // A multiset difference: a second fd on a file that was already open is new too.
        var remaining = earlier.FdTargets.GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var added = new List<string>();
        foreach (string target in FdTargets)
        {
            if (remaining.TryGetValue(target, out int n) && n > 0) remaining[target] = n - 1;
            else added.Add(target);
        }
        return string.Join(", ", added);
    }

    public override string ToString() => $"{OpenFds} fds ({KvmFds} KVM/eventfd/epoll/memfd), {MappedBytes >> 20} MiB mapped, {KvmAndShadowMappings} KVM/shadow mappings";
}

/// <summary>Tests that count the process's fds and mappings must not run beside tests that open them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResourceCountingCollection
{
    public const string Name = "resource counting (runs alone)";
}
