using ShadowIo.Native;
using System.Runtime.InteropServices;
using ShadowIo.Kvm.Native;
using static Tmds.Linux.LibC;

namespace ShadowIo.Kvm;

/// <summary>
/// A KVM VM fd: memory slots, ioeventfds and vCPUs. Guest RAM is reachable only through
/// <see cref="GuestMemory"/> (bounds-checked).
/// </summary>
/// <remarks>
/// <para>The VM does not own the <see cref="MemoryMapping"/>s given to it: dispose them after the VM.</para>
/// <para>Threading: configure it (memory slots, ioeventfds, vCPUs) from one thread at a time; the
/// kernel serializes the ioctls themselves, but the slot table kept here is not locked.
/// <see cref="GuestMemory"/> may be read from any thread meanwhile (it is republished whole).</para>
/// </remarks>
public sealed unsafe class KvmVm : IDisposable
{
    private readonly Dictionary<uint, GuestMemory.Region> _slots = [];
    private readonly Dictionary<uint, MemoryMapping> _slotMappings = [];
    private readonly FileDescriptorHandle _fd;
    private bool? _supportsPostWrite;

    internal KvmVm(KvmSystem system, int fd)
    {
        System = system;
        _fd = new FileDescriptorHandle(fd);
    }

    /// <summary>The system this VM was created from (its vCPU mapping size is used for every vCPU).</summary>
    public KvmSystem System { get; }

    /// <summary>The VM fd; valid until disposal. Internal: only the ioctls in this assembly use it.</summary>
    internal int Fd => !_fd.IsClosed ? _fd.Fd : throw new ObjectDisposedException(nameof(KvmVm));

    /// <summary>The VM's RAM as this process sees it, one region per memory slot.</summary>
    public GuestMemory GuestMemory { get; } = new();

    /// <summary>
    /// Maps <paramref name="mapping"/> at guest-physical <paramref name="gpa"/> as memory slot
    /// <paramref name="slot"/> (<c>KVM_SET_USER_MEMORY_REGION</c>); replaces a slot with the same number.
    /// </summary>
    /// <param name="slot">Slot number, below <see cref="KvmCapability.NrMemslots"/>.</param>
    /// <param name="gpa">Guest-physical base address, page-aligned.</param>
    /// <param name="mapping">The host memory; its whole length becomes the slot (a multiple of the page size).</param>
    /// <exception cref="KvmException">The kernel refused: overlapping slots or unaligned addresses (<see cref="KvmError.InvalidArgument"/>), too many slots.</exception>
    public void SetMemoryRegion(uint slot, ulong gpa, MemoryMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var region = new KvmUserspaceMemoryRegion
        {
            Slot = slot,
            GuestPhysAddr = gpa,
            MemorySize = mapping.Length,
            UserspaceAddr = (ulong)mapping.Pointer,
        };
        if (ioctl(Fd, KvmIoctls.SetUserMemoryRegion, &region) != 0)
            throw KvmException.FromErrno($"KVM_SET_USER_MEMORY_REGION slot {slot} at 0x{gpa:x} ({mapping.Length} bytes)", errno);
        _slots[slot] = new GuestMemory.Region(gpa, mapping.Length, (nint)mapping.Pointer);
        _slotMappings[slot] = mapping;
        PublishGuestMemory();
    }

    /// <summary>Deletes memory slot <paramref name="slot"/> (size 0); a slot never set is ignored.</summary>
    /// <exception cref="KvmException">The kernel refused the deletion.</exception>
    public void RemoveMemoryRegion(uint slot)
    {
        if (!_slots.Remove(slot)) return;
        _slotMappings.Remove(slot);
        var region = new KvmUserspaceMemoryRegion { Slot = slot };
        if (ioctl(Fd, KvmIoctls.SetUserMemoryRegion, &region) != 0)
            throw KvmException.FromErrno($"KVM_SET_USER_MEMORY_REGION (delete slot {slot})", errno);
        PublishGuestMemory();
    }

    /// <summary>
    /// The memory slots with the mappings behind them, by guest-physical address: what a vfio-user
    /// client shares with a device process (DMA_MAP with each memfd-backed slot's fd).
    /// </summary>
    internal IReadOnlyList<(ulong Gpa, MemoryMapping Mapping)> MemorySlots
    {
        get
        {
            var slots = new List<(ulong Gpa, MemoryMapping Mapping)>(_slotMappings.Count);
            foreach (var (slot, mapping) in _slotMappings) slots.Add((_slots[slot].GuestPhysicalAddress, mapping));
            slots.Sort(static (a, b) => a.Gpa.CompareTo(b.Gpa));
            return slots;
        }
    }

    /// <summary>Creates vCPU <paramref name="id"/> and maps its <c>kvm_run</c>.</summary>
    /// <param name="id">The vCPU (APIC) id, unique in this VM.</param>
    /// <exception cref="KvmException">The id is taken or over <see cref="KvmCapability.MaxVcpus"/>, or the mapping failed.</exception>
    public KvmVcpu CreateVcpu(int id = 0)
    {
        int fd = ioctl(Fd, KvmIoctls.CreateVcpu, id);
        if (fd < 0) throw KvmException.FromErrno($"KVM_CREATE_VCPU {id}", errno);
        return new KvmVcpu(this, fd, id, System.VcpuMmapSize);
    }

    /// <summary>
    /// Registers an ioeventfd (<c>KVM_IOEVENTFD</c>): from now on a matching guest write signals
    /// the eventfd inside the kernel instead of exiting to userspace. With a
    /// <see cref="IoEventFdRegistration.PostAddress"/> it needs the post-write kernel patch
    /// (<see cref="SupportsIoEventFdPostWrite"/>).
    /// </summary>
    /// <exception cref="KvmException">
    /// <see cref="KvmError.AlreadyExists"/> for the same address, length and datamatch;
    /// <see cref="KvmError.LimitReached"/> when the MMIO bus is full (1000 devices);
    /// <see cref="KvmError.Unsupported"/> for post-write on a kernel without the patch;
    /// <see cref="KvmError.InvalidArgument"/> for a post-write configuration the patched kernel refuses.
    /// </exception>
    public void AssignIoEventFd(in IoEventFdRegistration registration)
    {
        int e = IoEventFdIoctl(registration, deassign: false);
        if (e == 0) return;
        // A kernel with the post-write patch answers EINVAL for a bad post_addr or length too
        // (checked at assign time); only a kernel without it means "unsupported".
        if (e == Errno.EINVAL && registration.PostAddress != 0 && SupportsIoEventFdPostWrite)
            throw new KvmException(KvmError.InvalidArgument, e,
                $"KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_POST_WRITE ({registration}): the kernel refused this post-write configuration (EINVAL): " +
                "post_addr must be aligned to the length and lie in a writable mapping of this process, and the length must be 1, 2, 4 or 8 (not 0).");
        if (e == Errno.EINVAL && registration.PostAddress != 0)
            throw new KvmException(KvmError.Unsupported, e,
                $"KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_POST_WRITE ({registration}): this kernel rejects the post-write flag (EINVAL), " +
                "so the kernel post-write patch is not applied. Use DoorbellBindingMode.BestAvailable, GuestShadow or Trap.");
        if (e == Errno.ENOSPC)
            throw new KvmException(KvmError.LimitReached, e,
                $"KVM_IOEVENTFD ({registration}): the MMIO bus is full (KVM allows at most 1000 devices per bus, KVM_IO_BUS_MAX_DEVS).");
        if (e == Errno.EEXIST)
            throw new KvmException(KvmError.AlreadyExists, e,
                $"KVM_IOEVENTFD ({registration}): an ioeventfd with this address, length and datamatch is already registered.");
        throw KvmException.FromErrno($"KVM_IOEVENTFD ({registration})", e);
    }

    /// <summary>Removes an ioeventfd registered with the same address, length, fd and datamatch (and post address).</summary>
    /// <exception cref="KvmException"><see cref="KvmError.InvalidArgument"/> when no registration matches exactly.</exception>
    public void DeassignIoEventFd(in IoEventFdRegistration registration)
    {
        int e = IoEventFdIoctl(registration, deassign: true);
        if (e == Errno.ENOENT)
            throw new KvmException(KvmError.InvalidArgument, e,
                $"KVM_IOEVENTFD deassign ({registration}): no ioeventfd is registered with exactly this address, length, fd, datamatch" +
                (registration.PostAddress != 0 ? " and post_addr" : " (and no post_addr)") + " (ENOENT).");
        if (e != 0) throw KvmException.FromErrno($"KVM_IOEVENTFD deassign ({registration})", e);
    }

    /// <summary>Removes an ioeventfd; returns false (instead of throwing) when the kernel refuses, for cleanup paths.</summary>
    public bool TryDeassignIoEventFd(in IoEventFdRegistration registration) =>
        !_fd.IsClosed && IoEventFdIoctl(registration, deassign: true) == 0;

    /// <summary>
    /// Whether this kernel accepts <c>KVM_IOEVENTFD_FLAG_POST_WRITE</c>. Probed once by assigning
    /// (and at once deassigning) a post-write ioeventfd on a scratch address: a kernel without the
    /// patch rejects the unknown flag with EINVAL before looking at anything else.
    /// </summary>
    public bool SupportsIoEventFdPostWrite => _supportsPostWrite ??= ProbePostWrite();

    private bool ProbePostWrite()
    {
        int raw = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (raw < 0) throw KvmException.FromErrno("eventfd (post-write probe)", errno);
        using var efd = EventFd.FromOwned(raw);
        // A real writable address: the revised patch validates post_addr at assign time.
        ulong* target = (ulong*)NativeMemory.AllocZeroed(8);
        try
        {
            // The last 8 bytes below 4 GiB are in no slot; any unclaimed MMIO address would do.
            var probe = new IoEventFdRegistration(0xFFFF_FFF8, 8, efd.Fd) { PostAddress = (nint)target };
            int e = IoEventFdIoctl(probe, deassign: false);
            if (e == 0)
            {
                IoEventFdIoctl(probe, deassign: true);
                return true;
            }
            return false;
        }
        finally
        {
            NativeMemory.Free(target);
        }
    }

    /// <summary>Encodes and issues KVM_IOEVENTFD; returns 0 or the errno.</summary>
    private int IoEventFdIoctl(in IoEventFdRegistration r, bool deassign)
    {
        var flags = KvmIoEventFdFlags.None;
        if (r.DataMatch.HasValue) flags |= KvmIoEventFdFlags.DataMatch;
        if (r.IsPio) flags |= KvmIoEventFdFlags.Pio;
        if (deassign) flags |= KvmIoEventFdFlags.Deassign;
        int rc;
        if (r.PostAddress != 0)
        {
            var native = IoEventFdEncoding.EncodePostWrite(r, flags);
            rc = ioctl(Fd, KvmIoctls.IoEventFd, &native);
        }
        else
        {
            var native = IoEventFdEncoding.Encode(r, flags);
            rc = ioctl(Fd, KvmIoctls.IoEventFd, &native);
        }
        return rc == 0 ? 0 : errno;
    }

    private void PublishGuestMemory()
    {
        var regions = new GuestMemory.Region[_slots.Count];
        _slots.Values.CopyTo(regions, 0);
        GuestMemory.SetRegions(regions);
    }

    /// <summary>
    /// Closes the VM fd, once, whichever thread gets here first. The kernel then drops the VM's
    /// ioeventfds and slots (once its vCPUs are closed too); the mappings and eventfds given to it
    /// stay the caller's to release.
    /// </summary>
    public void Dispose() => _fd.Dispose();
}
