using System.Buffers.Binary;
using System.Diagnostics;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// One mode's run of the workload: a CPL3 guest on /dev/kvm acts as the NVMe host driver. It
/// enables the controller, identifies it, creates an I/O queue pair (and sends Doorbell Buffer
/// Config in the shadow modes), then writes every block with a distinct pattern and reads it
/// back, once at queue depth 1 and once at the configured depth. The harness stages command
/// templates and data in guest memory and checks what came back; the guest does the driving.
/// </summary>
internal sealed partial class NvmeWorkload : IDisposable
{
    /// <summary>BAR0's guest-physical address: above RAM, inside the guest's 4 GiB identity map.</summary>
    public const ulong Bar = 0xFE00_0000;

    private const ushort IoQueueId = 1;

    private readonly WorkloadMode _mode;
    private readonly WorkloadSettings _settings;
    private readonly IWorkloadProgress? _progress;
    private readonly WorkloadLayout _layout;
    private readonly TestGuest _guest;
    private readonly IBlockStorage? _storage;
    private readonly IControllerHost _host;
    private readonly byte[] _page = new byte[WorkloadLayout.PageSize];
    private int _lbaShift;

    private NvmeWorkload(KvmSystem kvm, WorkloadMode mode, WorkloadSettings settings, IWorkloadProgress? progress)
    {
        _mode = mode;
        _settings = settings;
        _progress = progress;
        int entries = Math.Max(64, settings.QueueDepth + 1);
        _layout = new WorkloadLayout(ShadowIo.Testing.GuestLayout.Data, entries, settings.Blocks, settings.Blocks);
        ulong ram = AlignUp(_layout.End + ShadowIo.Testing.GuestLayout.StackSize, 2UL << 20);
        if (ram >= Bar) throw new WorkloadException($"{settings.Blocks} blocks need 0x{ram:x} bytes of guest RAM, which would overlap BAR0 at 0x{Bar:x}.");

        _guest = TestGuest.Create(kvm, ram);
        try
        {
            bool polling = mode == WorkloadMode.EventIdx;
            if (settings.Transport == WorkloadTransport.VfioUser)
            {
                // The namespace lives with the controller, in the device process.
                _host = new RemoteControllerHost(_guest, settings, Bar, BindingMode(mode), polling);
            }
            else
            {
                long bytes = (long)settings.Blocks * WorkloadLayout.PageSize;
                _storage = settings.BackingFile is null ? new MemoryBlockStorage(bytes) : FileBlockStorage.Open(settings.BackingFile);
                try
                {
                    _host = new ControllerHost(_guest, _storage, Bar, BindingMode(mode), polling, settings.EventSpin, settings.PollIdle);
                }
                catch
                {
                    _storage.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            _guest.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="mode"/>; an unsupported mode comes back with its reason instead of throwing.</summary>
    /// <exception cref="WorkloadException">The guest or the controller failed.</exception>
    public static ModeResult Run(KvmSystem kvm, WorkloadMode mode, WorkloadSettings settings, IWorkloadProgress? progress)
    {
        ArgumentNullException.ThrowIfNull(kvm);
        ArgumentNullException.ThrowIfNull(settings);
        NvmeWorkload workload;
        try
        {
            progress?.Step(mode, 0, StepCount(settings), "creating the VM and binding doorbells");
            workload = new NvmeWorkload(kvm, mode, settings, progress);
        }
        catch (KvmException e) when (mode == WorkloadMode.PostWrite && e.Error == KvmError.Unsupported)
        {
            return new ModeResult
            {
                Mode = mode,
                Supported = false,
                UnsupportedReason = "this kernel rejects KVM_IOEVENTFD_FLAG_POST_WRITE with EINVAL: the kernel post-write patch is not applied.",
            };
        }
        using (workload) return workload.Run();
    }

    private static DoorbellBindingMode BindingMode(WorkloadMode mode) => mode switch
    {
        WorkloadMode.Trap => DoorbellBindingMode.Trap,
        WorkloadMode.IoEventFd or WorkloadMode.EventIdx => DoorbellBindingMode.GuestShadow,
        WorkloadMode.PostWrite => DoorbellBindingMode.KernelPostWrite,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    private DoorbellPolicy IoPolicy => _mode switch
    {
        WorkloadMode.IoEventFd => DoorbellPolicy.ShadowAlwaysRing,
        WorkloadMode.EventIdx => DoorbellPolicy.ShadowEventIdx,
        _ => DoorbellPolicy.Mmio,
    };

    private bool UsesDoorbellBuffer => IoPolicy != DoorbellPolicy.Mmio;

    private ModeResult Run()
    {
        InitializeQueueState(_layout.AdminQueueState);
        InitializeQueueState(_layout.IoQueueState);

        Report(0, "enabling the controller, Identify");
        var identify = Setup(p =>
        {
            p.EnableController(_layout.AdminSubmissionQueue, _layout.AdminCompletionQueue, WorkloadLayout.AdminQueueEntries, maxReadyPolls: 1000);
            p.Run(AdminJob(
                e => SubmissionEntries.Identify(e, SubmissionEntries.IdentifyController, 0, _layout.IdentifyController),
                e => SubmissionEntries.Identify(e, SubmissionEntries.IdentifyNamespace, NvmeController.NamespaceId, _layout.IdentifyNamespace)));
        }, "Identify");
        CheckIdentify(out bool doorbellBufferAdvertised);
        if (UsesDoorbellBuffer && !doorbellBufferAdvertised)
            throw new WorkloadException("the controller does not advertise Doorbell Buffer Config (Identify OACS bit 8).");

        Report(1, UsesDoorbellBuffer ? "creating the I/O queue pair, Doorbell Buffer Config" : "creating the I/O queue pair");
        var commands = new List<Action<Span<byte>>>
        {
            e => SubmissionEntries.CreateIoCompletionQueue(e, IoQueueId, _layout.IoQueueEntries, _layout.IoCompletionQueue),
            e => SubmissionEntries.CreateIoSubmissionQueue(e, IoQueueId, _layout.IoQueueEntries, _layout.IoSubmissionQueue, IoQueueId),
        };
        if (UsesDoorbellBuffer) commands.Add(e => SubmissionEntries.DoorbellBufferConfig(e, _layout.ShadowDoorbells, _layout.EventIndexes));
        var queues = Setup(p => p.Run(AdminJob([.. commands])), "creating the I/O queues");
        if (UsesDoorbellBuffer)
        {
            if (!_guest.Memory.TryGetShadowRegion(_layout.ShadowDoorbells, WorkloadLayout.PageSize, out var guestShadow))
                throw new WorkloadException($"the Doorbell Buffer Config page 0x{_layout.ShadowDoorbells:x} is outside guest RAM.");
            _host.DoorbellBufferConfigured(guestShadow);
        }
        if (UsesDoorbellBuffer && !_host.IsGuestShadowAttached)
            throw new WorkloadException("Doorbell Buffer Config completed but the binding has no guest shadow page attached.");

        // Each round writes every block with a pattern no earlier round used, then reads it back:
        // a block that kept an old round's data cannot pass. Rate and doorbell cost are the best
        // round's (the machine is shared; the best round is the one least disturbed).
        var measured = new WorkloadMeasurement();
        long verified = 0;
        int step = 2;
        for (int round = 0; round < _settings.Rounds; round++)
        {
            foreach (int depth in (int[])[1, _settings.QueueDepth])
            {
                int pass = 2 * round + (depth == 1 ? 1 : 2);
                string label = _settings.Rounds == 1 ? $"QD{depth}" : $"round {round + 1}, QD{depth}";
                Report(step++, $"{label}: writing {_settings.Blocks} blocks");
                StageWrites(pass);
                var write = RunIo(depth, "Write");

                Report(step++, $"{label}: reading back and verifying");
                StageReads();
                var read = RunIo(depth, "Read");
                verified += Verify(pass);
                measured.Add(depth, write, read);
            }
        }

        var (prpBlocks, prpVerified) = RunPrpListPass(step, 2 * _settings.Rounds + 1, measured);
        _host.CheckHealth();

        var io = measured.Total;
        long blocks = 2L * _settings.Blocks * _settings.Rounds + prpBlocks;
        verified += prpVerified;
        return new ModeResult
        {
            Mode = _mode,
            Ios = io.Completions,
            Blocks = blocks,
            VerifiedBlocks = verified,
            Verified = verified == blocks,
            DoorbellWrites = io.DoorbellWrites,
            SuppressedDoorbells = io.SuppressedDoorbells,
            UserspaceExits = io.UserspaceExits,
            SetupExits = identify.UserspaceExits + queues.UserspaceExits,
            NsPerDoorbell = measured.BestNsPerDoorbell,
            IopsQd1 = measured.BestIops(1),
            IopsHighDepth = measured.BestIops(_settings.QueueDepth),
            QueueDepth = _settings.QueueDepth,
        };
    }

    /// <summary>A guest run of admin commands that must all succeed.</summary>
    private GuestRun Setup(Action<DriverProgram> build, string what)
    {
        var run = RunProgram(build);
        if (run.Statistics.ErrorCompletions != 0)
            throw new WorkloadException($"{what}: command {run.Statistics.FirstErrorCommandId} completed with status 0x{run.Statistics.FirstErrorStatus:x} " +
                $"({run.Statistics.ErrorCompletions} failed).");
        return run;
    }

    private QueueJob AdminJob(params Action<Span<byte>>[] builders)
    {
        for (int i = 0; i < builders.Length; i++)
        {
            _page.AsSpan(0, SubmissionEntries.Size).Clear();
            builders[i](_page.AsSpan(0, SubmissionEntries.Size));
            Write(_layout.AdminCommands + (ulong)i * SubmissionEntries.Size, _page.AsSpan(0, SubmissionEntries.Size));
        }
        return new QueueJob
        {
            QueueId = 0,
            SubmissionQueue = _layout.AdminSubmissionQueue,
            CompletionQueue = _layout.AdminCompletionQueue,
            Entries = WorkloadLayout.AdminQueueEntries,
            StateAddress = _layout.AdminQueueState,
            CommandTable = _layout.AdminCommands,
            Count = builders.Length,
            Depth = 1,
            Policy = DoorbellPolicy.Mmio,
        };
    }

    /// <summary>One measured pass: every block's command, <paramref name="depth"/> in flight.</summary>
    private GuestRun RunIo(int depth, string what, int? count = null)
    {
        var job = new QueueJob
        {
            QueueId = IoQueueId,
            SubmissionQueue = _layout.IoSubmissionQueue,
            CompletionQueue = _layout.IoCompletionQueue,
            Entries = _layout.IoQueueEntries,
            StateAddress = _layout.IoQueueState,
            CommandTable = _layout.IoCommands,
            Count = count ?? _settings.Blocks,
            Depth = depth,
            Policy = IoPolicy,
            ShadowPage = _layout.ShadowDoorbells,
            EventIndexPage = _layout.EventIndexes,
        };
        var run = RunProgram(p => p.Run(job));
        if (run.Statistics.ErrorCompletions != 0)
            throw new WorkloadException($"{_mode.Name()} QD{depth}: {run.Statistics.ErrorCompletions} {what} command(s) failed; " +
                $"first: command {run.Statistics.FirstErrorCommandId}, status 0x{run.Statistics.FirstErrorStatus:x}.");
        if (run.Statistics.Completions != (count ?? _settings.Blocks))
            throw new WorkloadException($"{_mode.Name()} QD{depth}: {run.Statistics.Completions} of {count ?? _settings.Blocks} {what} commands completed.");
        return run;
    }

    /// <summary>Assembles a program, runs it to its finish marker and reads the guest's counters.</summary>
    private GuestRun RunProgram(Action<DriverProgram> build)
    {
        Write(_layout.Statistics, new byte[GuestStatistics.Size]);
        var program = new DriverProgram(Bar, _layout.Statistics, (byte)ShadowIo.Testing.GuestLayout.FinishPort, _settings.CompletionTimeoutTscTicks);
        build(program);
        _guest.Load(program.Assemble(ShadowIo.Testing.GuestLayout.Code));

        var clock = Stopwatch.StartNew();
        var exits = _guest.RunToFinish(_host.Bus);
        clock.Stop();
        _host.CheckHealth();
        if (!GuestStatistics.TryRead(_guest.Memory, _layout.Statistics, out var statistics))
            throw new WorkloadException("the guest's statistics block is outside guest RAM.");
        if (statistics.Failure != GuestFailure.None)
            throw new WorkloadException($"{_mode.Name()}: the guest driver stopped: {Describe(statistics.Failure)}.");
        return new GuestRun(exits, statistics, clock.Elapsed);
    }

    private string Describe(GuestFailure failure) => failure switch
    {
        GuestFailure.CompletionTimeout => $"no completion arrived within {_settings.CompletionTimeoutTscTicks} TSC ticks",
        GuestFailure.ReadyTimeout => "CSTS.RDY never rose after CC.EN was set",
        GuestFailure.ControllerFatal => $"the controller set CSTS.CFS while enabling ({_host.LastEnableFailure ?? "no reason given"})",
        _ => failure.ToString(),
    };

    /// <summary>Reads the Identify data the guest fetched: OACS, namespace size and LBA format.</summary>
    private void CheckIdentify(out bool doorbellBufferAdvertised)
    {
        Read(_layout.IdentifyController, _page);
        ushort oacs = BinaryPrimitives.ReadUInt16LittleEndian(_page.AsSpan(256));
        doorbellBufferAdvertised = (oacs & (1 << 8)) != 0;

        Read(_layout.IdentifyNamespace, _page);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(_page);
        int format = _page[26] & 0xF;
        _lbaShift = _page[128 + 4 * format + 2];
        if (_lbaShift is < 9 or > 12)
            throw new WorkloadException($"Identify Namespace reports an LBA size of 2^{_lbaShift} bytes; the workload needs 512..4096.");
        ulong needed = (ulong)_settings.Blocks * WorkloadLayout.PageSize >> _lbaShift;
        if (size < needed)
            throw new WorkloadException($"the namespace holds {size} blocks of {1 << _lbaShift} bytes; the workload needs {needed}.");
    }

    /// <summary>Tail 0, head 0, expected phase 1: a new queue pair (NVMe 2.0 §3.3.3.2.1).</summary>
    private void InitializeQueueState(ulong address)
    {
        Span<byte> state = stackalloc byte[WorkloadLayout.QueueStateSize];
        state.Clear();
        state[8] = 1;
        Write(address, state);
    }

    private void Report(int step, string description) => _progress?.Step(_mode, step, StepCount(_settings), description);

    /// <summary>Setup, queue creation, a write and a read step per depth per round, the PRP-list pass.</summary>
    private static int StepCount(WorkloadSettings settings) => 3 + 4 * settings.Rounds;

    private void Write(ulong gpa, ReadOnlySpan<byte> data)
    {
        if (!_guest.Memory.TryWrite(gpa, data)) throw new WorkloadException($"staging address 0x{gpa:x} is outside guest RAM.");
    }

    private void Read(ulong gpa, Span<byte> data)
    {
        if (!_guest.Memory.TryRead(gpa, data)) throw new WorkloadException($"address 0x{gpa:x} is outside guest RAM.");
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) / alignment * alignment;

    public void Dispose()
    {
        _host.Dispose();
        _storage?.Dispose();
        _guest.Dispose();
    }
}
