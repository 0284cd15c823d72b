using System.Runtime.InteropServices;

namespace ShadowIo.Native;

/// <summary>
/// sendmsg/recvmsg with the glibc x86_64 structures spelled out (<c>struct msghdr</c> is 56 bytes:
/// size_t iovlen and controllen), so the control-data walk depends on nothing but this file.
/// </summary>
internal static unsafe partial class SocketMessages
{
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgCtrunc = 0x8;
    public const int MsgNoSignal = 0x4000;
    public const int MsgCmsgCloexec = 0x4000_0000;

    /// <summary>sizeof(struct cmsghdr): size_t len, int level, int type.</summary>
    public const int ControlHeaderSize = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>CMSG_SPACE: header plus data, 8-aligned.</summary>
    public static int ControlSpace(int dataBytes) => ControlHeaderSize + ((dataBytes + 7) & ~7);

    /// <summary>
    /// CMSG_LEN: header plus data, unpadded. Not Tmds.Linux's <c>CMSG_LEN</c>, which pads the data
    /// (24 for one fd, glibc says 20): the kernel would then read a second, garbage fd.
    /// </summary>
    public static int ControlLength(int dataBytes) => ControlHeaderSize + dataBytes;

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint ReceiveMessage(int socket, MessageHeader* message, int flags);
}
