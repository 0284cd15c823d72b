using ShadowIo.Native;
using System.Text;
using ShadowIo.Kvm.Native;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Kvm;

/// <summary>
/// The KVM system fd (<c>/dev/kvm</c>): API version, capabilities, the vCPU mapping size and the
/// host's supported CPUID, and the factory for VMs.
/// </summary>
/// <remarks>
/// Owns its fd: <see cref="Dispose"/> closes it (VMs created from it keep working; they hold their
/// own fds). The queries are safe from any thread; <see cref="Dispose"/> must not race them.
/// </remarks>
public sealed unsafe class KvmSystem : IDisposable
{
    /// <summary>The only KVM API version there has ever been (KVM_API_VERSION).</summary>
    public const int StableApiVersion = 12;

    /// <summary>Where the KVM device node lives on Linux.</summary>
    public const string DefaultPath = "/dev/kvm";

    private readonly FileDescriptorHandle _fd;
    private KvmCpuidEntry2[]? _supportedCpuid;

    private KvmSystem(int fd, string path)
    {
        _fd = new FileDescriptorHandle(fd);
        Path = path;
        ApiVersion = ioctl(fd, KvmIoctls.GetApiVersion, 0);
        if (ApiVersion < 0)
        {
            int e = errno;
            Dispose();
            throw new KvmException(KvmError.DeviceMissing, e,
                $"{path} is not a KVM device: it does not answer KVM_GET_API_VERSION ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e)}).");
        }
        if (ApiVersion != StableApiVersion)
        {
            Dispose();
            throw new KvmException(KvmError.Unsupported, 0,
                $"{path} speaks KVM API version {ApiVersion}; ShadowIo needs version {StableApiVersion}.");
        }
        int size = ioctl(fd, KvmIoctls.GetVcpuMmapSize, 0);
        if (size < sizeof(KvmRun))
        {
            int e = errno;
            Dispose();
            throw KvmException.FromErrno("KVM_GET_VCPU_MMAP_SIZE", e);
        }
        VcpuMmapSize = size;
    }

    /// <summary>Whether a KVM device node exists at <paramref name="path"/> (tests skip without it).</summary>
    public static bool IsPresent(string path = DefaultPath) => File.Exists(path);

    /// <summary>
    /// Opens the KVM device. Throws <see cref="KvmException"/> with <see cref="KvmError.DeviceMissing"/>
    /// or <see cref="KvmError.PermissionDenied"/> and a sentence saying what to do.
    /// </summary>
    /// <param name="path">The device node; another path only for a KVM device in a container or a test of the error paths.</param>
    /// <exception cref="KvmException">
    /// <see cref="KvmError.DeviceMissing"/> (no such node, or no KVM driver behind it),
    /// <see cref="KvmError.PermissionDenied"/>, or <see cref="KvmError.Unsupported"/> for an API
    /// version other than <see cref="StableApiVersion"/>.
    /// </exception>
    public static KvmSystem Open(string path = DefaultPath)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = name) fd = open(p, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0)
        {
            int e = errno;
            throw e switch
            {
                Errno.ENOENT => new KvmException(KvmError.DeviceMissing, e,
                    $"{path} does not exist: KVM is not available here (load kvm_intel or kvm_amd, or pass the device into the container)."),
                Errno.EACCES or Errno.EPERM => new KvmException(KvmError.PermissionDenied, e,
                    $"Permission denied opening {path}: run as root or add the user to the group that owns it (usually 'kvm')."),
                Errno.ENXIO or Errno.ENODEV => new KvmException(KvmError.DeviceMissing, e,
                    $"{path} exists but no KVM driver answers it (is virtualization enabled and the module loaded?)."),
                _ => KvmException.FromErrno($"open {path}", e),
            };
        }
        return new KvmSystem(fd, path);
    }

    /// <summary>The device node this was opened from (for messages).</summary>
    public string Path { get; }

    /// <summary>The system fd; valid until disposal. Internal: only the ioctls in this assembly use it.</summary>
    internal int Fd => !_fd.IsClosed ? _fd.Fd : throw new ObjectDisposedException(nameof(KvmSystem));

    /// <summary><c>KVM_GET_API_VERSION</c>; always <see cref="StableApiVersion"/> once <see cref="Open"/> succeeded.</summary>
    public int ApiVersion { get; }

    /// <summary>Bytes to map from each vCPU fd (<c>KVM_GET_VCPU_MMAP_SIZE</c>).</summary>
    public int VcpuMmapSize { get; }

    /// <summary>
    /// <c>KVM_CHECK_EXTENSION</c>: 0 when absent, otherwise a capability-specific positive value
    /// (a count for <see cref="KvmCapability.NrMemslots"/> and <see cref="KvmCapability.MaxVcpus"/>,
    /// 1 for a plain feature). A failing ioctl counts as absent.
    /// </summary>
    /// <exception cref="ObjectDisposedException">After <see cref="Dispose"/>.</exception>
    public int CheckExtension(KvmCapability capability)
    {
        int r = ioctl(Fd, KvmIoctls.CheckExtension, (int)capability);
        return r < 0 ? 0 : r;
    }

    /// <summary>Whether <see cref="CheckExtension"/> reports the capability present (a positive value).</summary>
    /// <exception cref="ObjectDisposedException">After <see cref="Dispose"/>.</exception>
    public bool HasCapability(KvmCapability capability) => CheckExtension(capability) > 0;

    /// <summary>Throws <see cref="KvmError.Unsupported"/> naming the capability and what needs it.</summary>
    /// <param name="capability">The capability the caller cannot work without.</param>
    /// <param name="neededFor">What needs it, completing "needed for …" in the message (e.g. "doorbell ioeventfds").</param>
    /// <exception cref="KvmException"><see cref="KvmError.Unsupported"/> when the capability is absent.</exception>
    public void RequireCapability(KvmCapability capability, string neededFor)
    {
        if (!HasCapability(capability))
            throw new KvmException(KvmError.Unsupported, 0,
                $"This kernel's KVM lacks KVM_CAP_{CapabilityName(capability)} ({(int)capability}), needed for {neededFor}.");
    }

    /// <summary>
    /// The CPUID leaves KVM can expose (<c>KVM_GET_SUPPORTED_CPUID</c>), for
    /// <see cref="KvmVcpu.SetCpuid"/>. Read from the kernel once and cached; the span stays valid
    /// for the life of this object. Not for concurrent first calls (each would query and cache).
    /// </summary>
    /// <exception cref="KvmException">The ioctl failed, or the host reports more than 4096 entries.</exception>
    public ReadOnlySpan<KvmCpuidEntry2> GetSupportedCpuid()
    {
        if (_supportedCpuid != null) return _supportedCpuid;
        // E2BIG means "more entries than you gave room for": grow and retry.
        for (int capacity = 64; capacity <= 4096; capacity *= 2)
        {
            byte[] buffer = new byte[sizeof(KvmCpuid2) + capacity * sizeof(KvmCpuidEntry2)];
            fixed (byte* p = buffer)
            {
                ((KvmCpuid2*)p)->Nent = (uint)capacity;
                if (ioctl(Fd, KvmIoctls.GetSupportedCpuid, p) == 0)
                {
                    int n = (int)((KvmCpuid2*)p)->Nent;
                    _supportedCpuid = new ReadOnlySpan<KvmCpuidEntry2>(p + sizeof(KvmCpuid2), n).ToArray();
                    return _supportedCpuid;
                }
                int e = errno;
                if (e != Errno.E2BIG) throw KvmException.FromErrno("KVM_GET_SUPPORTED_CPUID", e);
            }
        }
        throw new KvmException(KvmError.LimitReached, Errno.E2BIG, "KVM_GET_SUPPORTED_CPUID reports more than 4096 entries.");
    }

    /// <summary>Creates a VM (<c>KVM_CREATE_VM</c>, default machine type) with no memory and no vCPUs.</summary>
    /// <exception cref="KvmException">The kernel refused (for instance <see cref="KvmError.LimitReached"/> when out of memory).</exception>
    public KvmVm CreateVm()
    {
        int vm = ioctl(Fd, KvmIoctls.CreateVm, 0);
        if (vm < 0) throw KvmException.FromErrno("KVM_CREATE_VM", errno);
        return new KvmVm(this, vm);
    }

    /// <summary>Closes /dev/kvm (once, whichever thread gets here first); VMs keep their own fds.</summary>
    public void Dispose() => _fd.Dispose();

    internal static string CapabilityName(KvmCapability capability) => capability switch
    {
        KvmCapability.UserMemory => "USER_MEMORY",
        KvmCapability.IoEventFd => "IOEVENTFD",
        KvmCapability.IoEventFdNoLength => "IOEVENTFD_NO_LENGTH",
        KvmCapability.IoEventFdAnyLength => "IOEVENTFD_ANY_LENGTH",
        KvmCapability.ImmediateExit => "IMMEDIATE_EXIT",
        KvmCapability.NrMemslots => "NR_MEMSLOTS",
        _ => capability.ToString().ToUpperInvariant(),
    };
}
