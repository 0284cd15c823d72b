using System.Text;
using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Samples.Nvme.Linux;

namespace ShadowIo.Linux.Tests.Qemu.EndToEnd;

/// <summary>Boots the comparison's guests through the suite's <see cref="LinuxGuest"/> fixture.</summary>
internal static class FixtureGuestBooter
{
    public const string NvmeModuleListGuestPath = "/etc/shadowio/modules.d/10-nvme.list";

    public static async Task<string> BootAsync(GuestBootRequest request, CancellationToken cancellationToken)
    {
        var options = new LinuxGuestOptions
        {
            Script = request.Script,
            Files = request.Files.Select(f => GuestFile.FromText(f.Key, f.Value)).ToArray(),
            ExtraQemuArgs = request.QemuArgs,
            ExtraKernelArgs = request.KernelArgs,
            InheritedFds = request.InheritedFds,
            ConsoleLine = request.ConsoleLine,
            MemoryMiB = request.MemoryMiB,
            Timeout = request.Timeout,
        };
        var result = await LinuxGuest.RunAsync(options, cancellationToken);
        return result.Output;
    }

    /// <summary>The base image's nvme module list (in load order), read from the built image tree.</summary>
    public static async Task<string> ReadNvmeModuleListAsync(CancellationToken cancellationToken)
    {
        var image = await GuestImage.GetAsync(cancellationToken);
        var path = Path.Combine(image.Directory, "root", NvmeModuleListGuestPath.TrimStart('/'));
        return await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken);
    }
}
