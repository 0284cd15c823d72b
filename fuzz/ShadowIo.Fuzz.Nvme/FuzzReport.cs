using System.Globalization;
using System.Text;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>Counts from a fuzz run and the first failures found (with how to replay them).</summary>
public sealed class FuzzReport
{
    private const int KeptFailures = 20;

    public long Inputs { get; internal set; }
    public long Episodes { get; internal set; }
    public long CommandsSubmitted { get; internal set; }
    public long CompletionsChecked { get; internal set; }
    public long AsyncEventsSeen { get; internal set; }
    public long InvalidDoorbellWrites { get; internal set; }
    public long ChaosDoorbellWrites { get; internal set; }
    public long RegisterWrites { get; internal set; }
    public long ControllerResets { get; internal set; }
    public long DoorbellBufferConfigs { get; internal set; }
    public long RoundTrips { get; internal set; }
    public long MemoryMapChanges { get; internal set; }
    public long CompletionWriteFailures { get; internal set; }
    public long FailureCount { get; internal set; }
    public SortedDictionary<string, long> Statuses { get; } = new(StringComparer.Ordinal);
    public List<string> Failures { get; } = [];

    internal void CountStatus(NvmeStatus status) =>
        Statuses[status.ToString()] = Statuses.GetValueOrDefault(status.ToString()) + 1;

    internal void Fail(string message)
    {
        FailureCount++;
        if (Failures.Count < KeptFailures) Failures.Add(message);
    }

    public void Add(FuzzReport other)
    {
        Inputs += other.Inputs;
        Episodes += other.Episodes;
        CommandsSubmitted += other.CommandsSubmitted;
        CompletionsChecked += other.CompletionsChecked;
        AsyncEventsSeen += other.AsyncEventsSeen;
        InvalidDoorbellWrites += other.InvalidDoorbellWrites;
        ChaosDoorbellWrites += other.ChaosDoorbellWrites;
        RegisterWrites += other.RegisterWrites;
        ControllerResets += other.ControllerResets;
        DoorbellBufferConfigs += other.DoorbellBufferConfigs;
        RoundTrips += other.RoundTrips;
        MemoryMapChanges += other.MemoryMapChanges;
        CompletionWriteFailures += other.CompletionWriteFailures;
        FailureCount += other.FailureCount;
        foreach (var (k, v) in other.Statuses) Statuses[k] = Statuses.GetValueOrDefault(k) + v;
        foreach (var f in other.Failures)
        {
            if (Failures.Count < KeptFailures) Failures.Add(f);
        }
    }

    public override string ToString()
    {
        var b = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        b.AppendLine(c, $"inputs tried            {Inputs,12:N0}");
        b.AppendLine(c, $"episodes                {Episodes,12:N0}");
        b.AppendLine(c, $"commands submitted      {CommandsSubmitted,12:N0}");
        b.AppendLine(c, $"completions checked     {CompletionsChecked,12:N0}");
        b.AppendLine(c, $"async events seen       {AsyncEventsSeen,12:N0}");
        b.AppendLine(c, $"invalid doorbell writes {InvalidDoorbellWrites,12:N0}");
        b.AppendLine(c, $"chaos doorbell writes   {ChaosDoorbellWrites,12:N0}");
        b.AppendLine(c, $"register writes         {RegisterWrites,12:N0}");
        b.AppendLine(c, $"controller resets       {ControllerResets,12:N0}");
        b.AppendLine(c, $"doorbell buffer configs {DoorbellBufferConfigs,12:N0}");
        b.AppendLine(c, $"memory map changes      {MemoryMapChanges,12:N0}");
        b.AppendLine(c, $"completions lost to RAM {CompletionWriteFailures,12:N0}  (CQ unmapped: written nowhere, counted)");
        b.AppendLine(c, $"write+read round trips  {RoundTrips,12:N0}");
        b.AppendLine(c, $"failures                {FailureCount,12:N0}");
        foreach (var (status, count) in Statuses) b.AppendLine(c, $"  status {status,-32} {count,12:N0}");
        foreach (var f in Failures) b.AppendLine("  FAIL " + f);
        return b.ToString();
    }
}
