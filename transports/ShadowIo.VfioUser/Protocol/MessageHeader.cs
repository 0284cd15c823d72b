using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>The header's <c>flags</c> word: the message type in bits 0–3, then NO_REPLY and ERROR.</summary>
[Flags]
internal enum MessageFlags : uint
{
    /// <summary>Type 0: a command.</summary>
    Command = 0,
    /// <summary>Type 1: a reply.</summary>
    Reply = 1,
    /// <summary>The bits holding the type.</summary>
    TypeMask = 0xF,
    /// <summary>The sender expects no reply (posted writes); replying to it breaks QEMU's framing.</summary>
    NoReply = 0x10,
    /// <summary>A reply reporting failure; <c>error</c> holds the errno.</summary>
    Error = 0x20,
}

/// <summary>
/// The 16-byte header before every message (vfio-user.rst, "Header"), host order (little-endian
/// on x86_64): msg_id u16 @0, cmd u16 @2, msg_size u32 @4 (header included), flags u32 @8,
/// error u32 @12. A reply echoes its command's msg_id and cmd.
/// </summary>
/// <param name="MessageId">Matches a reply to its command.</param>
/// <param name="Command">What the message is.</param>
/// <param name="MessageSize">The whole message, this header included.</param>
/// <param name="Flags">Type, NO_REPLY, ERROR.</param>
/// <param name="Error">The errno of an error reply (positive), else 0.</param>
internal readonly record struct MessageHeader(ushort MessageId, VfioUserCommand Command, uint MessageSize, MessageFlags Flags, uint Error)
{
    /// <summary>Bytes on the wire.</summary>
    public const int Size = 16;

    /// <summary>The flag bits this protocol version defines; the rest are reserved and must be zero.</summary>
    private const MessageFlags DefinedFlags = MessageFlags.TypeMask | MessageFlags.NoReply | MessageFlags.Error;

    /// <summary>Whether the type is <see cref="MessageFlags.Reply"/>.</summary>
    public bool IsReply => (Flags & MessageFlags.TypeMask) == MessageFlags.Reply;

    /// <summary>Whether the sender expects no reply.</summary>
    public bool NoReply => (Flags & MessageFlags.NoReply) != 0;

    /// <summary>Whether this is an error reply.</summary>
    public bool IsError => (Flags & MessageFlags.Error) != 0;

    /// <summary>Bytes after the header (valid once <see cref="Validate"/> accepted the header).</summary>
    public int PayloadSize => (int)(MessageSize - Size);

    /// <summary>A command carrying <paramref name="payloadSize"/> bytes.</summary>
    public static MessageHeader ForCommand(ushort messageId, VfioUserCommand command, int payloadSize, bool noReply = false) =>
        new(messageId, command, checked((uint)(Size + payloadSize)), noReply ? MessageFlags.NoReply : MessageFlags.Command, 0);

    /// <summary>The successful reply to <paramref name="command"/> carrying <paramref name="payloadSize"/> bytes.</summary>
    public static MessageHeader ForReply(in MessageHeader command, int payloadSize) =>
        new(command.MessageId, command.Command, checked((uint)(Size + payloadSize)), MessageFlags.Reply, 0);

    /// <summary>The error reply to <paramref name="command"/>: the header alone, with a positive errno.</summary>
    public static MessageHeader ForError(in MessageHeader command, int errno)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(errno);
        return new(command.MessageId, command.Command, Size, MessageFlags.Reply | MessageFlags.Error, (uint)errno);
    }

    /// <summary>Reads a header from the first 16 bytes; false when there are fewer.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out MessageHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }
        header = new MessageHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(source),
            (VfioUserCommand)BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            (MessageFlags)BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));
        return true;
    }

    /// <summary>Writes the 16 bytes.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException($"A header needs {Size} bytes.", nameof(destination));
        BinaryPrimitives.WriteUInt16LittleEndian(destination, MessageId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)Command);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], MessageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Error);
    }

    /// <summary>
    /// Checks what a peer sent: a size that covers the header and stays within
    /// <paramref name="maxMessageSize"/> (E2BIG past it: the caller discards the payload and the
    /// stream stays framed), a type of command or reply, no reserved flag bits, and ERROR only on a
    /// reply. Returns 0 or the errno to reply with.
    /// </summary>
    public int Validate(uint maxMessageSize)
    {
        if (MessageSize < Size)
            return Errno.EINVAL;
        if (MessageSize > maxMessageSize)
            return Errno.E2BIG;
        var type = Flags & MessageFlags.TypeMask;
        if (type != MessageFlags.Command && type != MessageFlags.Reply)
            return Errno.EINVAL;
        if ((Flags & ~DefinedFlags) != 0)
            return Errno.EINVAL;
        if (IsError && !IsReply)
            return Errno.EINVAL;
        return 0;
    }
}
