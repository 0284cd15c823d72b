namespace ShadowIo.Devices.Nvme;

/// <summary>
/// Current values of the features Get/Set Features accept (section 5.27.1). None is saveable.
/// Number of Queues is held as the allocated counts, 0's based, SQs in 15:0 and CQs in 31:16.
/// </summary>
internal sealed class FeatureSet
{
    private readonly uint[] _values = new uint[16];
    private readonly uint[] _defaults = new uint[16];

    public FeatureSet()
    {
        _defaults[(int)FeatureId.TemperatureThreshold] = 0x0157; // 343 K over-temperature threshold.
        _defaults[(int)FeatureId.VolatileWriteCache] = 1;
        _defaults[(int)FeatureId.NumberOfQueues] = (NvmeRegisters.MaxIoQueues - 1) | ((uint)(NvmeRegisters.MaxIoQueues - 1) << 16);
        Reset();
    }

    public static bool IsSupported(byte fid) => fid is >= (byte)FeatureId.Arbitration and <= (byte)FeatureId.AsyncEventConfiguration and not 0x03;

    public uint Current(FeatureId fid) => _values[(int)fid];

    public uint Default(FeatureId fid) => _defaults[(int)fid];

    public void Set(FeatureId fid, uint value) => _values[(int)fid] = value;

    public void Reset() => Array.Copy(_defaults, _values, _values.Length);
}
