using System.Globalization;
using System.Text;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// An uncompressed "newc" cpio archive appended to the base initramfs: the kernel unpacks
/// concatenated archives in order, later files replacing earlier ones (buffer-format.rst).
/// </summary>
internal sealed class InitramfsOverlay
{
    private readonly Stream _output;
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private int _inode = 1;

    public InitramfsOverlay(Stream output) => _output = output;

    public void AddFile(string path, ReadOnlySpan<byte> contents, bool executable = false)
    {
        string name = path.TrimStart('/');
        AddParents(name);
        Entry(name, 0x8000 | (executable ? 0b111_101_101 : 0b110_100_100), contents);
    }

    public void Finish() => Entry("TRAILER!!!", 0, []);

    private void AddParents(string name)
    {
        int slash = name.LastIndexOf('/');
        if (slash <= 0) return;
        string parent = name[..slash];
        AddParents(parent);
        if (_directories.Add(parent)) Entry(parent, 0x4000 | 0b111_101_101, []);
    }

    private void Entry(string name, int mode, ReadOnlySpan<byte> data)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = new StringBuilder("070701", 110);
        foreach (long field in (long[])[_inode++, mode, 0, 0, 1, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0])
            header.Append(field.ToString("x8", CultureInfo.InvariantCulture));
        _output.Write(Encoding.ASCII.GetBytes(header.ToString()));
        _output.Write(nameBytes);
        Pad(110 + nameBytes.Length);
        _output.Write(data);
        Pad(data.Length);
    }

    private void Pad(int length)
    {
        int padding = (4 - length % 4) % 4;
        for (int i = 0; i < padding; i++) _output.WriteByte(0);
    }
}
