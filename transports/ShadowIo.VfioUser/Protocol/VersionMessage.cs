using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text.Json;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>
/// VERSION, request and reply alike: major u16 @0, minor u16 @2, then an optional NUL-terminated
/// JSON object <c>{"capabilities":{…}}</c>. QEMU proposes 0.0 and refuses a reply with another
/// major, a larger minor, or one longer than its request.
/// </summary>
/// <param name="Major">Protocol major version (0).</param>
/// <param name="Minor">Protocol minor version (0).</param>
/// <param name="Capabilities">The JSON's capabilities (all null when it sent no JSON).</param>
internal readonly record struct VersionMessage(ushort Major, ushort Minor, VersionCapabilities Capabilities)
{
    /// <summary>major and minor.</summary>
    public const int FixedSize = 4;

    /// <summary>The longest JSON <see cref="Encode"/> writes (every capability at its widest is about 300 bytes).</summary>
    public const int MaxEncodedSize = FixedSize + 512;

    /// <summary>Deep enough for {"capabilities":{"migration":{…}}} and an unknown member one level deeper.</summary>
    private const int MaxJsonDepth = 8;

    /// <summary>Decodes a VERSION payload. Returns 0, or EINVAL for a short payload, a missing NUL, invalid UTF-8 or JSON, or a capability of the wrong type or range.</summary>
    public static int Decode(ReadOnlySpan<byte> payload, out VersionMessage message)
    {
        message = default;
        if (payload.Length < FixedSize)
            return Errno.EINVAL;
        var major = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var minor = BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]);
        var capabilities = default(VersionCapabilities);
        var text = payload[FixedSize..];
        if (!text.IsEmpty)
        {
            // The JSON is a C string: it ends at the message's last byte, a NUL, and holds none before.
            if (text[^1] != 0 || text[..^1].Contains((byte)0))
                return Errno.EINVAL;
            int error = ParseJson(text[..^1], out capabilities);
            if (error != 0)
                return error;
        }
        message = new VersionMessage(major, minor, capabilities);
        return 0;
    }

    /// <summary>Writes the payload (the JSON only when a capability is set) and returns its length.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="MaxEncodedSize"/>.</exception>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < MaxEncodedSize)
            throw new ArgumentException($"VERSION needs up to {MaxEncodedSize} bytes.", nameof(destination));
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Major);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], Minor);
        var c = Capabilities;
        if (c == default)
            return FixedSize;
        var json = new JsonText(destination[FixedSize..]);
        json.Raw("{\"capabilities\":{"u8);
        if (c.MaxMessageFds is { } fds)
            json.NumberMember("max_msg_fds"u8, fds);
        if (c.MaxDataTransferSize is { } xfer)
            json.NumberMember("max_data_xfer_size"u8, xfer);
        if (c.MaxDmaMaps is { } maps)
            json.NumberMember("max_dma_maps"u8, maps);
        if (c.PageSizes is { } pages)
            json.NumberMember("pgsizes"u8, pages);
        if (c.WriteMultiple is { } multiple)
            json.BooleanMember("write_multiple"u8, multiple);
        if (c.TwinSocket is { } twin)
        {
            json.Member("twin_socket"u8);
            json.Raw("{\"supported\":"u8);
            json.Raw(twin ? "true"u8 : "false"u8);
            json.Raw("}"u8);
        }
        if (c.Migration is { } migration)
        {
            json.Member("migration"u8);
            json.Raw("{\"pgsize\":"u8);
            json.Number(migration.PageSize);
            json.Raw(",\"max_bitmap_size\":"u8);
            json.Number(migration.MaxBitmapSize);
            json.Raw("}"u8);
        }
        json.Raw("}}\0"u8);
        return FixedSize + json.Length;
    }

    private static int ParseJson(ReadOnlySpan<byte> json, out VersionCapabilities capabilities)
    {
        capabilities = default;
        // The reader checks UTF-8 only in the strings it decodes; a skipped member must be valid too.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            return Errno.EINVAL;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return Errno.EINVAL;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isCapabilities = reader.ValueTextEquals("capabilities"u8);
                reader.Read();
                if (!isCapabilities)
                {
                    reader.Skip();
                    continue;
                }
                if (reader.TokenType != JsonTokenType.StartObject)
                    return Errno.EINVAL;
                int error = ParseCapabilities(ref reader, out capabilities);
                if (error != 0)
                    return error;
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return Errno.EINVAL;
            return 0;
        }
        catch (JsonException)
        {
            // Malformed JSON, too deep, or anything after the object: all one answer to the peer.
            return Errno.EINVAL;
        }
    }

    private static int ParseCapabilities(ref Utf8JsonReader reader, out VersionCapabilities capabilities)
    {
        capabilities = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("max_msg_fds"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt32(out var value))
                    return Errno.EINVAL;
                capabilities = capabilities with { MaxMessageFds = value };
            }
            else if (reader.ValueTextEquals("max_data_xfer_size"u8))
            {
                if (!ReadUInt64(ref reader, out var value))
                    return Errno.EINVAL;
                capabilities = capabilities with { MaxDataTransferSize = value };
            }
            else if (reader.ValueTextEquals("max_dma_maps"u8))
            {
                if (!ReadUInt64(ref reader, out var value))
                    return Errno.EINVAL;
                capabilities = capabilities with { MaxDmaMaps = value };
            }
            else if (reader.ValueTextEquals("pgsizes"u8))
            {
                if (!ReadUInt64(ref reader, out var value))
                    return Errno.EINVAL;
                capabilities = capabilities with { PageSizes = value };
            }
            else if (reader.ValueTextEquals("write_multiple"u8))
            {
                if (!ReadBoolean(ref reader, out var value))
                    return Errno.EINVAL;
                capabilities = capabilities with { WriteMultiple = value };
            }
            else if (reader.ValueTextEquals("twin_socket"u8))
            {
                bool? supported = null;
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                    return Errno.EINVAL;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("supported"u8))
                    {
                        if (!ReadBoolean(ref reader, out var value))
                            return Errno.EINVAL;
                        supported = value;
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
                capabilities = capabilities with { TwinSocket = supported ?? false };
            }
            else if (reader.ValueTextEquals("migration"u8))
            {
                ulong? pageSize = null, maxBitmap = null;
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                    return Errno.EINVAL;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("pgsize"u8))
                    {
                        if (!ReadUInt64(ref reader, out var value))
                            return Errno.EINVAL;
                        pageSize = value;
                    }
                    else if (reader.ValueTextEquals("max_bitmap_size"u8))
                    {
                        if (!ReadUInt64(ref reader, out var value))
                            return Errno.EINVAL;
                        maxBitmap = value;
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
                // Both members are required by the spec; QEMU sends both.
                if (pageSize is null || maxBitmap is null)
                    return Errno.EINVAL;
                capabilities = capabilities with { Migration = new MigrationCapability(pageSize.Value, maxBitmap.Value) };
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return reader.TokenType == JsonTokenType.EndObject ? 0 : Errno.EINVAL;
    }

    private static bool ReadUInt64(ref Utf8JsonReader reader, out ulong value)
    {
        value = 0;
        return reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out value);
    }

    private static bool ReadBoolean(ref Utf8JsonReader reader, out bool value)
    {
        value = false;
        if (!reader.Read())
            return false;
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
            return false;
        value = reader.TokenType == JsonTokenType.True;
        return true;
    }

    /// <summary>Appends UTF-8 JSON into a span without allocating (the destination was sized by the caller).</summary>
    private ref struct JsonText(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;
        private bool _hasMember;

        public int Length { get; private set; }

        public void Raw(ReadOnlySpan<byte> text)
        {
            text.CopyTo(_destination[Length..]);
            Length += text.Length;
        }

        public void Member(ReadOnlySpan<byte> name)
        {
            if (_hasMember)
                Raw(","u8);
            _hasMember = true;
            Raw("\""u8);
            Raw(name);
            Raw("\":"u8);
        }

        public void NumberMember(ReadOnlySpan<byte> name, ulong value)
        {
            Member(name);
            Number(value);
        }

        public void BooleanMember(ReadOnlySpan<byte> name, bool value)
        {
            Member(name);
            Raw(value ? "true"u8 : "false"u8);
        }

        public void Number(ulong value)
        {
            Utf8Formatter.TryFormat(value, _destination[Length..], out int written);
            Length += written;
        }
    }
}
