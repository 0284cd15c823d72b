namespace ShadowIo.Devices.Virtio;

/// <summary>
/// The common configuration as the device sees it: feature negotiation (virtio 1.2, 2.2 and
/// 3.1.1), the status handshake and reset (2.1, 2.4), and the per-queue window behind
/// <c>queue_select</c> (4.1.4.3).
/// </summary>
public sealed partial class VirtioBlkDevice
{
    private const byte DriverStatusBits = (byte)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.DriverOk
        | VirtioDeviceStatus.FeaturesOk | VirtioDeviceStatus.Failed);

    private ulong _driverFeatures;

    /// <summary>DRIVER_OK with FEATURES_OK and no NEEDS_RESET: the queues may be used (3.1.1 step 8).</summary>
    private bool IsLive
    {
        get
        {
            var status = (VirtioDeviceStatus)CommonConfig.DeviceStatus;
            return (status & (VirtioDeviceStatus.DriverOk | VirtioDeviceStatus.FeaturesOk | VirtioDeviceStatus.DeviceNeedsReset))
                == (VirtioDeviceStatus.DriverOk | VirtioDeviceStatus.FeaturesOk);
        }
    }

    private bool FeaturesLocked => (CommonConfig.DeviceStatus & (byte)VirtioDeviceStatus.FeaturesOk) != 0;

    void ICommonConfigEvents.OnCommonConfigWritten(CommonConfigRegister register, ulong previous, ulong value)
    {
        lock (_gate)
        {
            try
            {
                OnWritten(register, previous, value);
            }
            catch (Exception e)
            {
                RecordInternalError(e);
            }
        }
    }

    private void OnWritten(CommonConfigRegister register, ulong previous, ulong value)
    {
        int selected = CommonConfig.QueueSelect;
        bool queueExists = selected < _queueConfigs.Length;
        // 4.1.4.3.2: the driver configures a queue before enabling it; once enabled its window is fixed.
        bool queueWritable = queueExists && !_queueConfigs[selected].Enabled && FeaturesLocked;
        switch (register)
        {
            case CommonConfigRegister.DeviceFeatureSelect:
                CommonConfig.DeviceFeature = FeatureHalf((ulong)OfferedFeatures, (uint)value);
                break;
            case CommonConfigRegister.DriverFeatureSelect:
                CommonConfig.DriverFeature = FeatureHalf(_driverFeatures, (uint)value);
                break;
            case CommonConfigRegister.DriverFeature:
                uint half = CommonConfig.DriverFeatureSelect;
                // Features are fixed once FEATURES_OK is set (3.1.1 step 5); a write then, or to a half past 63, is ignored.
                if (FeaturesLocked || half > 1) CommonConfig.DriverFeature = FeatureHalf(_driverFeatures, half);
                else _driverFeatures = half == 0 ? (_driverFeatures & ~0xFFFF_FFFFUL) | (uint)value : (_driverFeatures & 0xFFFF_FFFFUL) | (value << 32);
                break;
            case CommonConfigRegister.ConfigMsixVector:
                CommonConfig.ConfigMsixVector = AcceptVector((ushort)value);
                break;
            case CommonConfigRegister.DeviceStatus:
                OnDeviceStatusWritten((byte)previous, (byte)value);
                break;
            case CommonConfigRegister.QueueSelect:
                ShowQueue((ushort)value);
                break;
            case CommonConfigRegister.QueueSize:
                if (queueWritable) _queueConfigs[selected].Size = (ushort)value;
                else ShowQueue(CommonConfig.QueueSelect);
                break;
            case CommonConfigRegister.QueueMsixVector:
                // The vector may change while the queue runs (Linux sets it before enabling; others may not).
                if (queueExists) _queueConfigs[selected].MsixVector = AcceptVector((ushort)value);
                ShowQueue(CommonConfig.QueueSelect);
                break;
            case CommonConfigRegister.QueueDesc:
                if (queueWritable) _queueConfigs[selected].DescriptorTable = value;
                else ShowQueue(CommonConfig.QueueSelect);
                break;
            case CommonConfigRegister.QueueDriver:
                if (queueWritable) _queueConfigs[selected].DriverArea = value;
                else ShowQueue(CommonConfig.QueueSelect);
                break;
            case CommonConfigRegister.QueueDevice:
                if (queueWritable) _queueConfigs[selected].DeviceArea = value;
                else ShowQueue(CommonConfig.QueueSelect);
                break;
            case CommonConfigRegister.QueueEnable:
                // 4.1.4.3.2: the driver MUST NOT write 0 to queue_enable (queue_reset does that, not offered).
                if (queueWritable && value == 1) EnableQueue(selected);
                ShowQueue(CommonConfig.QueueSelect);
                break;
        }
    }

    private static uint FeatureHalf(ulong features, uint select) => select switch
    {
        0 => (uint)features,
        1 => (uint)(features >> 32),
        _ => 0,
    };

    /// <summary>4.1.5.1.2: a vector the device cannot map reads back as VIRTIO_MSI_NO_VECTOR.</summary>
    private ushort AcceptVector(ushort vector) => vector < _options.MsixVectors ? vector : VirtioPciLayout.NoVector;

    /// <summary>
    /// A driver write of device_status (2.1, 3.1.1): 0 resets; otherwise bits are only added (the
    /// driver must not clear one; reserved bits are dropped). FEATURES_OK sticks only for an acceptable feature set (the driver
    /// re-reads it, step 6); DRIVER_OK without FEATURES_OK is out of order.
    /// </summary>
    private void OnDeviceStatusWritten(byte previous, byte written)
    {
        // `written` is the register after the write: DEVICE_NEEDS_RESET is read-only, so a driver's 0
        // arrives as 0x40 when the device needs a reset. No driver bit set is the driver's reset (2.4.1).
        if ((written & DriverStatusBits) == 0)
        {
            ResetDevice();
            return;
        }
        byte status = (byte)(previous | (written & DriverStatusBits));
        byte added = (byte)(status & ~previous);
        if ((added & (byte)VirtioDeviceStatus.FeaturesOk) != 0)
        {
            if (AcceptableFeatures(_driverFeatures)) NegotiatedFeatures = (VirtioFeatures)_driverFeatures;
            else status &= unchecked((byte)~VirtioDeviceStatus.FeaturesOk);
        }
        CommonConfig.DeviceStatus = status;
        if ((added & (byte)VirtioDeviceStatus.DriverOk) != 0)
        {
            if ((status & (byte)VirtioDeviceStatus.FeaturesOk) == 0)
            {
                RaiseNeedsReset(VirtqueueError.StatusOutOfOrder);
                return;
            }
            // Chains may already be waiting (a driver may publish before DRIVER_OK): look once.
            foreach (var q in _queues)
            {
                if (q is null) continue;
                q.PublishNotificationSuppression(_isPolling);
                ProcessQueue(q);
            }
        }
    }

    /// <summary>A modern device requires VERSION_1 (6.1) and offers no more than it can do.</summary>
    private bool AcceptableFeatures(ulong features) =>
        (features & ~(ulong)OfferedFeatures) == 0 && (features & (ulong)VirtioFeatures.Version1) != 0;

    /// <summary>Loads the queue_* window with queue <paramref name="queue"/>'s configuration; a queue that does not exist shows size 0 (4.1.4.3.2).</summary>
    private void ShowQueue(ushort queue)
    {
        if (queue >= _queueConfigs.Length)
        {
            CommonConfig.QueueSize = 0;
            CommonConfig.QueueMsixVector = VirtioPciLayout.NoVector;
            CommonConfig.QueueEnable = 0;
            CommonConfig.QueueNotifyOff = 0;
            CommonConfig.QueueDesc = 0;
            CommonConfig.QueueDriver = 0;
            CommonConfig.QueueDevice = 0;
            return;
        }
        ref readonly var config = ref _queueConfigs[queue];
        CommonConfig.QueueSize = config.Size;
        CommonConfig.QueueMsixVector = config.MsixVector;
        CommonConfig.QueueEnable = config.Enabled ? (ushort)1 : (ushort)0;
        CommonConfig.QueueNotifyOff = queue; // queue n's doorbell at n × notify_off_multiplier
        CommonConfig.QueueDesc = config.DescriptorTable;
        CommonConfig.QueueDriver = config.DriverArea;
        CommonConfig.QueueDevice = config.DeviceArea;
    }

    /// <summary>
    /// queue_enable = 1: the queue's size must be a power of two no larger than the maximum (2.7),
    /// its areas aligned (descriptors 16, driver area 2, device area 4 bytes) and wholly in RAM.
    /// A configuration that cannot work sets DEVICE_NEEDS_RESET instead of enabling.
    /// </summary>
    private void EnableQueue(int index)
    {
        ref var config = ref _queueConfigs[index];
        var (descriptorBytes, availBytes, usedBytes) = SplitVirtqueue.AreaSizes(config.Size);
        bool valid = config.Size != 0 && config.Size <= _options.MaxQueueSize && (config.Size & (config.Size - 1)) == 0
            && config.DescriptorTable % 16 == 0 && config.DriverArea % 2 == 0 && config.DeviceArea % 4 == 0
            && _memory.Contains(config.DescriptorTable, descriptorBytes)
            && _memory.Contains(config.DriverArea, availBytes)
            && _memory.Contains(config.DeviceArea, usedBytes);
        if (!valid)
        {
            RaiseNeedsReset(VirtqueueError.InvalidQueueConfiguration);
            return;
        }
        config.Enabled = true;
        var features = NegotiatedFeatures;
        var queue = new SplitVirtqueue(_memory, index, config,
            eventIdx: (features & VirtioFeatures.RingEventIdx) != 0,
            indirect: (features & VirtioFeatures.RingIndirectDesc) != 0);
        _queues[index] = queue;
        // 2.7.10: avail_event starts armed (the ring's memory holds whatever the driver left there).
        queue.PublishNotificationSuppression(_isPolling);
    }

    /// <summary>Device reset (2.4): queues gone, features and status cleared, the registers at their reset values.</summary>
    private void ResetDevice()
    {
        Array.Fill(_queues, null);
        for (int i = 0; i < _queueConfigs.Length; i++) _queueConfigs[i] = VirtqueueConfig.Reset(_options.MaxQueueSize);
        _driverFeatures = 0;
        NegotiatedFeatures = VirtioFeatures.None;
        NeedsResetReason = VirtqueueError.None;
        byte generation = CommonConfig.ConfigGeneration;
        CommonConfig.ResetRegisters();
        CommonConfig.ConfigGeneration = generation;
        CommonConfig.NumQueues = (ushort)_options.Queues;
        CommonConfig.DeviceFeature = FeatureHalf((ulong)OfferedFeatures, 0);
        ShowQueue(0);
        Isr.ResetRegisters();
        Counters.Resets++;
    }
}
