using System.Globalization;

namespace ShadowIo.Tests;

/// <summary>
/// Processes as /proc shows them, for tests that check a device process (and whatever it started)
/// is gone. One file, linked into the test projects that start device processes.
/// </summary>
internal static class ProcessTree
{
    /// <summary>
    /// The parent pid and state of <paramref name="pid"/> from <c>/proc/PID/stat</c>, or null when
    /// there is no such process. The command name (field 2) is in parentheses and may hold spaces
    /// and parentheses itself, so the fields after it are found from the last ')' (proc(5)).
    /// </summary>
    public static (int ParentId, char State)? Stat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException) // FileNotFound and DirectoryNotFound among them: the process is gone
        {
            return null;
        }
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[0][0]);
    }

    /// <summary>The pids whose parent is <paramref name="pid"/>.</summary>
    public static int[] Children(int pid) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 0)
            .Where(p => p > 0 && Stat(p)?.ParentId == pid)];

    /// <summary><paramref name="pid"/>'s children, their children, and so on.</summary>
    public static int[] Descendants(int pid)
    {
        var found = new List<int>();
        var pending = new Queue<int>([pid]);
        while (pending.TryDequeue(out int parent))
        {
            foreach (int child in Children(parent))
            {
                found.Add(child);
                pending.Enqueue(child);
            }
        }
        return [.. found];
    }

    /// <summary>The command line of <paramref name="pid"/>, arguments separated by spaces; empty when it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').TrimEnd();
        }
        catch (IOException) // FileNotFound and DirectoryNotFound among them: the process is gone
        {
            return "";
        }
    }

    /// <summary>
    /// Waits, at most <paramref name="patience"/>, until <paramref name="pid"/> no longer runs: gone,
    /// or a zombie (dead; its reaper, init for an orphan, collects it when it gets to it).
    /// </summary>
    public static bool Ends(int pid, TimeSpan patience)
    {
        long deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        while (Stat(pid) is { State: not ('Z' or 'X') })
        {
            if (Environment.TickCount64 > deadline) return false;
            Thread.Sleep(50);
        }
        return true;
    }
}
