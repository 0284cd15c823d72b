using System.Text.RegularExpressions;
using Xunit;
using ShadowIo.Fuzz.Nvme;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>
/// Issue 5: "no access outside guest memory — show that nothing else exists". The controller
/// reaches guest memory only through <c>GuestMemory</c> (bounds-checked Try* methods and
/// <c>TryGetShadowRegion</c>, whose <c>ShadowRegion</c> checks every offset). This test scans
/// the controller's source for every other way C# can touch raw memory.
/// </summary>
public sealed partial class MemoryAccessTests
{
    /// <summary>Files allowed unsafe code, and why.</summary>
    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        // Controller-owned 4 KiB page for MMIO doorbell values; exposed only as a ShadowRegion.
        ["Controller/PrivateDoorbellPage.cs"] = "own page",
        // Test/fuzz guest RAM (plays the guest, not the controller): maps RAM with red zones.
        ["Controller/Fuzzing/GuestRam.cs"] = "guest RAM for tests",
    };

    [GeneratedRegex(@"\bunsafe\b|\bfixed\s*\(|\bstackalloc\b\s*\w+\s*\*|\bMarshal\.|\bNativeMemory\b|\bUnsafe\.|\bMemoryMarshal\b|\bIntPtr\b|\bnint\b|\bGCHandle\b|\bBuffer\.MemoryCopy|->|\bDllImport\b|\bLibraryImport\b|\bnew\s+ShadowRegion\s*\(|\.Pointer\b")]
    private static partial Regex RawMemoryAccess();

    [Fact]
    public void Controller_code_has_no_path_to_memory_other_than_guest_memory()
    {
        string root = FindSampleRoot();
        var offenders = new List<string>();
        int scanned = 0;
        foreach (string folder in new[] { "Controller", "Registers" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
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
        }
        Assert.True(scanned > 20, $"only {scanned} files scanned from {root}");
        Assert.True(offenders.Count == 0, "raw memory access outside GuestMemory:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void Guest_memory_values_enter_only_through_guest_memory_calls()
    {
        // Every read of guest RAM in the controller is a GuestMemory call on the _memory field (or
        // a ShadowRegion it handed out). List them so a reviewer sees the whole surface at once.
        string root = FindSampleRoot();
        var calls = new List<string>();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "Controller"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains("Fuzzing", StringComparison.Ordinal)) continue;
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

    private static string FindSampleRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "nvme");
            if (Directory.Exists(Path.Combine(candidate, "Controller"))) return candidate;
        }
        throw new DirectoryNotFoundException("samples/nvme not found above " + AppContext.BaseDirectory);
    }
}
