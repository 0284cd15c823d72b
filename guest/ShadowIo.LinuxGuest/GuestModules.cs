using System.Text;

namespace ShadowIo.LinuxGuest;

/// <summary>
/// Kernel modules of the guest's kernel that the image does not carry (it has the nvme and kvm
/// stacks), added to one boot as <see cref="GuestFile"/>s: the .ko files from the image's sysroot
/// and a <c>/etc/shadowio/modules.d</c> list that /init loads in order, dependencies first.
/// </summary>
/// <remarks>
/// The order is the one guest/module-order.sh computes for the image's own lists: each module's
/// <c>depends=</c> from its <c>.modinfo</c> strings, depth first. A .ko is an ELF file whose
/// .modinfo section is NUL-separated <c>key=value</c> strings, so the tag is found by scanning for
/// <c>"\0depends="</c> rather than parsing the ELF.
/// </remarks>
public static class GuestModules
{
    /// <summary>
    /// The files that make /init load <paramref name="modules"/> (names as modprobe takes them,
    /// <c>_</c> or <c>-</c>) and what they depend on, listed at <paramref name="listPath"/>
    /// (under /etc/shadowio/modules.d, ending .list; lists load in name order).
    /// </summary>
    /// <exception cref="FileNotFoundException">A module, or one it depends on, is not in the image's sysroot (or built in).</exception>
    public static IReadOnlyList<GuestFile> Files(GuestImage image, string listPath, params string[] modules)
    {
        ArgumentNullException.ThrowIfNull(image);
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(image.ModulesDirectory, "*.ko", SearchOption.AllDirectories))
            byName.TryAdd(Normalize(Path.GetFileNameWithoutExtension(path)), path);
        var order = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var module in modules) Visit(Normalize(module));
        var files = order.Select(path => GuestFile.FromHostFile(GuestPathOf(image, path), path, GuestFile.Regular)).ToList();
        files.Add(GuestFile.FromText(listPath, string.Join('\n', order.Select(p => Path.GetRelativePath(image.ModulesDirectory, p))) + "\n"));
        return files;

        void Visit(string name)
        {
            if (!seen.Add(name)) return;
            if (!byName.TryGetValue(name, out var path))
                throw new FileNotFoundException($"module {name} is not under {image.ModulesDirectory} (built in, or not in linux-image-{image.KernelRelease})");
            foreach (var dependency in Depends(path)) Visit(dependency);
            order.Add(path);
        }
    }

    private static string GuestPathOf(GuestImage image, string hostPath) =>
        $"/lib/modules/{image.KernelRelease}/{Path.GetRelativePath(image.ModulesDirectory, hostPath)}";

    private static string Normalize(string name) => name.Replace('-', '_');

    private static IEnumerable<string> Depends(string koPath)
    {
        var bytes = File.ReadAllBytes(koPath);
        ReadOnlySpan<byte> tag = "\0depends="u8;
        int at = bytes.AsSpan().IndexOf(tag);
        if (at < 0) return [];
        int start = at + tag.Length;
        int end = Array.IndexOf(bytes, (byte)0, start);
        string value = Encoding.ASCII.GetString(bytes, start, (end < 0 ? bytes.Length : end) - start);
        return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Normalize);
    }
}
