using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// User mistakes and unusable environments: the program prints one clear line on stderr, exits
/// nonzero, and never shows a stack trace.
/// </summary>
public sealed class ProgramErrorTests
{
    [Theory]
    [InlineData("--blocks 0", "--blocks 0 is out of range")]
    [InlineData("--blocks many", "Cannot parse argument 'many' for option '--blocks'")]
    [InlineData("--queue-depth 4096", "--queue-depth 4096 is out of range")]
    [InlineData("--mode turbo", "--mode 'turbo' is not one of: all, trap, ioeventfd, eventidx, post-write")]
    [InlineData("--transport pigeon", "--transport 'pigeon' is not one of: in-process, vfio-user")]
    [InlineData("--frobnicate", "Unrecognized command or argument '--frobnicate'")]
    [InlineData("--blocks", "Required argument missing for option: '--blocks'")]
    [InlineData("linux --runtime soon", "Cannot parse argument 'soon' for option '--runtime'")]
    public void Invalid_option_values_are_one_line_and_exit_code_2(string arguments, string expected)
    {
        var outcome = DemoProgram.Run(arguments.Split(' '));

        Assert.Equal(2, outcome.ExitCode);
        AssertOneLine(outcome, expected);
    }

    [Fact]
    public void A_missing_kvm_device_is_one_line()
    {
        var outcome = DemoProgram.Run("--kvm", "/dev/no-such-kvm");

        Assert.Equal(1, outcome.ExitCode);
        AssertOneLine(outcome, "/dev/no-such-kvm does not exist: KVM is not available here");
    }

    [Fact]
    public void A_kvm_device_the_user_may_not_open_is_one_line_naming_the_permission_problem()
    {
        // sysfs refuses O_RDWR on this read-only attribute even to root: the EACCES a user outside group 'kvm' gets.
        const string readOnly = "/sys/kernel/notes";
        Assert.SkipUnless(File.Exists(readOnly), $"{readOnly} is absent (no sysfs); nothing to open without permission.");

        var outcome = DemoProgram.Run("--kvm", readOnly);

        Assert.Equal(1, outcome.ExitCode);
        AssertOneLine(outcome, $"Permission denied opening {readOnly}");
    }

    [Fact]
    public void A_device_that_is_not_kvm_is_one_line()
    {
        var outcome = DemoProgram.Run("--kvm", "/dev/null");

        Assert.Equal(1, outcome.ExitCode);
        AssertOneLine(outcome, "/dev/null");
    }

    [Fact]
    public void A_backing_file_that_does_not_exist_is_one_line_saying_how_to_create_it()
    {
        var outcome = DemoProgram.Run("--backing-file", "/nonexistent/namespace.img", "--blocks", "16");

        Assert.NotEqual(0, outcome.ExitCode);
        AssertOneLine(outcome, "backing file '/nonexistent/namespace.img' does not exist (create one with: truncate -s 65536");
    }

    [Fact]
    public void A_backing_file_that_cannot_be_opened_for_writing_is_one_line()
    {
        const string readOnly = "/sys/kernel/notes";
        Assert.SkipUnless(File.Exists(readOnly), $"{readOnly} is absent (no sysfs).");

        var outcome = DemoProgram.Run("--backing-file", readOnly, "--blocks", "1");

        Assert.NotEqual(0, outcome.ExitCode);
        AssertOneLine(outcome, $"backing file '{readOnly}' cannot be opened for reading and writing");
    }

    [Fact]
    public void A_backing_file_too_small_for_the_blocks_is_one_line_with_the_sizes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"shadowio-small-{Guid.NewGuid():N}.img");
        try
        {
            using (var file = File.Create(path)) file.SetLength(10_000);

            var outcome = DemoProgram.Run("--backing-file", path, "--blocks", "16");

            Assert.NotEqual(0, outcome.ExitCode);
            AssertOneLine(outcome, $"backing file '{path}' holds 10000 bytes; 16 blocks of 4096 bytes need 65536");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_backing_file_that_is_a_directory_is_one_line()
    {
        var outcome = DemoProgram.Run("--backing-file", Path.GetTempPath());

        Assert.NotEqual(0, outcome.ExitCode);
        AssertOneLine(outcome, "is a directory");
    }

    private static void AssertOneLine(DemoProgram.Outcome outcome, string expected)
    {
        var line = Assert.Single(outcome.ErrorLines);
        Assert.StartsWith("shadowio-nvme: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.StandardError, StringComparison.Ordinal);
        Assert.Equal("", outcome.StandardOutput);
    }
}
