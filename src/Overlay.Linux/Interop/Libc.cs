using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Overlay.Linux.Interop;

/// <summary>
/// The repository's one place for Linux interop. The system calls come from Tmds.LibC (<see cref="LibC"/>), with errno
/// recorded for <see cref="LinuxException"/>, which translates it once, naming the operation and the object. This class
/// adds only what Tmds.LibC lacks: overloads that take a <see cref="SafeHandle"/> (the fd is referenced for the length of
/// the call, so it cannot be closed and reused under it) or a path, the netlink constants and <c>sockaddr_nl</c>,
/// <c>struct ifreq</c> and the TUN ioctls, <c>struct timeval</c>, <c>renameat2</c>, <c>getgrnam</c>, polling an fd together with an eventfd, <c>getrusage</c>, reading and resetting an ignored signal, and a correct CMSG_LEN.
/// </summary>
internal static unsafe partial class Libc
{
    // ---- netlink (linux/netlink.h) -------------------------------------------------------------------------------
    internal const int NETLINK_ADD_MEMBERSHIP = 1;
    internal const int NETLINK_CAP_ACK = 10;
    internal const int NETLINK_EXT_ACK = 11;
    internal const int NETLINK_GET_STRICT_CHK = 12;

    /// <summary><c>struct sockaddr_nl</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrNetlink
    {
        public ushort Family;
        public ushort Pad;
        public uint PortId;
        public uint Groups;
    }

    // ---- TUN (linux/if_tun.h) ------------------------------------------------------------------------------------
    internal const uint TUNSETIFF = 0x400454ca;
    internal const uint TUNGETIFF = 0x800454d2;
    internal const short IFF_TUN = 0x0001;
    internal const short IFF_NO_PI = 0x1000;
    internal const int IFNAMSIZ = 16;

    /// <summary><c>struct ifreq</c> as the TUN ioctls read it: name, flags, padding to 40 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    internal struct InterfaceRequest
    {
        public fixed byte Name[IFNAMSIZ];
        public short Flags;
    }

    /// <summary><c>struct timeval</c> (SO_RCVTIMEO).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>
    /// CMSG_LEN: the header plus <paramref name="dataLength"/> bytes, NOT rounded up. Tmds.LibC 0.5.0's CMSG_LEN rounds
    /// up to the alignment (CMSG_LEN(4) = 24), which makes the kernel read a second, zero fd (stdin) in SCM_RIGHTS.
    /// </summary>
    internal static int CmsgLen(int dataLength) => sizeof(cmsghdr) + dataLength;

    internal const uint RENAME_NOREPLACE = 1;

    /// <summary>errno of the last call (every Tmds.LibC import records it).</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();

    // ---- fds -----------------------------------------------------------------------------------------------------

    /// <summary>open(2) with O_CLOEXEC; throws <see cref="LinuxException"/> naming <paramref name="what"/> on failure.</summary>
    internal static FileDescriptorHandle Open(string path, int flags, string what)
    {
        int fd;
        fixed (byte* p = Utf8Z(path)) fd = LibC.open(p, flags | LibC.O_CLOEXEC, default);
        if (fd < 0) throw LinuxException.FromLastError("open", what);
        return new FileDescriptorHandle(fd);
    }

    /// <summary>socket(2) with SOCK_CLOEXEC; throws <see cref="LinuxException"/> naming <paramref name="what"/> on failure.</summary>
    internal static FileDescriptorHandle Socket(int domain, int type, int protocol, string what)
    {
        int fd = LibC.socket(domain, type | LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0) throw LinuxException.FromLastError("socket", what);
        return new FileDescriptorHandle(fd);
    }

    internal static int Close(int fd) => LibC.close(fd);

    internal static int SetNs(SafeHandle fd, int nstype)
    {
        using var f = new Borrowed(fd);
        return LibC.setns(f.Fd, nstype);
    }

    internal static int Bind(SafeHandle fd, SockAddrNetlink* address)
    {
        using var f = new Borrowed(fd);
        return LibC.bind(f.Fd, (sockaddr*)address, sizeof(SockAddrNetlink));
    }

    internal static int GetSockName(SafeHandle fd, SockAddrNetlink* address)
    {
        using var f = new Borrowed(fd);
        socklen_t length = sizeof(SockAddrNetlink);
        return LibC.getsockname(f.Fd, (sockaddr*)address, &length);
    }

    internal static int SetSockOpt(SafeHandle fd, int level, int name, void* value, int length)
    {
        using var f = new Borrowed(fd);
        return LibC.setsockopt(f.Fd, level, name, value, length);
    }

    /// <summary>sendmsg(2), retried on EINTR.</summary>
    internal static long SendMsg(SafeHandle fd, msghdr* message, int flags)
    {
        using var f = new Borrowed(fd);
        long n;
        do n = LibC.sendmsg(f.Fd, message, flags);
        while (n < 0 && LastErrno == LibC.EINTR);
        return n;
    }

    /// <summary>recvmsg(2), retried on EINTR.</summary>
    internal static long RecvMsg(SafeHandle fd, msghdr* message, int flags)
    {
        using var f = new Borrowed(fd);
        long n;
        do n = LibC.recvmsg(f.Fd, message, flags);
        while (n < 0 && LastErrno == LibC.EINTR);
        return n;
    }

    internal static int Ioctl(SafeHandle fd, uint request, void* argument)
    {
        using var f = new Borrowed(fd);
        return LibC.ioctl(f.Fd, unchecked((int)request), argument);
    }

    /// <summary>poll(2) for POLLIN on one fd, retried on EINTR: above 0 readable, 0 timed out, below 0 failed.</summary>
    internal static int PollIn(SafeHandle fd, int timeoutMilliseconds)
    {
        using var f = new Borrowed(fd);
        var pfd = new pollfd { fd = f.Fd, events = LibC.POLLIN };
        int ready;
        do ready = LibC.poll(&pfd, 1u, timeoutMilliseconds);
        while (ready < 0 && LastErrno == LibC.EINTR);
        return ready;
    }

    /// <summary>
    /// poll(2) for POLLIN on <paramref name="fd"/> and on <paramref name="wake"/> (an eventfd), retried on EINTR, no
    /// timeout: 1 when <paramref name="fd"/> is readable, 0 when only the wake fd is, below 0 failed.
    /// </summary>
    internal static int PollInOrWake(SafeHandle fd, SafeHandle wake)
    {
        using var f = new Borrowed(fd);
        using var w = new Borrowed(wake);
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = f.Fd, events = LibC.POLLIN };
        fds[1] = new pollfd { fd = w.Fd, events = LibC.POLLIN };
        int ready;
        do ready = LibC.poll(fds, 2u, -1);
        while (ready < 0 && LastErrno == LibC.EINTR);
        if (ready < 0) return ready;
        return fds[0].revents != 0 ? 1 : 0; // POLLERR too: the receive that follows reports it (ENOBUFS)
    }

    /// <summary>eventfd(2), close-on-exec and non-blocking; throws <see cref="LinuxException"/> naming <paramref name="what"/>.</summary>
    internal static FileDescriptorHandle EventFd(string what)
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0) throw LinuxException.FromLastError("eventfd", what);
        return new FileDescriptorHandle(fd);
    }

    /// <summary>Adds one to an eventfd's counter, which makes it readable; below 0 failed.</summary>
    internal static long SignalEventFd(SafeHandle fd)
    {
        using var f = new Borrowed(fd);
        ulong one = 1;
        long n;
        do n = LibC.write(f.Fd, &one, sizeof(ulong));
        while (n < 0 && LastErrno == LibC.EINTR);
        return n;
    }

    internal static int Fcntl(SafeHandle fd, int command, int argument)
    {
        using var f = new Borrowed(fd);
        return LibC.fcntl(f.Fd, command, argument);
    }

    /// <summary>fcntl(2) on an fd no handle owns yet (one inherited at exec, before it is wrapped).</summary>
    internal static int Fcntl(int fd, int command, int argument) => LibC.fcntl(fd, command, argument);

    // ---- files ---------------------------------------------------------------------------------------------------

    internal static int Mkdir(string path, uint mode)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.mkdir(p, (ushort)mode);
    }

    /// <summary>chown(2); -1 leaves the owner or group as it is.</summary>
    internal static int Chown(string path, int owner, int group)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.chown(p, unchecked((uint)owner), unchecked((uint)group));
    }

    /// <summary>statx(2) relative to the working directory.</summary>
    internal static int Statx(string path, int flags, uint mask, statx* result)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.statx(LibC.AT_FDCWD, p, flags, mask, result);
    }

    /// <summary>renameat2(2) relative to the working directory (Tmds.LibC has renameat only, without flags).</summary>
    internal static int RenameAt2(string oldPath, string newPath, uint flags) =>
        RenameAt2Import(LibC.AT_FDCWD, oldPath, LibC.AT_FDCWD, newPath, flags);

    [LibraryImport("libc.so.6", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2Import(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    /// <summary>
    /// The gid of <paramref name="group"/> through NSS (getgrnam(3), so LDAP/sssd groups work like local ones); null
    /// when there is no such group.
    /// </summary>
    internal static uint? GroupId(string group)
    {
        var entry = GetGrNam(group);
        if (entry == IntPtr.Zero) return null;
        // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
        return unchecked((uint)Marshal.ReadInt32(entry, 2 * IntPtr.Size));
    }

    [LibraryImport("libc.so.6", EntryPoint = "getgrnam", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGrNam(string name);

    // ---- processes -----------------------------------------------------------------------------------------------

    /// <summary>The user + system CPU time of every child this process has waited for (getrusage(RUSAGE_CHILDREN)).</summary>
    internal static TimeSpan ChildrenCpuTime()
    {
        RUsage usage;
        if (GetRUsage(RUSAGE_CHILDREN, &usage) != 0) throw LinuxException.FromLastError("getrusage(RUSAGE_CHILDREN)", null);
        return TimeSpan.FromMicroseconds((usage.UserSeconds + usage.SystemSeconds) * 1_000_000.0 + usage.UserMicroseconds + usage.SystemMicroseconds);
    }

    private const int RUSAGE_CHILDREN = -1;

    /// <summary><c>struct rusage</c>: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public fixed long Rest[14];
    }

    [LibraryImport("libc.so.6", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRUsage(int who, RUsage* usage);

    /// <summary>
    /// Gives <paramref name="signal"/> back its default disposition if this process inherited it as ignored (a start
    /// under <c>nohup</c> ignores SIGHUP). .NET installs no handler for a signal that is ignored when it is registered,
    /// so a <c>PosixSignalRegistration</c> on it would never run. Call before registering. True if it was ignored.
    /// </summary>
    public static bool UnignoreSignal(int signal)
    {
        // struct sigaction is 152 bytes on x86_64 and arm64 glibc, sa_handler first; read it without changing it.
        byte* action = stackalloc byte[256];
        if (SigAction(signal, null, action) != 0) throw LinuxException.FromLastError("sigaction", $"signal {signal}");
        if (*(nint*)action != SIG_IGN) return false;
        if (SignalImport(signal, SIG_DFL) == SIG_ERR) throw LinuxException.FromLastError("signal(SIG_DFL)", $"signal {signal}");
        return true;
    }

    private const nint SIG_DFL = 0, SIG_IGN = 1, SIG_ERR = -1;

    [LibraryImport("libc.so.6", EntryPoint = "sigaction", SetLastError = true)]
    private static partial int SigAction(int signal, byte* action, byte* previous);

    [LibraryImport("libc.so.6", EntryPoint = "signal", SetLastError = true)]
    private static partial nint SignalImport(int signal, nint handler);

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/> for a <c>char*</c> argument.</summary>
    private static byte[] Utf8Z(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains('\0', StringComparison.Ordinal)) throw new ArgumentException($"a path with a NUL character: {text.Replace('\0', '?')}", nameof(text));
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>The raw fd of a handle, referenced until disposed, so it is not closed (and its number reused) mid-call.</summary>
    private readonly ref struct Borrowed
    {
        private readonly SafeHandle _handle;

        public Borrowed(SafeHandle handle)
        {
            ArgumentNullException.ThrowIfNull(handle);
            bool added = false;
            handle.DangerousAddRef(ref added); // throws ObjectDisposedException once the handle is closed
            _handle = handle;
            Fd = (int)handle.DangerousGetHandle();
        }

        public int Fd { get; }

        public void Dispose() => _handle.DangerousRelease();
    }
}
