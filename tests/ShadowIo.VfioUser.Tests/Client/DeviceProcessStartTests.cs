using System.Diagnostics;
using ShadowIo.VfioUser.Client;
using Xunit;

namespace ShadowIo.VfioUser.Tests.Client;

/// <summary>
/// <see cref="VfioUserDeviceProcess.Start(ProcessStartInfo, string, IEnumerable{string}, TimeSpan)"/>
/// with device programs that never serve: real small programs (<c>/bin/sh -c</c>), each failure
/// one <see cref="InvalidOperationException"/> whose message says which (with the child's last
/// stderr line where it wrote one), the child and what it started killed and reaped, and the
/// socket's directory removed.
/// </summary>
public sealed class DeviceProcessStartTests : IDisposable
{
    private const string Verb = "serve";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Where Start makes the socket's directory; empty again after every failed start.</summary>
    private readonly string _root = Directory.CreateTempSubdirectory("shadowio-device-start-").FullName;

    /// <summary>The script writes its pid (and its background child's) here.</summary>
    private readonly string _pidFile = Path.Combine(Path.GetTempPath(), $"shadowio-device-start-{Guid.NewGuid():N}.pids");

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        File.Delete(_pidFile);
    }

    [Fact]
    public void A_program_that_exits_at_once_is_reported_with_its_exit_code_and_last_stderr_line()
    {
        var e = StartFailing(Shell("echo $$ > \"$PIDS\"; echo 'device: loading' >&2; echo 'device: no namespace file' >&2; exit 3"), Patience);

        Assert.Equal("the vfio-user device process did not get ready (it exited with code 3): device: no namespace file", e.Message);
        AssertNothingLeft();
    }

    [Fact]
    public void A_program_that_prints_something_else_is_killed_without_waiting_out_the_patience()
    {
        var clock = Stopwatch.StartNew();
        var e = StartFailing(Shell("echo $$ > \"$PIDS\"; echo 'device: warming up' >&2; echo 'listening soon'; exec sleep 600"), Patience);
        clock.Stop();

        Assert.Equal("the vfio-user device process did not get ready (it printed 'listening soon' instead of 'ready'): device: warming up", e.Message);
        // Before the fix it waited the patience for a child that never exits, then killed it.
        Assert.True(clock.Elapsed < Patience, $"Start took {clock.Elapsed.TotalSeconds:0.0} s: it waited out the patience of {Patience.TotalSeconds} s.");
        AssertNothingLeft();
    }

    [Fact]
    public void A_program_that_prints_nothing_within_the_patience_is_killed_with_what_it_started()
    {
        // A background child holding stdout too: killing only the shell would leave it running.
        var e = StartFailing(Shell("sleep 600 & echo $$ $! > \"$PIDS\"; exec sleep 600"), TimeSpan.FromSeconds(3));

        Assert.Equal("the vfio-user device process did not get ready (nothing within 3 s)", e.Message);
        Assert.Equal(2, RecordedPids().Length);
        AssertNothingLeft();
    }

    [Fact]
    public void A_program_that_cannot_be_started_is_one_line_naming_it()
    {
        const string missing = "/nonexistent/shadowio-device";
        var e = StartFailing(new ProcessStartInfo(missing), Patience);

        Assert.StartsWith($"the vfio-user device process ({missing}) could not be started: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void The_program_gets_the_verb_and_a_socket_path_in_its_own_directory()
    {
        // Exits at once, so Start fails; its arguments are what it saw.
        var e = StartFailing(Shell("echo $$ > \"$PIDS\"; echo \"$0 $1 $2 $3\" >&2; exit 1"), Patience, "--one", "two");

        string arguments = e.Message[(e.Message.LastIndexOf("): ", StringComparison.Ordinal) + 3)..];
        string[] words = arguments.Split(' ');
        Assert.Equal(Verb, words[0]);
        Assert.Equal("device.sock", Path.GetFileName(words[1]));
        Assert.Equal(_root, Path.GetDirectoryName(Path.GetDirectoryName(words[1])));
        Assert.Equal(["--one", "two"], words[2..]);
        AssertNothingLeft();
    }

    private ProcessStartInfo Shell(string script)
    {
        var start = new ProcessStartInfo("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["PIDS"] = _pidFile;
        return start;
    }

    private InvalidOperationException StartFailing(ProcessStartInfo program, TimeSpan patience, params string[] arguments) =>
        Assert.Throws<InvalidOperationException>(() => VfioUserDeviceProcess.Start(program, Verb, arguments, patience, _root).Dispose());

    private int[] RecordedPids() =>
        [.. File.ReadAllText(_pidFile).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];

    /// <summary>Every pid the script recorded is gone (the shell reaped by us, its child by its reaper) and the socket's directory too.</summary>
    private void AssertNothingLeft()
    {
        Assert.Empty(Directory.GetFileSystemEntries(_root));
        foreach (int pid in RecordedPids())
            Assert.True(ProcessTree.Ends(pid, TimeSpan.FromSeconds(60)), $"process {pid} of the device program still runs.");
    }
}
