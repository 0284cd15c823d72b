using System.Buffers.Binary;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// The host driver's side of the NVMe command set: builds 64-byte submission queue entries
/// (NVMe Base Specification 2.0, figure 88 "Common Command Format") that the guest copies into
/// its queues. The driver owns its own definitions, as Linux's nvme-pci does; it does not
/// borrow the controller's.
/// </summary>
internal static class SubmissionEntries
{
    public const int Size = 64;

    // Admin opcodes (spec figure 141).
    public const byte CreateIoSubmissionQueueOpcode = 0x01;
    public const byte CreateIoCompletionQueueOpcode = 0x05;
    public const byte IdentifyOpcode = 0x06;
    public const byte DoorbellBufferConfigOpcode = 0x7C;

    // NVM command set opcodes (NVM Command Set Specification, figure 18).
    public const byte WriteOpcode = 0x01;
    public const byte ReadOpcode = 0x02;

    public const byte IdentifyNamespace = 0x00;
    public const byte IdentifyController = 0x01;

    /// <summary>Identify (CNS in CDW10); the 4 KiB result lands at <paramref name="prp1"/>.</summary>
    public static void Identify(Span<byte> entry, byte cns, uint namespaceId, ulong prp1)
    {
        Common(entry, IdentifyOpcode, namespaceId, prp1, 0);
        Dword(entry, 10, cns);
    }

    /// <summary>
    /// Create I/O Completion Queue: physically contiguous (PC = 1), interrupts disabled (IEN = 0),
    /// so the driver polls its phase bits.
    /// </summary>
    public static void CreateIoCompletionQueue(Span<byte> entry, ushort queueId, int entries, ulong prp1)
    {
        Common(entry, CreateIoCompletionQueueOpcode, 0, prp1, 0);
        Dword(entry, 10, (uint)(entries - 1) << 16 | queueId);
        Dword(entry, 11, 1u); // PC
    }

    /// <summary>Create I/O Submission Queue: physically contiguous, bound to <paramref name="completionQueueId"/>.</summary>
    public static void CreateIoSubmissionQueue(Span<byte> entry, ushort queueId, int entries, ulong prp1, ushort completionQueueId)
    {
        Common(entry, CreateIoSubmissionQueueOpcode, 0, prp1, 0);
        Dword(entry, 10, (uint)(entries - 1) << 16 | queueId);
        Dword(entry, 11, (uint)completionQueueId << 16 | 1u); // CQID, PC
    }

    /// <summary>Doorbell Buffer Config: PRP1 = shadow doorbell page, PRP2 = EventIdx page.</summary>
    public static void DoorbellBufferConfig(Span<byte> entry, ulong shadowPage, ulong eventIdxPage) =>
        Common(entry, DoorbellBufferConfigOpcode, 0, shadowPage, eventIdxPage);

    /// <summary>Read or Write of <paramref name="blocks"/> logical blocks starting at <paramref name="startLba"/>.</summary>
    public static void ReadWrite(Span<byte> entry, byte opcode, uint namespaceId, ulong startLba, int blocks, ulong prp1, ulong prp2)
    {
        Common(entry, opcode, namespaceId, prp1, prp2);
        Dword(entry, 10, (uint)startLba);
        Dword(entry, 11, (uint)(startLba >> 32));
        Dword(entry, 12, (uint)(blocks - 1)); // NLB is 0-based
    }

    /// <summary>
    /// Dword 0 carries the opcode and a command identifier; the guest overwrites the identifier
    /// with its own when it copies the entry into the queue.
    /// </summary>
    private static void Common(Span<byte> entry, byte opcode, uint namespaceId, ulong prp1, ulong prp2)
    {
        entry[..Size].Clear();
        entry[0] = opcode;
        Dword(entry, 1, namespaceId);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[24..], prp1);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[32..], prp2);
    }

    private static void Dword(Span<byte> entry, int index, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(entry[(index * 4)..], value);
}
