using System.Diagnostics;
using System.Globalization;
using ShadowIo.Runtime.Tests.Support;

namespace ShadowIo.Runtime.Tests.Kvm;

/// <summary>Every KVM struct's size and field offsets, every ioctl number and flag, pinned.</summary>
public sealed class KvmAbiTests
{
    [Fact]
    public void Struct_layouts_ioctl_numbers_and_flags_match_the_kernel_headers_values()
    {
        var managed = KvmAbiFacts.Managed();
        var expected = KvmAbiFacts.Expected();

        Assert.Equal(expected.Keys, managed.Keys);
        foreach (var (name, value) in expected) Assert.True(managed[name] == value, $"{name}: C# gives {managed[name]}, the headers {value}.");
    }

    [Fact]
    public void The_headers_compiled_with_gcc_agree_with_the_pinned_values()
    {
        Assert.SkipUnless(File.Exists("/usr/include/linux/kvm.h") && FindGcc() is not null,
            "gcc or /usr/include/linux/kvm.h is missing; the hard-coded pin still holds (previous test).");
        string dir = Directory.CreateTempSubdirectory("shadowio-abi").FullName;
        try
        {
            string source = Path.Combine(dir, "abi.c"), program = Path.Combine(dir, "abi");
            File.WriteAllText(source, KvmAbiFacts.CProgram);
            var (rc, output) = Run(FindGcc()!, $"-O0 -o {program} {source}");
            Assert.True(rc == 0, $"gcc failed: {output}");
            (rc, output) = Run(program, "");
            Assert.Equal(0, rc);

            var fromC = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                int space = line.LastIndexOf(' ');
                fromC[line[..space]] = ulong.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
            var managed = KvmAbiFacts.Managed();
            Assert.Equal(fromC.Keys, managed.Keys);
            foreach (var (name, value) in fromC) Assert.True(managed[name] == value, $"{name}: C# gives {managed[name]}, gcc {value}.");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static readonly string[] GccPaths = ["/usr/bin/gcc", "/usr/bin/cc", "/usr/local/bin/gcc"];

    private static string? FindGcc() => GccPaths.FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output) Run(string file, string arguments)
    {
        var (exitCode, output, errors) = ChildProcess.Run(new ProcessStartInfo(file, arguments));
        return (exitCode, output + errors);
    }
}
