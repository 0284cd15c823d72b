using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>
/// Verify-style snapshots without Verify: compares text with the checked-in
/// <c>Snapshots/{Class}.{Method}.verified.cs</c>; on a difference writes
/// <c>*.received.cs</c> next to it and fails. Set SHADOWIO_ACCEPT=1 to accept the received text.
/// </summary>
public static partial class Snapshot
{
    public static void Verify(string actual, string? name = null, [CallerMemberName] string method = "", [CallerFilePath] string testFile = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots");
        string stem = $"{Path.GetFileNameWithoutExtension(testFile)}.{method}{(name is null ? "" : "_" + name)}";
        string verifiedPath = Path.Combine(directory, stem + ".verified.cs");
        string receivedPath = Path.Combine(directory, stem + ".received.cs");
        string received = Scrub(actual);

        string? verified = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath).Replace("\r\n", "\n") : null;
        if (verified == received)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        if (Environment.GetEnvironmentVariable("SHADOWIO_ACCEPT") == "1")
        {
            File.WriteAllText(verifiedPath, received);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail(verified is null
            ? $"No snapshot yet: review {receivedPath} and rename it to {Path.GetFileName(verifiedPath)} (or run with SHADOWIO_ACCEPT=1)."
            : $"Generated source differs from {verifiedPath}; see {receivedPath} (run with SHADOWIO_ACCEPT=1 to accept).\n{FirstDifference(verified, received)}");
    }

    /// <summary>The generator's version changes with every build number; snapshots keep a placeholder.</summary>
    public static string Scrub(string text) =>
        VersionPattern().Replace(text.Replace("\r\n", "\n"), "GeneratedCode(\"ShadowIo.Generator\", \"{version}\")");

    private static string FirstDifference(string expected, string actual)
    {
        string[] left = expected.Split('\n');
        string[] right = actual.Split('\n');
        for (int i = 0; i < Math.Max(left.Length, right.Length); i++)
        {
            string l = i < left.Length ? left[i] : "<end>";
            string r = i < right.Length ? right[i] : "<end>";
            if (l != r) return $"line {i + 1}:\n  verified: {l}\n  received: {r}";
        }

        return "";
    }

    [GeneratedRegex("GeneratedCode\\(\"ShadowIo\\.Generator\", \"[^\"]*\"\\)")]
    private static partial Regex VersionPattern();
}
