namespace ShadowIo.VfioUser.Protocol;

/// <summary>What every encoder shares: encoders write our own messages, so a short buffer is a bug here, not peer input.</summary>
internal static class Wire
{
    /// <summary>Throws unless <paramref name="destination"/> holds <paramref name="size"/> bytes.</summary>
    public static void Require(Span<byte> destination, int size, string message)
    {
        if (destination.Length < size)
            throw new ArgumentException($"{message} needs {size} bytes, the buffer has {destination.Length}.", nameof(destination));
    }

    /// <summary>Whether <c>offset + count</c> stays within 64 bits (a range whose end wraps is refused everywhere).</summary>
    public static bool EndFits(ulong offset, ulong count) => offset <= ulong.MaxValue - count;
}
