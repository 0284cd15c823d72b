using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;

namespace ShadowIo.Runtime.Tests.Binding;

public sealed class DoorbellEventsTests
{
    private const ulong BlockGpa = 0xFE00_0000;

    /// <summary>
    /// The waiter is seen blocked before Wake: the kernel reports its thread sleeping ('S' in
    /// /proc/self/task/TID/stat) inside an epoll_wait or epoll_pwait call (/proc/self/task/TID/syscall:
    /// syscall number, then arguments) whose first argument is an eventpoll fd. Wait(-1) has no
    /// timeout, so only Wake can return it, with zero events.
    /// </summary>
    [Fact]
    public void Wake_releases_a_wait_blocked_on_another_thread_with_zero_events()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var binding = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        using var events = new DoorbellEvents();
        events.Add(binding);
        int result = -1;
        string? task = null; // "/proc/PID/task/TID" of the waiting thread
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref task, "/proc/" + new FileInfo("/proc/thread-self").LinkTarget);
            result = events.Wait(new DoorbellEvent[4], -1);
        }) { IsBackground = true };
        waiter.Start();

        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref task) is { } t && IsBlockedInEpollWait(t), TimeSpan.FromSeconds(30)),
            $"the waiting thread was not seen asleep in epoll_wait within 30 s (last seen: {Describe(Volatile.Read(ref task))})");
        Assert.True(waiter.IsAlive);

        events.Wake();

        Assert.True(waiter.Join(TimeSpan.FromSeconds(30)), "Wake did not return the blocked Wait within 30 s");
        Assert.Equal(0, result);
    }

    // x86-64 syscall numbers of epoll_wait, epoll_pwait and epoll_pwait2 (arch/x86/entry/syscalls/syscall_64.tbl).
    private static readonly string[] EpollWaitSyscalls = ["232", "281", "441"];

    private static bool IsBlockedInEpollWait(string task)
    {
        string stat = File.ReadAllText(task + "/stat");
        char state = stat[(stat.LastIndexOf(')') + 2)]; // the state follows "(comm) "; comm may hold spaces
        string[] syscall = File.ReadAllText(task + "/syscall").Split(' ');
        return state == 'S' && EpollWaitSyscalls.Contains(syscall[0]) && syscall.Length > 1
            && new FileInfo($"/proc/self/fd/{Convert.ToInt32(syscall[1], 16)}").LinkTarget == "anon_inode:[eventpoll]";
    }

    private static string Describe(string? task) => task is null
        ? "the thread never started"
        : $"stat {File.ReadAllText(task + "/stat").Trim()}; syscall {File.ReadAllText(task + "/syscall").Trim()}";

    [Fact]
    public void Two_bindings_report_their_own_source_and_rows()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var first = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        using var second = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa + 0x10000, DoorbellBindingMode.Trap);
        using var events = new DoorbellEvents();
        int a = events.Add(first), b = events.Add(second);

        first.TryHandleMmioWrite(BlockGpa + 0x1004, 4, 1);
        second.TryHandleMmioWrite(BlockGpa + 0x10000 + 0x1808, 2, 1);
        second.TryHandleMmioWrite(BlockGpa + 0x10000 + 0x1808, 2, 2);
        var fired = new DoorbellEvent[8];
        int n = events.Wait(fired, 1000);

        Assert.Equal(2, n);
        Assert.Contains(new DoorbellEvent(a, TestDoorbellBlock.DoorbellIndex.CqHead) { Signals = 1 }, fired[..n]);
        Assert.Contains(new DoorbellEvent(b, TestDoorbellBlock.DoorbellIndex.Poke) { Signals = 2 }, fired[..n]);
    }

    [Fact]
    public void The_trap_path_and_waiting_allocate_nothing_per_doorbell()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var binding = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        using var events = new DoorbellEvents();
        events.Add(binding);
        var bus = new MmioBus();
        bus.Add(BlockGpa, new TestDoorbellBlock(), binding);
        var fired = new DoorbellEvent[16];
        Ring(bus, events, fired, 100); // warm up (JIT, tiering)

        long before = GC.GetAllocatedBytesForCurrentThread();
        long seen = Ring(bus, events, fired, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10_000, seen);
        Assert.Equal(0, allocated);
    }

    private static long Ring(MmioBus bus, DoorbellEvents events, DoorbellEvent[] fired, int count)
    {
        long seen = 0;
        for (int i = 0; i < count; i++)
        {
            bus.TryWrite(BlockGpa + 0x1000 + (ulong)(i % 4) * 8, 4, (ulong)i);
            int n = events.Wait(fired, 0);
            for (int k = 0; k < n; k++) seen += (long)fired[k].Signals;
        }
        return seen;
    }
}
