using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator;

/// <summary>
/// Every diagnostic ShadowIo reports. IDs SHIO001–SHIO099 are reserved for register-map layout
/// checks; all share one category. Each carries help text (the description) and a help link to
/// generator/docs/diagnostics.md. Keep AnalyzerReleases.Unshipped.md in step with this file.
/// </summary>
public static class DiagnosticDescriptors
{
    public const string Category = "ShadowIo.RegisterMap";

    private const string HelpLinkBase = "https://github.com/shadowio/shadowio/blob/main/generator/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor BlockNotPartial = Create(
        "SHIO001",
        "Register block class must be a non-static partial class",
        "Register block '{0}' must be declared as a non-static partial class (and every containing type partial)",
        "The generator adds the registers' storage, the doorbell table and the MMIO dispatch to the class in another file, which needs 'partial' on the class and on each class that contains it.");

    public static readonly DiagnosticDescriptor RegisterNotPartialProperty = Create(
        "SHIO002",
        "Register must be a partial property declaration with get and set",
        "Register '{0}' must be a non-static partial property declared as '{{ get; set; }}' without an implementation",
        "The generator writes the register's storage as the implementing part of the partial property; write only the declaration, e.g. 'public partial uint Cc { get; set; }'.");

    public static readonly DiagnosticDescriptor InvalidWidth = Create(
        "SHIO003",
        "Width must be 1, 2, 4 or 8 bytes",
        "'{0}' has width {1}; an MMIO register or doorbell is 1, 2, 4 or 8 bytes wide",
        "KVM delivers MMIO accesses and matches ioeventfds only with lengths 1, 2, 4 and 8.");

    public static readonly DiagnosticDescriptor Misaligned = Create(
        "SHIO004",
        "Offset is not aligned to the width",
        "'{0}' at offset 0x{1:X} is not aligned to its width of {2} bytes",
        "Registers and doorbells sit at an offset that is a multiple of their width (NVMe 3.1.4, PCI naturally aligned accesses); an unaligned access would split across registers.");

    public static readonly DiagnosticDescriptor BeyondBlock = Create(
        "SHIO005",
        "Register or doorbell lies beyond the block",
        "'{0}' ends at offset 0x{1:X}, beyond the block size 0x{2:X}",
        "Everything declared must fit inside the block (the BAR); increase the block size or move the register.");

    public static readonly DiagnosticDescriptor Overlap = Create(
        "SHIO006",
        "Registers or doorbells overlap",
        "'{0}' [0x{1:X}, 0x{2:X}) overlaps '{3}' [0x{4:X}, 0x{5:X})",
        "Each byte of the block belongs to at most one register or doorbell; KVM rejects overlapping ioeventfds and dispatch would be ambiguous. The one exception: notify doorbells of one width on one address, each with its own datamatch (SHIO025, SHIO026).");

    public static readonly DiagnosticDescriptor StrideTooSmall = Create(
        "SHIO007",
        "Doorbell array stride is smaller than its width",
        "Doorbell array '{0}' has stride {1}, smaller than its width of {2} bytes",
        "Consecutive elements would overlap; NVMe doorbells have stride (4 << CAP.DSTRD) with SQ tail and CQ head interleaved, i.e. 8 bytes per array when DSTRD = 0.");

    public static readonly DiagnosticDescriptor CountTooSmall = Create(
        "SHIO008",
        "Doorbell array count must be at least 1",
        "Doorbell array '{0}' has count {1}; it needs at least one element",
        "A doorbell array declares one or more doorbells; remove the attribute instead of declaring zero.");

    public static readonly DiagnosticDescriptor ArrayOverflow = Create(
        "SHIO009",
        "Doorbell array arithmetic overflows",
        "Doorbell array '{0}': offset 0x{1:X} + ({2} - 1) × stride {3} + width overflows",
        "The last element's offset, offset + (count − 1) × stride, must be computable in 64 bits and its shadow offset in 32 bits.");

    public static readonly DiagnosticDescriptor DataMatchTooWide = Create(
        "SHIO010",
        "Datamatch value is wider than the doorbell",
        "Notify doorbell '{0}' has datamatch 0x{1:X}, which does not fit its {2}-byte width",
        "KVM compares datamatch with a write of the doorbell's length; a wider value can never match.");

    public static readonly DiagnosticDescriptor TooManyDoorbells = Create(
        "SHIO011",
        "More than 1000 ioeventfds in one block",
        "'{0}' brings the block to {1} doorbells; KVM allows at most 1000 ioeventfds per bus (KVM_IO_BUS_MAX_DEVS)",
        "Each doorbell (each array element) is one ioeventfd on KVM's MMIO bus, which holds at most KVM_IO_BUS_MAX_DEVS = 1000 devices.");

    public static readonly DiagnosticDescriptor ShadowTooLarge = Create(
        "SHIO012",
        "Shadow layout is larger than the shadow size",
        "'{0}' ends at shadow offset {1}, beyond the block's ShadowSize of {2} bytes",
        "Value doorbells are kept in a shadow page at (offset − lowest value-doorbell offset); the whole layout must fit RegisterBlock.ShadowSize (one 4096-byte page by default, NVMe's Doorbell Buffer Config buffer).");

    public static readonly DiagnosticDescriptor PropertyTypeMismatch = Create(
        "SHIO013",
        "Register property type does not match its width",
        "Register '{0}' is {1} bytes wide, so its property type must be '{2}', not '{3}'",
        "The property holds the register's raw value: byte for 1 byte, ushort for 2, uint for 4, ulong for 8.");

    public static readonly DiagnosticDescriptor DuplicateName = Create(
        "SHIO014",
        "Duplicate name",
        "The name '{0}' is declared more than once in '{1}'",
        "Doorbell names and field names become generated identifiers (after PascalCasing) and must be unique within their block or register.");

    public static readonly DiagnosticDescriptor FieldOverlap = Create(
        "SHIO015",
        "Fields overlap",
        "Field '{0}' (bits {1}..{2}) overlaps field '{3}' (bits {4}..{5}) in register '{6}'",
        "Each bit of a register belongs to at most one field.");

    public static readonly DiagnosticDescriptor FieldBeyondRegister = Create(
        "SHIO016",
        "Field runs past the register's width",
        "Field '{0}' (bit {1}, width {2}) does not fit the {3}-bit register '{4}'",
        "A field's bits must lie within [0, register width × 8).");

    public static readonly DiagnosticDescriptor FieldZeroWidth = Create(
        "SHIO017",
        "Field has no bits",
        "Field '{0}' has width {1}; a field is at least one bit wide",
        "Declare the field's number of bits (the third argument).");

    public static readonly DiagnosticDescriptor ResetTooWide = Create(
        "SHIO018",
        "Reset value is wider than its field or register",
        "Reset value 0x{1:X} of '{0}' does not fit in {2} bits",
        "A reset value must fit the bits it initialises; higher bits would be lost or land in another field.");

    public static readonly DiagnosticDescriptor EnumTooWide = Create(
        "SHIO019",
        "Enum value is wider than the field",
        "Field '{0}' uses '{1}', whose member '{2}' does not fit in {3} bits",
        "Every member of a field's EnumType must be a non-negative value that fits the field's bits; EnumType must be an enum.");

    public static readonly DiagnosticDescriptor ContradictoryModes = Create(
        "SHIO020",
        "Field access contradicts the register access",
        "Field '{0}' is {1} in register '{2}', which is {3}",
        "A read-only or read-to-clear field cannot be read in a write-only register; in a write-1-to-clear register fields may only be WriteOneToClear, ReadOnly or ReadToClear; access values must be defined members.");

    public static readonly DiagnosticDescriptor WritableFieldInReadOnlyRegister = Create(
        "SHIO021",
        "Writable field in a read-only register",
        "Field '{0}' is {1}, but register '{2}' is ReadOnly",
        "Guest writes to a read-only register are ignored, so a field in it can only be ReadOnly, ReadToClear or clear-only (WriteOneToClear, WriteZeroToClear, e.g. NVMe CSTS.NSSRO).");

    public static readonly DiagnosticDescriptor InvalidName = Create(
        "SHIO022",
        "Name is not usable as an identifier",
        "The name '{0}' does not yield a C# identifier",
        "Doorbell and field names become generated identifiers; use letters and digits.");

    public static readonly DiagnosticDescriptor UndefinedAccess = Create(
        "SHIO023",
        "Access mode is not a defined value",
        "'{0}' has access value {1}, which is not a member of {2}",
        "Use a member of RegisterAccess or FieldAccess; a cast integer has no defined MMIO behaviour.");

    public static readonly DiagnosticDescriptor AttributeWithoutEffect = Create(
        "SHIO024",
        "Register-map attribute outside a register block",
        "[{0}] on '{1}' has no effect: {2}",
        "[Register] and the doorbell attributes only count inside a class marked [RegisterBlock], and [Field] only on a property marked [Register]; elsewhere nothing is generated for them.");

    public static readonly DiagnosticDescriptor DuplicateDataMatch = Create(
        "SHIO025",
        "Doorbells on one address match the same value",
        "'{0}' and '{1}' at offset 0x{2:X} both have datamatch 0x{3:X}",
        "Several notify doorbells may share an address when each has its own datamatch (virtio's queue notify: the value is the queue index, 0 included); KVM refuses a second ioeventfd with the same address, length and datamatch (EEXIST), and a write could not tell the two apart.");

    public static readonly DiagnosticDescriptor WildcardBesideDataMatch = Create(
        "SHIO026",
        "A doorbell without datamatch shares an address with a datamatch doorbell",
        "'{0}' at offset 0x{1:X} has no datamatch, but '{2}' on the same address has one: doorbells sharing an address each need a datamatch of their own",
        "A doorbell without datamatch fires on every write to its address, so it would swallow the writes meant for the datamatch doorbells beside it; KVM refuses the pair (EEXIST). Give every doorbell on the address a distinct DataMatch, or move one.");

    public static readonly DiagnosticDescriptor PortBlockTooLarge = Create(
        "SHIO027",
        "Port I/O block is larger than the port space",
        "Port I/O block '{0}' is 0x{1:X} bytes, larger than the 64 KiB x86 port space",
        "x86 port addresses are 16 bits (0x0000–0xFFFF): a block with AddressSpace = Port can be at most 0x10000 bytes, and a binding checks its base port keeps it inside.");

    public static readonly DiagnosticDescriptor PortAccessTooWide = Create(
        "SHIO028",
        "8-byte register or doorbell in a port I/O block",
        "'{0}' is 8 bytes wide, but x86 port I/O accesses are 1, 2 or 4 bytes",
        "in and out move a byte, a word or a doubleword; there is no 8-byte port access (KVM_EXIT_IO's size is 1, 2 or 4), so a guest could never reach it. Split it into two 4-byte registers.");

    public static readonly DiagnosticDescriptor UndefinedAddressSpace = Create(
        "SHIO029",
        "Address space is not a defined value",
        "Block '{0}' has AddressSpace value {1}, which is not a member of AddressSpace",
        "Use AddressSpace.Mmio (the default) or AddressSpace.Port; a cast integer names no KVM I/O bus.");

    private static DiagnosticDescriptor Create(string id, string title, string message, string help) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
            description: help, helpLinkUri: HelpLinkBase + id.ToLowerInvariant());
}
