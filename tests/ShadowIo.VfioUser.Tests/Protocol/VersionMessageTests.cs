using System.Text;
using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

public sealed class VersionMessageTests
{
    private static byte[] Version(ushort major, ushort minor, string? json) =>
        json is null ? new Payload().U16(major).U16(minor) : new Payload().U16(major).U16(minor).Bytes([.. Encoding.UTF8.GetBytes(json), 0]);

    [Fact]
    public void What_QEMU_11_1_proposes_decodes_to_its_capabilities()
    {
        // QEMU's proposal as measured here (docs: VFIO-USER.md, "Measured on this machine").
        var payload = Version(0, 0, """{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"migration":{"pgsize":4096,"max_bitmap_size":268435456},"write_multiple":true}}""");

        Assert.Equal(0, VersionMessage.Decode(payload, out var version));

        Assert.Equal((ushort)0, version.Major);
        Assert.Equal((ushort)0, version.Minor);
        var c = version.Capabilities;
        Assert.Equal(16u, c.MaxMessageFds);
        Assert.Equal(1048576ul, c.MaxDataTransferSize);
        Assert.Equal(4096ul, c.PageSizes);
        Assert.Equal(65535ul, c.MaxDmaMaps);
        Assert.Equal(new MigrationCapability(4096, 268435456), c.Migration);
        Assert.True(c.WriteMultiple);
        Assert.Null(c.TwinSocket);
    }

    [Fact]
    public void Every_capability_round_trips_and_a_reply_without_capabilities_is_four_bytes()
    {
        var full = new VersionMessage(0, 0, new VersionCapabilities
        {
            MaxMessageFds = 8,
            MaxDataTransferSize = ulong.MaxValue,
            MaxDmaMaps = 65535,
            PageSizes = 4096,
            WriteMultiple = false,
            TwinSocket = true,
            Migration = new MigrationCapability(4096, 1 << 28),
        });
        var buffer = new byte[VersionMessage.MaxEncodedSize];
        int length = full.Encode(buffer);
        Assert.Equal(0, buffer[length - 1]);
        Assert.Equal(0, VersionMessage.Decode(buffer.AsSpan(0, length), out var decoded));
        Assert.Equal(full, decoded);

        var bare = new VersionMessage(0, 1, default);
        Assert.Equal(4, bare.Encode(buffer));
        Assert.Equal(0, VersionMessage.Decode(buffer.AsSpan(0, 4), out decoded));
        Assert.Equal(bare, decoded);
    }

    [Fact]
    public void Unknown_members_at_any_level_are_ignored()
    {
        var payload = Version(0, 0, """{"vendor":[1,{"x":null}],"capabilities":{"future":{"a":[true]},"max_msg_fds":4,"twin_socket":{"supported":true,"extra":1},"migration":{"pgsize":4096,"max_bitmap_size":1,"flags":"x"}}}""");
        Assert.Equal(0, VersionMessage.Decode(payload, out var version));
        Assert.Equal(4u, version.Capabilities.MaxMessageFds);
        Assert.True(version.Capabilities.TwinSocket);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "shorter than major and minor", [0, 0, 0] },
        { "JSON without its NUL", [0, 0, 0, 0, (byte)'{', (byte)'}'] },
        { "a NUL inside the JSON", Version(0, 0, "{\"capabilities\":{}}\0{}") },
        { "only the NUL", [0, 0, 0, 0, 0] },
        { "not JSON", Version(0, 0, "capabilities") },
        { "an array, not an object", Version(0, 0, "[]") },
        { "capabilities not an object", Version(0, 0, """{"capabilities":3}""") },
        { "a negative count", Version(0, 0, """{"capabilities":{"max_msg_fds":-1}}""") },
        { "a fraction", Version(0, 0, """{"capabilities":{"pgsizes":4096.5}}""") },
        { "max_msg_fds past 32 bits", Version(0, 0, """{"capabilities":{"max_msg_fds":4294967296}}""") },
        { "a size past 64 bits", Version(0, 0, """{"capabilities":{"max_data_xfer_size":18446744073709551616}}""") },
        { "a number as a string", Version(0, 0, """{"capabilities":{"max_dma_maps":"65535"}}""") },
        { "write_multiple not a boolean", Version(0, 0, """{"capabilities":{"write_multiple":1}}""") },
        { "twin_socket not an object", Version(0, 0, """{"capabilities":{"twin_socket":true}}""") },
        { "migration without max_bitmap_size", Version(0, 0, """{"capabilities":{"migration":{"pgsize":4096}}}""") },
        { "migration not an object", Version(0, 0, """{"capabilities":{"migration":[]}}""") },
        { "a second value after the object", Version(0, 0, """{"capabilities":{}} {}""") },
        { "an unclosed object", Version(0, 0, """{"capabilities":{"max_msg_fds":4""") },
        { "nesting past the depth limit", Version(0, 0, "{\"x\":" + new string('[', 64) + new string(']', 64) + "}") },
        { "invalid UTF-8", [0, 0, 0, 0, (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}', 0] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_versions_are_EINVAL(string why, byte[] payload)
    {
        Assert.True(EINVAL == VersionMessage.Decode(payload, out var version), why);
        Assert.Equal(default, version);
    }
}
