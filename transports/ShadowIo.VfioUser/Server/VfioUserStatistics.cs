namespace ShadowIo.VfioUser.Server;

/// <summary>What crossed a <see cref="VfioUserServer"/>'s link; readable from any thread.</summary>
public sealed class VfioUserStatistics
{
    internal long MessagesField;
    internal long RegionReadsField;
    internal long RegionWritesField;
    internal long PostedWritesField;
    internal long DoorbellWritesField;
    internal long DmaMapsField;
    internal long DmaUnmapsField;
    internal long ResetsField;
    internal long ErrorRepliesField;
    internal long DeviceFailuresField;

    /// <summary>Messages received (refused ones included).</summary>
    public long Messages => Interlocked.Read(ref MessagesField);

    /// <summary>REGION_READs of config space and BARs.</summary>
    public long RegionReads => Interlocked.Read(ref RegionReadsField);

    /// <summary>REGION_WRITEs (and WRITE_MULTI entries) of config space and BARs.</summary>
    public long RegionWrites => Interlocked.Read(ref RegionWritesField);

    /// <summary>Of those, the ones the client posted (NO_REPLY).</summary>
    public long PostedWrites => Interlocked.Read(ref PostedWritesField);

    /// <summary>BAR writes that hit a doorbell row (trapped into the shadow page and its eventfd, or dispatched when the row is unbound).</summary>
    public long DoorbellWrites => Interlocked.Read(ref DoorbellWritesField);

    /// <summary>DMA_MAPs applied.</summary>
    public long DmaMaps => Interlocked.Read(ref DmaMapsField);

    /// <summary>DMA_UNMAPs applied.</summary>
    public long DmaUnmaps => Interlocked.Read(ref DmaUnmapsField);

    /// <summary>DEVICE_RESETs.</summary>
    public long Resets => Interlocked.Read(ref ResetsField);

    /// <summary>Requests refused (an error reply, or for a posted one only a log line).</summary>
    public long ErrorReplies => Interlocked.Read(ref ErrorRepliesField);

    /// <summary>Accesses the device itself failed (it threw); answered EIO.</summary>
    public long DeviceFailures => Interlocked.Read(ref DeviceFailuresField);
}
