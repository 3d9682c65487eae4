using System.Runtime.InteropServices;

namespace Overlay.Linux.Interop;

/// <summary>The libc entry points Overlay uses. Every call records errno (SetLastError) for <see cref="LinuxException"/>.</summary>
internal static unsafe partial class Libc
{
    internal const int O_RDWR = 0x2;
    internal const int O_RDONLY = 0x0;
    internal const int O_CLOEXEC = 0x80000;
    internal const int CLONE_NEWNET = 0x40000000;

    internal const int AF_NETLINK = 16;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_RCVTIMEO = 20;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;
    internal const int SOL_NETLINK = 270;
    internal const int MSG_TRUNC = 0x20;
    internal const int POLLIN = 0x1;

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);

    // open/socket return a C int; a SafeHandle return would be marshalled as a pointer-sized value
    // whose upper half is garbage, so they return int and Open/Socket wrap the fd.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags);

    /// <summary>open(2); throws <see cref="LinuxException"/> naming <paramref name="what"/> on failure.</summary>
    internal static FileDescriptorHandle Open(string path, int flags, string what)
    {
        int fd = OpenRaw(path, flags | O_CLOEXEC);
        if (fd < 0) throw LinuxException.FromLastError("open", what);
        return new FileDescriptorHandle(fd);
    }

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int setns(FileDescriptorHandle fd, int nstype);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketRaw(int domain, int type, int protocol);

    /// <summary>socket(2) with SOCK_CLOEXEC; throws <see cref="LinuxException"/> naming <paramref name="what"/> on failure.</summary>
    internal static FileDescriptorHandle Socket(int domain, int type, int protocol, string what)
    {
        int fd = SocketRaw(domain, type | SOCK_CLOEXEC, protocol);
        if (fd < 0) throw LinuxException.FromLastError("socket", what);
        return new FileDescriptorHandle(fd);
    }

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int bind(FileDescriptorHandle fd, void* addr, int addrlen);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int getsockname(FileDescriptorHandle fd, void* addr, int* addrlen);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int setsockopt(FileDescriptorHandle fd, int level, int optname, void* optval, int optlen);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint sendmsg(FileDescriptorHandle fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint recvmsg(FileDescriptorHandle fd, MsgHdr* msg, int flags);

    // sendmsg/recvmsg/fcntl on any fd (a .NET Socket's handle, an inherited fd): callers hold a SafeHandle
    // reference (DangerousAddRef) around the raw call; see UnixFdPassing.
    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint SendMsgRaw(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    internal static partial nint RecvMsgRaw(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int FcntlRaw(int fd, int cmd, int arg);

    internal const int F_DUPFD_CLOEXEC = 1030;
    internal const int F_GETFD = 1;
    internal const int F_SETFD = 2;
    internal const int FD_CLOEXEC = 1;
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int ioctl(FileDescriptorHandle fd, nuint request, void* arg);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrNetlink
    {
        public ushort Family;
        public ushort Pad;
        public uint PortId;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }
}
