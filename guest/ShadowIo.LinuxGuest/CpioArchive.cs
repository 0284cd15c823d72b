using System.Globalization;
using System.Text;

namespace ShadowIo.LinuxGuest;

/// <summary>
/// Writes an uncompressed "newc" cpio archive. The kernel unpacks every archive concatenated in
/// the initrd in order, later entries replacing earlier ones (Documentation/driver-api/early-userspace/
/// buffer-format.rst), so an overlay archive appended to the base image adds or replaces files.
/// </summary>
public sealed class CpioArchive
{
    private const string Magic = "070701";
    private readonly Stream output;
    private readonly HashSet<string> directories = new(StringComparer.Ordinal);
    private int inode = 1;

    /// <summary>Writes entries to <paramref name="output"/> from its current position.</summary>
    public CpioArchive(Stream output) => this.output = output;

    /// <summary>Adds a regular file; parent directories are added first when missing.</summary>
    public void AddFile(string path, ReadOnlySpan<byte> contents, int mode = 0b110_100_100)
    {
        var name = Normalize(path);
        AddParents(name);
        WriteEntry(name, 0x8000 | mode, contents);
    }

    /// <summary>Adds a directory (once; parents first).</summary>
    public void AddDirectory(string path, int mode = 0b111_101_101)
    {
        var name = Normalize(path);
        AddParents(name);
        if (directories.Add(name))
            WriteEntry(name, 0x4000 | mode, []);
    }

    /// <summary>Adds a symbolic link to <paramref name="target"/>.</summary>
    public void AddSymlink(string path, string target)
    {
        var name = Normalize(path);
        AddParents(name);
        WriteEntry(name, 0xA000 | 0b111_111_111, Encoding.UTF8.GetBytes(target));
    }

    /// <summary>Ends the archive with the TRAILER!!! entry.</summary>
    public void Finish() => WriteEntry("TRAILER!!!", 0, []);

    private static string Normalize(string path) => path.TrimStart('/');

    private void AddParents(string name)
    {
        var slash = name.LastIndexOf('/');
        if (slash > 0)
            AddDirectory(name[..slash]);
    }

    private void WriteEntry(string name, int mode, ReadOnlySpan<byte> data)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = new StringBuilder(110);
        header.Append(Magic);
        void Field(long value) => header.Append(value.ToString("x8", CultureInfo.InvariantCulture));
        Field(inode++);             // c_ino
        Field(mode);                // c_mode
        Field(0);                   // c_uid
        Field(0);                   // c_gid
        Field(1);                   // c_nlink
        Field(0);                   // c_mtime
        Field(data.Length);         // c_filesize
        Field(0);                   // c_devmajor
        Field(0);                   // c_devminor
        Field(0);                   // c_rdevmajor
        Field(0);                   // c_rdevminor
        Field(nameBytes.Length);    // c_namesize (with the NUL)
        Field(0);                   // c_check
        output.Write(Encoding.ASCII.GetBytes(header.ToString()));
        output.Write(nameBytes);
        Pad(110 + nameBytes.Length);
        output.Write(data);
        Pad(data.Length);
    }

    // Header+name and data are each padded to a multiple of four bytes.
    private void Pad(long length)
    {
        var padding = (int)((4 - (length % 4)) % 4);
        for (var i = 0; i < padding; i++)
            output.WriteByte(0);
    }
}
