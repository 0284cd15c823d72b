using System.Text;

namespace ShadowIo.LinuxGuest;

/// <summary>A file (or symlink) put into the guest's initramfs by an overlay archive.</summary>
public sealed class GuestFile
{
    private GuestFile(string guestPath, Func<byte[]>? contents, string? symlinkTarget, int mode)
    {
        GuestPath = guestPath;
        Contents = contents;
        SymlinkTarget = symlinkTarget;
        Mode = mode;
    }

    /// <summary>Absolute path inside the guest.</summary>
    public string GuestPath { get; }

    /// <summary>Read when the overlay is written (host files are read then, not at construction).</summary>
    public Func<byte[]>? Contents { get; }

    /// <summary>The link target when this entry is a symlink.</summary>
    public string? SymlinkTarget { get; }

    /// <summary>Permission bits, e.g. 0755 as <c>0b111_101_101</c>.</summary>
    public int Mode { get; }

    /// <summary>0755.</summary>
    public const int Executable = 0b111_101_101;
    /// <summary>0644.</summary>
    public const int Regular = 0b110_100_100;

    /// <summary>A file holding <paramref name="text"/> as UTF-8.</summary>
    public static GuestFile FromText(string guestPath, string text, int mode = Regular)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new GuestFile(guestPath, () => bytes, null, mode);
    }

    /// <summary>A file holding <paramref name="bytes"/>.</summary>
    public static GuestFile FromBytes(string guestPath, byte[] bytes, int mode = Regular) =>
        new(guestPath, () => bytes, null, mode);

    /// <summary>A copy of a host file (its permission bits unless <paramref name="mode"/> is given).</summary>
    public static GuestFile FromHostFile(string guestPath, string hostPath, int? mode = null)
    {
        var bits = mode ?? (OperatingSystem.IsWindows() ? Regular : (int)File.GetUnixFileMode(hostPath) & 0b111_111_111);
        return new GuestFile(guestPath, () => File.ReadAllBytes(hostPath), null, bits);
    }

    /// <summary>A symbolic link to <paramref name="target"/>.</summary>
    public static GuestFile Symlink(string guestPath, string target) => new(guestPath, null, target, 0);

    /// <summary>Every file and symlink below <paramref name="hostDirectory"/>, placed under <paramref name="guestDirectory"/>.</summary>
    public static IEnumerable<GuestFile> FromHostDirectory(string guestDirectory, string hostDirectory)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(hostDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(hostDirectory, entry);
            var guestPath = guestDirectory.TrimEnd('/') + "/" + relative.Replace(Path.DirectorySeparatorChar, '/');
            var info = new FileInfo(entry);
            if (info.LinkTarget is { } target)
                yield return Symlink(guestPath, target);
            else if (File.Exists(entry))
                yield return FromHostFile(guestPath, entry);
        }
    }
}
