using System.Buffers.Binary;
using ShadowIo.Devices.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>Every admin command and its error statuses.</summary>
public sealed class AdminCommandTests : IDisposable
{
    private const ulong Buffer = NvmeTestHost.DataArea;
    private readonly NvmeTestHost _host = new(namespaceBytes: 4 << 20);

    public AdminCommandTests() => _host.Enable();

    public void Dispose() => _host.Dispose();

    private CompletionEntry Admin(SubmissionEntry e) => _host.AdminCommand(e);

    private ReadOnlySpan<byte> Data(int length = 4096) => _host.Ram.At(Buffer, length);

    [Fact]
    public void Identify_controller_advertises_doorbell_buffer_config_entry_sizes_and_one_namespace()
    {
        var c = Admin(Commands.Identify(IdentifyCns.Controller, 0, Buffer));
        Assert.Equal(NvmeStatus.Success, c.Status);
        var d = Data();
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16LittleEndian(d[256..]) & (1 << 8)); // OACS.DBBUF
        Assert.Equal(0x66, d[512]);                                              // SQES
        Assert.Equal(0x44, d[513]);                                              // CQES
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(d[516..]));     // NN
        Assert.Equal(5, d[77]);                                                  // MDTS
        Assert.Equal(AsyncEvents.RequestLimit - 1, d[259]);                      // AERL
        Assert.Equal("ShadowIo NVMe", System.Text.Encoding.ASCII.GetString(d.Slice(24, 40)).TrimEnd());
    }

    [Fact]
    public void Identify_namespace_reports_size_and_lba_format()
    {
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Identify(IdentifyCns.Namespace, 1, Buffer)).Status);
        Assert.Equal((ulong)(4 << 20) / 512, BinaryPrimitives.ReadUInt64LittleEndian(Data()));
        Assert.Equal(9u, (BinaryPrimitives.ReadUInt32LittleEndian(Data()[128..]) >> 16) & 0xFF);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(2u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Identify_namespace_of_an_unknown_nsid_is_invalid_namespace(uint nsid) =>
        Assert.Equal(NvmeStatus.InvalidNamespaceOrFormat, Admin(Commands.Identify(IdentifyCns.Namespace, nsid, Buffer)).Status);

    [Fact]
    public void Active_namespace_list_lists_ids_above_the_given_one()
    {
        _host.Ram.At(Buffer, 8).Fill(0xFF);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Identify(IdentifyCns.ActiveNamespaceList, 0, Buffer)).Status);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(Data()));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(Data()[4..]));
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Identify(IdentifyCns.ActiveNamespaceList, 1, Buffer)).Status);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(Data()));
        Assert.Equal(NvmeStatus.InvalidNamespaceOrFormat, Admin(Commands.Identify(IdentifyCns.ActiveNamespaceList, 0xFFFF_FFFE, Buffer)).Status);
    }

    [Fact]
    public void Namespace_descriptors_carry_a_uuid()
    {
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Identify(IdentifyCns.NamespaceDescriptorList, 1, Buffer)).Status);
        Assert.Equal(3, Data()[0]);
        Assert.Equal(16, Data()[1]);
    }

    [Fact]
    public void Identify_with_an_unknown_cns_is_invalid_field() =>
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.Identify((IdentifyCns)0x55, 0, Buffer)).Status);

    [Fact]
    public void Identify_into_memory_outside_ram_is_a_data_transfer_error()
    {
        Assert.Equal(NvmeStatus.DataTransferError, Admin(Commands.Identify(IdentifyCns.Controller, 0, 0x1000)).Status);
        // A buffer starting mid-page needs PRP2 for the rest: a misaligned PRP2 is an invalid PRP offset.
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Admin(Commands.Identify(IdentifyCns.Controller, 0, Buffer + 0x800, Buffer + 0x1008)).Status);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Admin(Commands.Identify(IdentifyCns.Controller, 0, Buffer + 2)).Status);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Identify(IdentifyCns.Controller, 0, Buffer + 0x800, Buffer + 0x2000)).Status);
    }

    [Fact]
    public void Unknown_admin_opcode_is_invalid_opcode_and_sgl_or_fused_is_invalid_field()
    {
        Assert.Equal(NvmeStatus.InvalidOpcode, Admin(Commands.Admin((AdminOpcode)0xEE)).Status);
        var sgl = Commands.Identify(IdentifyCns.Controller, 0, Buffer);
        sgl.Cdw0 |= 1 << 14;
        Assert.Equal(NvmeStatus.InvalidField, Admin(sgl).Status);
        var fused = Commands.Identify(IdentifyCns.Controller, 0, Buffer);
        fused.Cdw0 |= 1 << 8;
        Assert.Equal(NvmeStatus.InvalidField, Admin(fused).Status);
    }

    [Fact]
    public void Create_queues_reports_each_error_status()
    {
        ulong cqAddr = NvmeTestHost.IoCq(1), sqAddr = NvmeTestHost.IoSq(1);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.CreateCq(0, 16, cqAddr)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.CreateCq(NvmeRegisters.QueueCount, 16, cqAddr)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueSize, Admin(Commands.CreateCq(1, 1, cqAddr)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueSize, Admin(Commands.CreateCq(1, 1025, cqAddr)).Status);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Admin(Commands.CreateCq(1, 16, cqAddr + 16)).Status);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.CreateCq(1, 16, 0x2000)).Status);
        Assert.Equal(NvmeStatus.InvalidInterruptVector, Admin(Commands.CreateCq(1, 16, cqAddr, interrupts: true, vector: 2000)).Status);
        var noncontiguous = Commands.CreateCq(1, 16, cqAddr);
        noncontiguous.Cdw11 &= ~1u;
        Assert.Equal(NvmeStatus.InvalidField, Admin(noncontiguous).Status);

        Assert.Equal(NvmeStatus.Success, Admin(Commands.CreateCq(1, 16, cqAddr)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.CreateCq(1, 16, cqAddr)).Status); // duplicate

        Assert.Equal(NvmeStatus.CompletionQueueInvalid, Admin(Commands.CreateSq(1, 16, sqAddr, 2)).Status);
        Assert.Equal(NvmeStatus.CompletionQueueInvalid, Admin(Commands.CreateSq(1, 16, sqAddr, 0)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.CreateSq(0, 16, sqAddr, 1)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueSize, Admin(Commands.CreateSq(1, 1, sqAddr, 1)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueSize, Admin(Commands.CreateSq(1, 2000, sqAddr, 1)).Status);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.CreateSq(1, 16, NvmeTestHost.RamBase + NvmeTestHost.RamSize - 0x1000 + 0x1000, 1)).Status);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.CreateSq(1, 16, sqAddr, 1)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.CreateSq(1, 16, sqAddr, 1)).Status); // duplicate
    }

    [Fact]
    public void Queue_memory_must_hold_the_whole_ring()
    {
        // 128 entries × 64 bytes do not fit in the last page of RAM.
        ulong lastPage = NvmeTestHost.RamBase + NvmeTestHost.RamSize - 0x1000;
        Assert.Equal(NvmeStatus.Success, Admin(Commands.CreateCq(1, 16, NvmeTestHost.IoCq(1))).Status);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.CreateSq(1, 128, lastPage, 1)).Status);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.CreateSq(1, 128, lastPage - 0x1000, 1)).Status);
    }

    [Fact]
    public void Io_queue_entry_sizes_must_be_set_in_cc()
    {
        _host.Disable();
        _host.Enable(cc: 1); // EN without IOSQES/IOCQES
        Assert.True(_host.Ready);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.CreateCq(1, 16, NvmeTestHost.IoCq(1))).Status);
    }

    [Fact]
    public void Delete_queues_reports_each_error_status()
    {
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.DeleteSq(0)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.DeleteSq(1)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.DeleteCq(0)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.DeleteCq(1)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.DeleteCq(0xFFFF)).Status);
        _host.CreateIoQueuePair(1);
        Assert.Equal(NvmeStatus.InvalidQueueDeletion, Admin(Commands.DeleteCq(1)).Status); // SQ 1 still uses it
        Assert.Equal(NvmeStatus.Success, Admin(Commands.DeleteSq(1)).Status);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.DeleteCq(1)).Status);
        Assert.False(_host.Controller.CompletionQueueExists(1));
        // The id is free again.
        _host.CreateIoQueuePair(1);
    }

    [Fact]
    public void Number_of_queues_is_granted_up_to_what_the_controller_has()
    {
        var c = Admin(Commands.Admin(AdminOpcode.SetFeatures, cdw10: (uint)FeatureId.NumberOfQueues, cdw11: 63 | (63u << 16)));
        Assert.Equal(NvmeStatus.Success, c.Status);
        Assert.Equal(15u | (15u << 16), c.Result);
        c = Admin(Commands.Admin(AdminOpcode.SetFeatures, cdw10: (uint)FeatureId.NumberOfQueues, cdw11: 3 | (1u << 16)));
        Assert.Equal(3u | (1u << 16), c.Result);
        c = Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: (uint)FeatureId.NumberOfQueues));
        Assert.Equal(3u | (1u << 16), c.Result);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.Admin(AdminOpcode.SetFeatures, cdw10: (uint)FeatureId.NumberOfQueues, cdw11: 0xFFFF)).Status);
    }

    [Fact]
    public void Features_round_trip_and_report_errors()
    {
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Admin(AdminOpcode.SetFeatures, cdw10: (uint)FeatureId.Arbitration, cdw11: 0x0302_0103)).Status);
        Assert.Equal(0x0302_0103u, Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: (uint)FeatureId.Arbitration)).Result);
        Assert.Equal(0u, Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: (uint)FeatureId.Arbitration | (1 << 8))).Result); // default
        Assert.Equal(1u, Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: (uint)FeatureId.VolatileWriteCache)).Result);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: 0x7F)).Status);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.Admin(AdminOpcode.SetFeatures, cdw10: 0)).Status);
        Assert.Equal(NvmeStatus.InvalidField, Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: (uint)FeatureId.Arbitration | (5 << 8))).Status);
        Assert.Equal(NvmeStatus.FeatureNotSaveable, Admin(Commands.Admin(AdminOpcode.SetFeatures, cdw10: (uint)FeatureId.Arbitration | 0x8000_0000)).Status);
        // A controller reset restores defaults.
        _host.Disable();
        _host.Enable();
        Assert.Equal(0u, Admin(Commands.Admin(AdminOpcode.GetFeatures, cdw10: (uint)FeatureId.Arbitration)).Result);
    }

    [Fact]
    public void Error_log_lists_failed_commands_newest_first()
    {
        Assert.Equal(NvmeStatus.InvalidOpcode, Admin(Commands.Admin((AdminOpcode)0xEE)).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Admin(Commands.DeleteSq(5)).Status);
        uint numd = 2 * ErrorLog.EntrySize / 4 - 1;
        var c = Admin(Commands.Admin(AdminOpcode.GetLogPage, prp1: Buffer, cdw10: (uint)LogPageId.ErrorInformation | (numd << 16)));
        Assert.Equal(NvmeStatus.Success, c.Status);
        var d = Data(2 * ErrorLog.EntrySize);
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(d));        // newest: error count 2
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, NvmeStatusField.Decode(BinaryPrimitives.ReadUInt16LittleEndian(d[12..])));
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(d[64..]));
        Assert.Equal(NvmeStatus.InvalidOpcode, NvmeStatusField.Decode(BinaryPrimitives.ReadUInt16LittleEndian(d[76..])));
    }

    [Fact]
    public void Get_log_page_checks_page_id_offset_and_length()
    {
        Assert.Equal(NvmeStatus.InvalidLogPage, Admin(Commands.Admin(AdminOpcode.GetLogPage, prp1: Buffer, cdw10: 0x70 | (127u << 16))).Status);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Admin(AdminOpcode.GetLogPage, prp1: Buffer, cdw10: (uint)LogPageId.SmartHealth | (127u << 16))).Status);
        Assert.Equal(NvmeStatus.Success, Admin(Commands.Admin(AdminOpcode.GetLogPage, prp1: Buffer, cdw10: (uint)LogPageId.FirmwareSlot | (127u << 16))).Status);
        var beyond = Commands.Admin(AdminOpcode.GetLogPage, prp1: Buffer, cdw10: (uint)LogPageId.SmartHealth | (127u << 16));
        beyond.Cdw12 = 4096;
        Assert.Equal(NvmeStatus.InvalidField, Admin(beyond).Status);
        var huge = Commands.Admin(AdminOpcode.GetLogPage, prp1: Buffer, cdw10: (uint)LogPageId.SmartHealth | (0xFFFFu << 16), cdw11: 0xFFFF);
        Assert.Equal(NvmeStatus.InvalidField, Admin(huge).Status);
    }

    [Fact]
    public void Abort_reports_not_aborted_because_commands_complete_as_they_are_fetched()
    {
        var c = Admin(Commands.Admin(AdminOpcode.Abort, cdw10: 1 | (7u << 16)));
        Assert.Equal(NvmeStatus.Success, c.Status);
        Assert.Equal(1u, c.Result & 1);
    }

    [Fact]
    public void Async_event_requests_wait_and_the_limit_is_enforced()
    {
        var q = _host.Admin;
        for (int i = 0; i < AsyncEvents.RequestLimit; i++) _host.Submit(q, Commands.Admin(AdminOpcode.AsyncEventRequest));
        _host.RingSq(q);
        Assert.Empty(_host.ReapAll(q));
        Assert.Equal(NvmeStatus.AsyncEventRequestLimitExceeded, _host.AdminCommand(Commands.Admin(AdminOpcode.AsyncEventRequest)).Status);
    }
}
