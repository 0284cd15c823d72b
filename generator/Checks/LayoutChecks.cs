using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator.Checks;

/// <summary>
/// Checks of a block's layout: widths, alignment, bounds, overlaps, doorbell arrays, the
/// ioeventfd budget and the shadow page. Reports at the offending attribute.
/// </summary>
internal static class LayoutChecks
{
    /// <summary>KVM_IO_BUS_MAX_DEVS (include/linux/kvm_host.h): devices per KVM I/O bus.</summary>
    public const int MaxIoEventFds = 1000;

    /// <summary>Largest array expanded for the overlap check; larger ones are reported by the budget check.</summary>
    private const int MaxExpandedElements = MaxIoEventFds + 1;

    /// <summary>Largest register array expanded element by element for the overlap check (an MSI-X table of 2048 entries is 8192).</summary>
    private const long MaxExpandedSetRegisters = 1 << 20;

    public static void CheckRegisters(ulong blockSize, List<RegisterDeclaration> registers, List<Diagnostic> diagnostics)
    {
        foreach (RegisterDeclaration register in registers)
        {
            if (!register.IsPartialDeclaration)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.RegisterNotPartialProperty, register.Location, register.Name));
            }

            if (register.Access is < 0 or > (int)RegisterAccess.WriteOneToClear)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UndefinedAccess, register.Location, register.Name, register.Access, "RegisterAccess"));
            }

            if (!Widths.IsValidAccessWidth(register.Width))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidWidth, register.Location, register.Name, register.Width));
                continue;
            }

            SpecialType expected = ExpectedType(register.Width);
            if (register.PropertyType != expected && !register.IsPropertyTypeUnresolved)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.PropertyTypeMismatch, register.Location,
                    register.Name, register.Width, Widths.TypeKeyword(register.Width), register.PropertyTypeName));
            }

            if (register.Offset % (ulong)register.Width != 0)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.Misaligned, register.Location, register.Name, register.Offset, register.Width));
            }

            if (register.Offset > blockSize || (ulong)register.Width > blockSize - register.Offset)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.BeyondBlock, register.Location,
                    register.Name, unchecked(register.Offset + (ulong)register.Width), blockSize));
            }

            if (!Widths.Fits(register.Reset, register.Width * 8))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ResetTooWide, register.Location, register.Name, register.Reset, register.Width * 8));
            }
        }
    }

    public static void CheckDoorbells(ulong blockSize, List<DoorbellDeclaration> doorbells, List<Diagnostic> diagnostics)
    {
        long rows = 0;
        bool budgetReported = false;
        foreach (DoorbellDeclaration doorbell in doorbells)
        {
            CheckDoorbell(blockSize, doorbell, diagnostics);
            rows += Math.Max(0, doorbell.Count);
            if (rows > MaxIoEventFds && !budgetReported)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TooManyDoorbells, doorbell.Location, doorbell.DeclaredName, rows));
                budgetReported = true;
            }
        }
    }

    private static void CheckDoorbell(ulong blockSize, DoorbellDeclaration doorbell, List<Diagnostic> diagnostics)
    {
        if (doorbell.Name is null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidName, doorbell.Location, doorbell.DeclaredName));
        }

        if (!Widths.IsValidAccessWidth(doorbell.Width))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidWidth, doorbell.Location, doorbell.DeclaredName, doorbell.Width));
            return;
        }

        if (doorbell.HasDataMatch && !Widths.Fits(doorbell.DataMatch, doorbell.Width * 8))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DataMatchTooWide, doorbell.Location, doorbell.DeclaredName, doorbell.DataMatch, doorbell.Width));
        }

        if (doorbell.Kind == DoorbellModelKind.ValueArray)
        {
            if (doorbell.Count < 1)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CountTooSmall, doorbell.Location, doorbell.DeclaredName, doorbell.Count));
                return;
            }

            if (doorbell.Stride < (ulong)doorbell.Width)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.StrideTooSmall, doorbell.Location, doorbell.DeclaredName, doorbell.Stride, doorbell.Width));
                return;
            }

            if (!TryLastOffset(doorbell, out ulong last))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ArrayOverflow, doorbell.Location,
                    doorbell.DeclaredName, doorbell.Offset, doorbell.Count, doorbell.Stride));
                return;
            }

            doorbell.LastOffset = last;
        }
        else
        {
            if (doorbell.Offset > ulong.MaxValue - (ulong)doorbell.Width)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.BeyondBlock, doorbell.Location,
                    doorbell.DeclaredName, unchecked(doorbell.Offset + (ulong)doorbell.Width), blockSize));
                return;
            }

            doorbell.LastOffset = doorbell.Offset;
        }

        doorbell.IsWellFormed = true;
        bool aligned = doorbell.Offset % (ulong)doorbell.Width == 0
            && (doorbell.Kind != DoorbellModelKind.ValueArray || doorbell.Count == 1 || doorbell.Stride % (ulong)doorbell.Width == 0);
        if (!aligned)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.Misaligned, doorbell.Location, doorbell.DeclaredName, doorbell.Offset, doorbell.Width));
        }

        ulong end = doorbell.LastOffset + (ulong)doorbell.Width;
        if (end > blockSize)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.BeyondBlock, doorbell.Location, doorbell.DeclaredName, end, blockSize));
        }
    }

    /// <summary>offset + (count − 1) × stride, with the last element's end and shadow offsets kept within 64 and 31 bits.</summary>
    private static bool TryLastOffset(DoorbellDeclaration doorbell, out ulong last)
    {
        last = 0;
        ulong steps = (ulong)(doorbell.Count - 1);
        if (steps != 0 && doorbell.Stride > (ulong.MaxValue - doorbell.Offset) / steps) return false;
        last = doorbell.Offset + (steps * doorbell.Stride);
        if (last > ulong.MaxValue - (ulong)doorbell.Width) return false;

        // Shadow offsets and strides are 32-bit ints in the generated layout.
        if (doorbell.Stride > int.MaxValue) return false;
        return steps * doorbell.Stride <= int.MaxValue;
    }

    /// <summary>
    /// Shadow offsets of the value doorbells: offset − lowest value-doorbell offset. Reports every
    /// value doorbell that ends beyond <paramref name="shadowSize"/>. Returns the layout's size.
    /// </summary>
    public static int CheckShadowLayout(List<DoorbellDeclaration> doorbells, int shadowSize, List<Diagnostic> diagnostics, out ulong shadowBase)
    {
        shadowBase = ulong.MaxValue;
        foreach (DoorbellDeclaration doorbell in doorbells)
        {
            if (doorbell.IsWellFormed && doorbell.Kind != DoorbellModelKind.Notify) shadowBase = Math.Min(shadowBase, doorbell.Offset);
        }

        if (shadowBase == ulong.MaxValue)
        {
            shadowBase = 0;
            return 0;
        }

        ulong size = 0;
        foreach (DoorbellDeclaration doorbell in doorbells)
        {
            if (!doorbell.IsWellFormed || doorbell.Kind == DoorbellModelKind.Notify) continue;
            ulong end = doorbell.LastOffset - shadowBase + (ulong)doorbell.Width;
            if (end > (ulong)Math.Max(0, shadowSize))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ShadowTooLarge, doorbell.Location, doorbell.DeclaredName, end, shadowSize));
            }

            size = Math.Max(size, end);
        }

        return size > int.MaxValue ? int.MaxValue : (int)size;
    }

    /// <summary>
    /// Reports each pair of declarations whose byte ranges intersect, once per pair, except
    /// doorbells that share one address and width each with a datamatch of its own (virtio's queue
    /// notify; KVM keeps one ioeventfd per datamatch there): among those a repeated value is
    /// SHIO025 and a doorbell without datamatch SHIO026, both naming the two doorbells.
    /// </summary>
    public static void CheckOverlaps(List<RegisterDeclaration> registers, List<DoorbellDeclaration> doorbells, List<RegisterSetDeclaration> sets, List<Diagnostic> diagnostics)
    {
        var spans = new List<Span>();
        int order = 0;
        foreach (RegisterDeclaration register in registers)
        {
            if (Widths.IsValidAccessWidth(register.Width) && register.Offset <= ulong.MaxValue - (ulong)register.Width)
            {
                spans.Add(new Span(register.Offset, register.Offset + (ulong)register.Width, order, register.Name, register.Location));
            }

            order++;
        }

        foreach (DoorbellDeclaration doorbell in doorbells)
        {
            if (doorbell.IsWellFormed && doorbell.Count <= MaxExpandedElements)
            {
                int count = doorbell.Kind == DoorbellModelKind.ValueArray ? doorbell.Count : 1;
                for (int i = 0; i < count; i++)
                {
                    ulong start = doorbell.Offset + ((ulong)i * doorbell.Stride);
                    string name = doorbell.Kind == DoorbellModelKind.ValueArray ? $"{doorbell.DeclaredName}[{i}]" : doorbell.DeclaredName;
                    spans.Add(new Span(start, start + (ulong)doorbell.Width, order, name, doorbell.Location)
                    {
                        IsDoorbell = true,
                        DataMatch = doorbell.HasDataMatch ? doorbell.DataMatch : null,
                    });
                }
            }

            order++;
        }

        // Register arrays: every element's every register, named by element ("Ports[3].PortSc"),
        // each reported at its own [Register]. An array too large to expand counts as one range.
        foreach (RegisterSetDeclaration set in sets)
        {
            if (!set.IsWellFormed)
            {
                order++;
                continue;
            }

            if ((long)set.Count * set.Registers.Count > MaxExpandedSetRegisters)
            {
                ulong end = set.Offset + ((ulong)(set.Count - 1) * set.Stride) + set.Span;
                spans.Add(new Span(set.Offset, end, order++, $"{set.Name ?? set.DeclaredName}[0..{set.Count - 1}]", set.Location));
                continue;
            }

            foreach (RegisterDeclaration register in set.Registers)
            {
                for (int i = 0; i < set.Count; i++)
                {
                    ulong start = set.Offset + ((ulong)i * set.Stride) + register.Offset;
                    spans.Add(new Span(start, start + (ulong)register.Width, order, RegisterSetChecks.Element(set, i, register), register.Location));
                }

                order++;
            }
        }

        spans.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Order.CompareTo(b.Order));
        spans = CheckSharedAddresses(spans, diagnostics);
        var reported = new HashSet<(int, int)>();
        Span? widest = null;
        foreach (Span span in spans)
        {
            if (widest is { } previous && span.Start < previous.End)
            {
                // Report at whichever of the two was declared later, naming both.
                (Span first, Span second) = previous.Order <= span.Order ? (previous, span) : (span, previous);
                if (reported.Add((first.Order, second.Order)))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.Overlap, second.Location,
                        second.Name, second.Start, second.End, first.Name, first.Start, first.End));
                }
            }

            if (widest is null || span.End > widest.Value.End) widest = span;
        }
    }

    /// <summary>
    /// Finds the doorbells that share an address and width with a datamatch doorbell (in the
    /// sorted <paramref name="spans"/>, declaration order within one address), reports SHIO025 and
    /// SHIO026 among them, and returns the spans with each such group as one span (its first), so
    /// that the overlap sweep still checks the group against everything else.
    /// </summary>
    private static List<Span> CheckSharedAddresses(List<Span> spans, List<Diagnostic> diagnostics)
    {
        var kept = new List<Span>(spans.Count);
        for (int i = 0; i < spans.Count;)
        {
            int end = i + 1;
            while (end < spans.Count && spans[end].Start == spans[i].Start && spans[end].End == spans[i].End) end++;
            List<Span> group = spans.GetRange(i, end - i);
            Span? matched = group.Where(static s => s.DataMatch is not null).Select(static s => (Span?)s).FirstOrDefault();
            if (group.Count == 1 || matched is null || group.Any(static s => !s.IsDoorbell))
            {
                kept.AddRange(group);
                i = end;
                continue;
            }

            var byValue = new Dictionary<ulong, Span>();
            foreach (Span span in group)
            {
                if (span.DataMatch is not { } value)
                {
                    // Reported at whichever of the two was declared later, like an overlap.
                    (Span wildcard, Span other) = (span, matched.Value);
                    Location at = wildcard.Order > other.Order ? wildcard.Location : other.Location;
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.WildcardBesideDataMatch, at, wildcard.Name, wildcard.Start, other.Name));
                }
                else if (byValue.TryGetValue(value, out Span first))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateDataMatch, span.Location, first.Name, span.Name, span.Start, value));
                }
                else
                {
                    byValue.Add(value, span);
                }
            }

            kept.Add(group[0]);
            i = end;
        }

        return kept;
    }

    private static SpecialType ExpectedType(int width) => width switch
    {
        1 => SpecialType.System_Byte,
        2 => SpecialType.System_UInt16,
        4 => SpecialType.System_UInt32,
        _ => SpecialType.System_UInt64,
    };

    private readonly record struct Span(ulong Start, ulong End, int Order, string Name, Location Location)
    {
        public bool IsDoorbell { get; init; }

        /// <summary>A notify doorbell's datamatch; null for a register or a doorbell that fires on any value.</summary>
        public ulong? DataMatch { get; init; }
    }
}
