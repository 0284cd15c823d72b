using System.Globalization;
using ShadowIo.Samples.Nvme.Guest;
using Spectre.Console;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The human-readable report: one row per mode.</summary>
internal static class ResultTable
{
    public static void Write(IAnsiConsole console, IReadOnlyList<ModeResult> results, WorkloadOptions options)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"NVMe workload, controller {(options.Transport == WorkloadTransport.VfioUser ? "in a vfio-user device process" : "in process")}: {options.Blocks} blocks x {WorkloadOptions.BlockBytes} B x {options.Rounds} round(s), " +
            $"namespace in {(options.BackingFile is null ? "memory" : Markup.Escape(options.BackingFile))}");
        table.AddColumn(new TableColumn("mode").NoWrap());
        table.AddColumn(new TableColumn("I/Os").RightAligned());
        table.AddColumn("data verified");
        table.AddColumn(new TableColumn("guest doorbell writes").RightAligned());
        table.AddColumn(new TableColumn("exits to userspace").RightAligned());
        table.AddColumn(new TableColumn("ns per doorbell").RightAligned());
        table.AddColumn(new TableColumn("IOPS QD1").RightAligned());
        table.AddColumn(new TableColumn($"IOPS QD{options.QueueDepth}").RightAligned());

        foreach (var r in results)
        {
            if (!r.Supported)
            {
                table.AddRow(r.Mode.Name(), "-", "[yellow]unsupported[/]", "-", "-", "-", "-", "-");
                continue;
            }
            table.AddRow(
                r.Mode.Name(),
                Count(r.Ios),
                r.Verified ? "[green]yes[/]" : $"[red]NO[/] ({Count(r.VerifiedBlocks)}/{Count(r.Blocks)})",
                Count(r.DoorbellWrites),
                Count(r.UserspaceExits),
                r.DoorbellWrites == 0 ? "-" : r.NsPerDoorbell.ToString("N0", CultureInfo.InvariantCulture),
                Count((long)r.IopsQd1),
                Count((long)r.IopsHighDepth));
        }
        console.Write(table);
        foreach (var r in results)
        {
            if (!r.Supported) console.MarkupLineInterpolated($"[yellow]{r.Mode.Name()}[/]: {r.UnsupportedReason}");
        }
        var ran = results.Where(r => r.Supported).ToList();
        if (ran.Count > 0)
        {
            console.MarkupLine($"[grey]data verified: every block read back equals the pattern written to it ({Count(ran[0].Blocks)} block reads per mode, " +
                "the last pass with 16 KiB transfers through reversed PRP lists).[/]");
            console.MarkupLine("[grey]guest doorbell writes, exits to userspace: during the I/O phases. Setup (enable, Identify, create queues" +
                (ran.Any(r => r.Mode != WorkloadMode.Trap) ? ", Doorbell Buffer Config" : "") + ") exited " +
                string.Join(", ", ran.Select(r => $"{Count(r.SetupExits)} times in {r.Mode.Name()}")) + ".[/]");
            console.MarkupLine("[grey]ns per doorbell: the guest's TSC around its MMIO doorbell stores. IOPS and ns per doorbell: best round.[/]");
        }
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
