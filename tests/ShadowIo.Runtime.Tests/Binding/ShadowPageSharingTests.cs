using System.Diagnostics;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;

namespace ShadowIo.Runtime.Tests.Binding;

/// <summary>The shadow page is a memfd: another mapping, in this or another process, sees the values.</summary>
public sealed unsafe class ShadowPageSharingTests
{
    private const ulong BlockGpa = 0xFE00_0000;

    [Fact]
    public void A_second_mapping_of_the_shadow_fd_sees_the_values_the_binding_writes()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var binding = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        using var second = MemoryMapping.MapFd(new ShadowIo.Native.FileDescriptorHandle(Tmds.Linux.LibC.dup(binding.ShadowFd)), 4096, "second shadow mapping");

        Assert.True(binding.TryHandleMmioWrite(BlockGpa + 0x1008, 4, 0x1234));
        Assert.True(binding.TryHandleMmioWrite(BlockGpa + 0x1040, 8, 0x1122_3344_5566_7788));

        Assert.NotEqual((nint)second.Pointer, binding.Shadow.Address);
        var reader = new TestDoorbellBlock.DoorbellReader(new ShadowRegion(second.Pointer, 4096));
        Assert.Equal(0x1234u, reader.SqTail(1));
        Assert.Equal(0x1122_3344_5566_7788UL, reader.Wide);
    }

    [Fact]
    public void Another_process_opening_the_shadow_fd_sees_the_values_the_binding_writes()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var binding = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        Assert.True(binding.TryHandleMmioWrite(BlockGpa + 0x1000, 4, 0xCAFE));
        Assert.True(binding.TryHandleMmioWrite(BlockGpa + 0x101C, 4, 0xBEEF)); // CqHead[3]
        // The child opens the same memfd through /proc, as a process handed the fd would.
        string path = $"/proc/{Environment.ProcessId}/fd/{binding.ShadowFd}";

        string output = Python is { } python
            // A shared mapping of the memfd in the child.
            ? RunChild(python, "-c", $"import mmap,os,struct;f=os.open('{path}',os.O_RDONLY);" +
                "m=mmap.mmap(f,4096,mmap.MAP_SHARED,mmap.PROT_READ);print(struct.unpack_from('<I',m,0)[0],struct.unpack_from('<I',m,0x1c)[0])")
            : ReadWithOd(path);

        Assert.Equal($"{0xCAFE} {0xBEEF}", output);
    }

    /// <summary>Without python, coreutils od reads the same pages of the memfd: words 0 and 7 (offset 0x1c).</summary>
    private static string ReadWithOd(string path)
    {
        string[] words = RunChild("od", "-An", "-tu4", "-v", "-N32", path).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return $"{words[0]} {words[7]}";
    }

    private static readonly string[] PythonPaths = ["/usr/bin/python3", "/bin/python3"];

    private static string? Python => PythonPaths.FirstOrDefault(File.Exists);

    private static string RunChild(string file, params string[] arguments)
    {
        var (exitCode, output, errors) = ChildProcess.Run(new ProcessStartInfo(file, arguments));
        Assert.True(exitCode == 0, $"{file} failed: {errors}");
        return output.Trim();
    }
}
