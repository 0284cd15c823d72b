using System.Globalization;
using ShadowIo;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.KernelGuest;
using ShadowIo.Testing;

// Usage: shadowio-kernel-guest [--expect-post-write] [--rate-writes N] [--seed N]
// Prints one record per line (see Report) and exits 0 when every check passed.
// shadowio-kernel-guest vfio-user-device SOCKET: the device process of the out-of-process runs.
if (args is [VfioUserDevice.Verb, var socketPath])
    return VfioUserDevice.Serve(socketPath);
bool expectPostWrite = args.Contains("--expect-post-write");
int rateWrites = ArgValue("--rate-writes", 20_000);
int seed = ArgValue("--seed", 8);
var report = new Report(Console.Out);

int ArgValue(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

bool postWrite;
using (var kvm = KvmSystem.Open())
using (var vm = kvm.CreateVm())
{
    postWrite = vm.SupportsIoEventFdPostWrite;
    report.Line($"PROBE post_write={postWrite} api={kvm.ApiVersion}");
    report.Check("probe.post-write", postWrite || !expectPostWrite,
        postWrite ? "KVM accepts KVM_IOEVENTFD_FLAG_POST_WRITE" : "KVM rejects KVM_IOEVENTFD_FLAG_POST_WRITE");
    using var best = DoorbellBinding.Create(vm, DoorbellTestBlock.DoorbellTable, 0xFE00_0000, DoorbellBindingMode.BestAvailable);
    report.Check("probe.best-available", best.Mode == (postWrite ? DoorbellBindingMode.KernelPostWrite : DoorbellBindingMode.GuestShadow),
        $"BestAvailable resolved to {best.Mode}");
}

DoorbellBindingMode[] modes = postWrite
    ? [DoorbellBindingMode.KernelPostWrite, DoorbellBindingMode.GuestShadow, DoorbellBindingMode.Trap]
    : [DoorbellBindingMode.GuestShadow, DoorbellBindingMode.Trap];
if (!postWrite)
{
    report.Skip("modes.kernel-post-write", "this kernel has no post-write");
    // Asking for the mode explicitly must fail with the reason, not fall back silently.
    using var kvm = KvmSystem.Open();
    using var vm = kvm.CreateVm();
    try
    {
        using var binding = DoorbellBinding.Create(vm, DoorbellTestBlock.DoorbellTable, 0xFE00_0000, DoorbellBindingMode.KernelPostWrite);
        report.Check("unsupported.reported", false, $"KernelPostWrite bound ({binding.Mode}) on a kernel that rejects the flag");
    }
    catch (KvmException error)
    {
        report.Line($"REFUSED kernel-post-write-mode errno={error.Errno} error={error.Error} message={error.Message}");
        report.Check("unsupported.reported", error.Error == KvmError.Unsupported
            && error.Message.Contains("KVM_IOEVENTFD_FLAG_POST_WRITE", StringComparison.Ordinal), $"{error.Error} errno {error.Errno}");
    }
}

var table = DoorbellTestBlock.DoorbellTable;
var writes = DoorbellSequence.Create(table, seed, writesPerRow: 6);
var expectedSignals = DoorbellSequence.ExpectedSignals(table, writes);
var expectedValues = DoorbellSequence.ExpectedLastValues(table, writes);
var expectedDispatched = DoorbellSequence.ExpectedDispatched(table, writes);
int kickMisses = expectedDispatched.Length;
const int RegisterAccesses = 2, Finish = 1;
var observed = new Dictionary<string, string>(); // run name → what the device observed
foreach (var mode in modes)
{
    string name = Name(mode);
    try
    {
        var seen = ModeRun.Run(mode, writes);
        observed[name] = seen.Observed;
        report.Line($"OBSERVED {name} {seen.Observed}");
        report.Line($"EXITS {name} {seen.ExitsToUserspace} trapped={seen.TrappedWrites}");
        report.Check($"{name}.every-signal", seen.Signals.SequenceEqual(expectedSignals), $"signals [{string.Join(",", seen.Signals)}]");
        report.Check($"{name}.exact-values", seen.LastValues.SequenceEqual(expectedValues), "generated DoorbellReader over binding.Shadow");
        report.Check($"{name}.datamatch", seen.Dispatched.SequenceEqual(expectedDispatched),
            $"{kickMisses} non-matching Kick writes reached OnDoorbellWritten, matching ones only signalled");
        report.Check($"{name}.register-dispatch", seen.Control == ModeRun.ControlValue && seen.StatusSeenByGuest == 1,
            $"control {seen.Control:x} status {seen.StatusSeenByGuest}");
        long expectedExits = mode == DoorbellBindingMode.Trap
            ? writes.Length + RegisterAccesses + Finish
            : kickMisses + RegisterAccesses + Finish;
        report.Check($"{name}.exits", seen.ExitsToUserspace == expectedExits,
            $"{seen.ExitsToUserspace} exits to userspace, expected {expectedExits}");
    }
    catch (Exception error)
    {
        report.Fail($"{name}.run", error);
    }
}
// The same guest program with the device in another process, over vfio-user: the client picks
// the best mode this kernel has for the server's IOEVENTFD_SHADOW doorbells.
const string OutOfProcess = "vfio-user";
var outOfProcessMode = postWrite ? DoorbellBindingMode.KernelPostWrite : DoorbellBindingMode.GuestShadow;
try
{
    var run = OutOfProcessRun.Run(DoorbellBindingMode.BestAvailable, writes);
    var seen = run.Observed;
    var device = run.Device;
    report.Line($"OBSERVED {OutOfProcess} {seen.Observed}");
    report.Line($"EXITS {OutOfProcess} {seen.ExitsToUserspace} trapped={seen.TrappedWrites} mode={Name(run.Mode)}");
    report.Line(device.Format());
    report.Check($"{OutOfProcess}.mode", run.Mode == outOfProcessMode,
        $"the client bound the server's doorbells as {Name(run.Mode)} ({run.AssignedIoEventFds} KVM ioeventfds)");
    int expectedIoEventFds = run.Mode == DoorbellBindingMode.KernelPostWrite
        ? table.Count
        : table.Entries.ToArray().Count(e => e.Kind == DoorbellKind.Notify);
    report.Check($"{OutOfProcess}.ioeventfds", run.AssignedIoEventFds == expectedIoEventFds,
        $"{run.AssignedIoEventFds} registered, expected {expectedIoEventFds}");
    report.Check($"{OutOfProcess}.every-signal", seen.Signals.SequenceEqual(expectedSignals), $"device process counted [{string.Join(",", seen.Signals)}]");
    report.Check($"{OutOfProcess}.exact-values", seen.LastValues.SequenceEqual(expectedValues),
        $"{expectedValues.Length} rows read by the device process from its shadow memfd");
    report.Check($"{OutOfProcess}.datamatch", seen.Dispatched.SequenceEqual(expectedDispatched),
        $"{kickMisses} non-matching Kick writes reached the device's dispatch by REGION_WRITE");
    report.Check($"{OutOfProcess}.register-dispatch", seen.Control == ModeRun.ControlValue && seen.StatusSeenByGuest == 1,
        $"control {seen.Control:x} status {seen.StatusSeenByGuest}");
    // KVM serves a write without an exit when an ioeventfd matches it: notify doorbells on their
    // datamatch, and with post-write the value doorbells too (the client's GuestShadow mode traps
    // them: no guest shadow page stands behind a remote device).
    bool ServedByKvm(DoorbellWrite w)
    {
        var e = table[w.Row];
        bool hit = !e.HasDataMatch || e.DataMatch == w.Value;
        return hit && (e.Kind == DoorbellKind.Notify || run.Mode == DoorbellBindingMode.KernelPostWrite);
    }
    long expectedExits = writes.Count(w => !ServedByKvm(w)) + RegisterAccesses + Finish;
    report.Check($"{OutOfProcess}.exits", seen.ExitsToUserspace == expectedExits,
        $"{seen.ExitsToUserspace} exits to userspace for {writes.Length} doorbell writes, expected {expectedExits}");
    // Messages: the Kick misses and the Control write; never a doorbell value.
    long expectedMessages = kickMisses + 1;
    report.Check($"{OutOfProcess}.messages", run.ClientRegionWrites == expectedMessages && device.ServerTrappedWrites == 0,
        $"{run.ClientRegionWrites} REGION_WRITEs (expected {expectedMessages}), {device.ServerTrappedWrites} doorbell writes trapped by the server");
    report.Check($"{OutOfProcess}.session", device.DmaMaps == 1 && device.EndReason == null,
        $"{device.DmaMaps} DMA maps (guest RAM by memfd), end {device.EndReason ?? "clean"}");
    observed[OutOfProcess] = seen.Observed;
}
catch (Exception error)
{
    report.Fail($"{OutOfProcess}.run", error);
}
if (observed.Count == modes.Length + 1)
    report.Check("modes.identical", observed.Values.Distinct().Count() == 1,
        string.Join(" | ", observed.Keys));

// The same modes for a port I/O block: doorbells on KVM's PIO bus, rung with out dx.
var portWrites = DoorbellSequence.Create(PortRun.Table, seed, writesPerRow: 6);
var portSignals = DoorbellSequence.ExpectedSignals(PortRun.Table, portWrites);
var portValues = DoorbellSequence.ExpectedLastValues(PortRun.Table, portWrites);
var portDispatched = DoorbellSequence.ExpectedDispatched(PortRun.Table, portWrites);
foreach (var mode in modes)
{
    string name = "port." + Name(mode);
    try
    {
        var seen = PortRun.Run(mode, portWrites);
        report.Line($"EXITS {name} {seen.ExitsToUserspace}");
        report.Check($"{name}.every-signal", seen.Signals.SequenceEqual(portSignals), $"signals [{string.Join(",", seen.Signals)}]");
        report.Check($"{name}.exact-values", seen.LastValues.SequenceEqual(portValues),
            $"values [{string.Join(",", seen.LastValues.Select(Report.Hex))}] by the generated DoorbellReader");
        report.Check($"{name}.datamatch", seen.Dispatched.SequenceEqual(portDispatched),
            $"{portDispatched.Length} queue-notify values no row matches reached OnDoorbellWritten");
        long expectedExits = (mode == DoorbellBindingMode.Trap ? portWrites.Length : portDispatched.Length) + Finish;
        report.Check($"{name}.exits", seen.ExitsToUserspace == expectedExits,
            $"{seen.ExitsToUserspace} exits to userspace for {portWrites.Length} port writes, expected {expectedExits}");
    }
    catch (Exception error)
    {
        report.Fail($"{name}.run", error);
    }
}

foreach (var mode in modes)
{
    string name = Name(mode);
    try
    {
        var seen = ModeRun.RunLoop(mode, rateWrites);
        ulong signals = seen.Signals[DoorbellTestBlock.DoorbellIndex.SqTail + 1];
        double seconds = seen.Elapsed.TotalSeconds;
        report.Line($"RATE {name} writes={rateWrites} signals={signals} exits={seen.ExitsToUserspace} seconds={Report.Number(seconds)} " +
            $"per_second={Report.Number(rateWrites / seconds)} ns_per_write={Report.Number(seconds * 1e9 / rateWrites)}");
        report.Check($"{name}.rate-loop", signals == (ulong)rateWrites && seen.LastValues[DoorbellTestBlock.DoorbellIndex.SqTail + 1] == 1,
            $"{signals} signals for {rateWrites} writes, last value {seen.LastValues[DoorbellTestBlock.DoorbellIndex.SqTail + 1]}");
    }
    catch (Exception error)
    {
        report.Fail($"{name}.rate-loop", error);
    }
}

try
{
    // The loop against the device process: the device counts the signals on its eventfd and
    // reads the last value (1) from its memfd.
    var run = OutOfProcessRun.RunLoop(DoorbellBindingMode.BestAvailable, rateWrites);
    var seen = run.Observed;
    int row = DoorbellTestBlock.DoorbellIndex.SqTail + 1;
    ulong signals = seen.Signals[row];
    double seconds = seen.Elapsed.TotalSeconds;
    report.Line($"RATE {OutOfProcess} writes={rateWrites} signals={signals} exits={seen.ExitsToUserspace} seconds={Report.Number(seconds)} " +
        $"per_second={Report.Number(rateWrites / seconds)} ns_per_write={Report.Number(seconds * 1e9 / rateWrites)} mode={Name(run.Mode)}");
    long expectedExits = RegisterAccesses + Finish + (run.Mode == DoorbellBindingMode.KernelPostWrite ? 0 : rateWrites);
    report.Check($"{OutOfProcess}.rate-loop", signals == (ulong)rateWrites && seen.LastValues[row] == 1 && seen.ExitsToUserspace == expectedExits,
        $"{signals} signals for {rateWrites} writes, last value {seen.LastValues[row]} in the device's memfd, {seen.ExitsToUserspace} exits (expected {expectedExits})");
}
catch (Exception error)
{
    report.Fail($"{OutOfProcess}.rate-loop", error);
}

if (postWrite)
{
    var registrations = new PostWriteRegistrations(report);
    try { registrations.DeassignMatchesPostAddress(); }
    catch (Exception error) { report.Fail("deassign", error); }
    try { registrations.BadConfigurationsAreRefused(); }
    catch (Exception error) { report.Fail("refused", error); }
}
else
{
    report.Skip("deassign", "this kernel has no post-write");
    report.Skip("refused", "this kernel has no post-write");
}

report.Line($"DONE failures={report.Failures}");
return report.Failures == 0 ? 0 : 1;

static string Name(DoorbellBindingMode mode) => mode switch
{
    DoorbellBindingMode.KernelPostWrite => "post-write",
    DoorbellBindingMode.GuestShadow => "ioeventfd",
    DoorbellBindingMode.Trap => "trap",
    _ => mode.ToString(),
};
