namespace ShadowIo.VfioUser.Channel;

/// <summary>What one <see cref="VfioUserChannel.Receive"/> produced.</summary>
internal enum ReceiveStatus
{
    /// <summary>A message: its header is valid, its payload and fds are in the <see cref="ReceivedMessage"/>.</summary>
    Message,

    /// <summary>
    /// A message that was read whole (the stream is still framed) but is refused: its fds are
    /// closed and <see cref="ReceivedMessage.Error"/> holds the errno to reply with (unless it was
    /// NO_REPLY or a reply itself): E2BIG past the size limit (the payload was discarded unread),
    /// EINVAL for a bad header, more fds than allowed, or fds the kernel truncated (MSG_CTRUNC).
    /// </summary>
    Rejected,

    /// <summary>The peer closed the socket between messages.</summary>
    Closed,

    /// <summary>The stream can no longer be framed (it ended inside a message, or msg_size is below the header's own size): close it.</summary>
    Corrupt,
}
