using System.Text.RegularExpressions;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>
/// Issue 5: "no access outside guest memory — show that nothing else exists". The controller
/// reaches guest memory only through <c>GuestMemory</c> (bounds-checked Try* methods and
/// <c>TryGetShadowRegion</c>, whose <c>ShadowRegion</c> checks every offset). This test scans
/// the controller's source (devices/ShadowIo.Devices.Nvme) for every other way C# can touch raw memory.
/// </summary>
public sealed partial class MemoryAccessTests
{
    /// <summary>Files allowed unsafe code, and why.</summary>
    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        // Controller-owned 4 KiB page for MMIO doorbell values; exposed only as a ShadowRegion.
        ["Controller/PrivateDoorbellPage.cs"] = "own page",
    };

    [GeneratedRegex(@"\bunsafe\b|\bfixed\s*\(|\bstackalloc\b\s*\w+\s*\*|\bMarshal\.|\bNativeMemory\b|\bUnsafe\.|\bMemoryMarshal\b|\bIntPtr\b|\bnint\b|\bGCHandle\b|\bBuffer\.MemoryCopy|->|\bDllImport\b|\bLibraryImport\b|\bnew\s+ShadowRegion\s*\(|\.Pointer\b")]
    private static partial Regex RawMemoryAccess();

    [Fact]
    public void Controller_code_has_no_path_to_memory_other_than_guest_memory()
    {
        string root = FindLibraryRoot();
        var offenders = new List<string>();
        int scanned = 0;
        foreach (string file in SourceFiles(root))
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            scanned++;
            if (Allowed.ContainsKey(relative)) continue;
            int lineNumber = 0;
            foreach (string line in File.ReadLines(file))
            {
                lineNumber++;
                string code = StripComment(line);
                if (RawMemoryAccess().IsMatch(code)) offenders.Add($"{relative}:{lineNumber}: {line.Trim()}");
            }
        }
        Assert.True(File.Exists(Path.Combine(root, "Controller", "PrivateDoorbellPage.cs")), "the allowed file moved: update Allowed");
        Assert.True(scanned > 20, $"only {scanned} files scanned from {root}");
        Assert.True(offenders.Count == 0, "raw memory access outside GuestMemory:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void Guest_memory_values_enter_only_through_guest_memory_calls()
    {
        // Every read of guest RAM in the controller is a GuestMemory call on the _memory field (or
        // a ShadowRegion it handed out). List them so a reviewer sees the whole surface at once.
        var calls = new List<string>();
        foreach (string file in SourceFiles(FindLibraryRoot()))
        {
            foreach (string line in File.ReadLines(file))
            {
                if (line.Contains("memory.Try", StringComparison.Ordinal) || line.Contains("_memory.Contains", StringComparison.Ordinal)) calls.Add(line.Trim());
            }
        }
        Assert.NotEmpty(calls);
        Assert.All(calls, c => Assert.Matches(@"(_memory|memory)\.(TryRead|TryWrite|TryGetShadowRegion|Contains)\b", c));
    }

    private static string StripComment(string line)
    {
        int i = line.IndexOf("//", StringComparison.Ordinal);
        return i >= 0 ? line[..i] : line;
    }

    /// <summary>The library's own sources: everything but build output.</summary>
    private static IEnumerable<string> SourceFiles(string root) =>
        Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar)[0] is not ("bin" or "obj"));

    private static string FindLibraryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "devices", "ShadowIo.Devices.Nvme");
            if (File.Exists(Path.Combine(candidate, "ShadowIo.Devices.Nvme.csproj"))) return candidate;
        }
        throw new DirectoryNotFoundException("devices/ShadowIo.Devices.Nvme not found above " + AppContext.BaseDirectory);
    }
}
