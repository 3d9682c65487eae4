using System.Runtime.InteropServices;

namespace Overlay.Linux.Interop;

/// <summary>
/// File descriptors across process boundaries: SCM_RIGHTS over AF_UNIX sockets (the hand-off between two overlayd
/// processes, sd_notify's FDSTORE=1), and fds inherited at exec (sd_listen_fds' 3..N). Every fd that comes in is
/// wrapped in a <see cref="FileDescriptorHandle"/> at once and is close-on-exec, so it cannot leak into a child.
/// </summary>
public static unsafe class UnixFdPassing
{
    /// <summary>At most this many fds in one message (the kernel's SCM_MAX_FD is 253).</summary>
    public const int MaxFds = 253;
    private const int CmsgHeader = 16; // struct cmsghdr on LP64: size_t len; int level; int type

    private static int CmsgSpace(int fds) => CmsgHeader + ((fds * sizeof(int) + 7) & ~7);

    /// <summary>
    /// sendmsg(2) of <paramref name="payload"/> with <paramref name="fds"/> attached (SCM_RIGHTS) on a connected
    /// socket (stream, seqpacket, or a datagram socket connected to its peer).
    /// </summary>
    public static void Send(SafeHandle socket, ReadOnlySpan<byte> payload, IReadOnlyList<SafeHandle> fds, string what)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(fds);
        if (fds.Count > MaxFds) throw new ArgumentException($"at most {MaxFds} fds per message", nameof(fds));
        var refs = new List<SafeHandle>(fds.Count + 1);
        try
        {
            foreach (var h in fds.Prepend(socket))
            {
                bool added = false;
                h.DangerousAddRef(ref added);
                refs.Add(h);
            }
            int space = fds.Count == 0 ? 0 : CmsgSpace(fds.Count);
            byte* control = stackalloc byte[Math.Max(space, 1)];
            new Span<byte>(control, Math.Max(space, 1)).Clear();
            if (fds.Count > 0)
            {
                *(nuint*)control = (nuint)(CmsgHeader + fds.Count * sizeof(int));
                *(int*)(control + 8) = Libc.SOL_SOCKET;
                *(int*)(control + 12) = Libc.SCM_RIGHTS;
                int* data = (int*)(control + CmsgHeader);
                for (int i = 0; i < fds.Count; i++) data[i] = (int)fds[i].DangerousGetHandle();
            }
            fixed (byte* p = payload)
            {
                var iov = new Libc.IoVec { Base = p, Length = (nuint)payload.Length };
                var msg = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = space == 0 ? null : control, ControlLength = (nuint)space };
                nint n;
                do n = Libc.SendMsgRaw((int)socket.DangerousGetHandle(), &msg, Libc.MSG_NOSIGNAL);
                while (n < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
                if (n < 0) throw LinuxException.FromLastError("sendmsg(SCM_RIGHTS)", what);
                if (n != payload.Length) throw new LinuxException("sendmsg(SCM_RIGHTS)", what, (int)Errno.EMSGSIZE, $"sent {n} of {payload.Length} bytes");
            }
        }
        finally
        {
            foreach (var h in refs) h.DangerousRelease();
        }
    }

    /// <summary>
    /// One recvmsg(2): the payload and the fds that came with it (close-on-exec, owned by the caller). Waits at most
    /// <paramref name="timeout"/> for data; an empty payload with no fds means the peer closed the connection.
    /// </summary>
    public static (byte[] Payload, FileDescriptorHandle[] Fds) Receive(SafeHandle socket, int maxPayload, TimeSpan timeout, string what)
    {
        ArgumentNullException.ThrowIfNull(socket);
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int fd = (int)socket.DangerousGetHandle();
            var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            int ms = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
            int ready;
            do ready = Libc.poll(&pfd, 1, ms);
            while (ready < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
            if (ready < 0) throw LinuxException.FromLastError("poll", what);
            if (ready == 0) throw new LinuxException("recvmsg(SCM_RIGHTS)", what, (int)Errno.ETIMEDOUT, $"nothing received within {timeout.TotalMilliseconds:F0} ms");

            var buffer = new byte[maxPayload];
            int space = CmsgSpace(MaxFds);
            byte* control = stackalloc byte[space];
            new Span<byte>(control, space).Clear();
            nint n;
            Libc.MsgHdr msg;
            fixed (byte* p = buffer)
            {
                var iov = new Libc.IoVec { Base = p, Length = (nuint)buffer.Length };
                msg = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
                do n = Libc.RecvMsgRaw(fd, &msg, Libc.MSG_CMSG_CLOEXEC | Libc.MSG_DONTWAIT);
                while (n < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
            }
            if (n < 0) throw LinuxException.FromLastError("recvmsg(SCM_RIGHTS)", what);
            var fds = new List<FileDescriptorHandle>();
            // Walk the control messages; every fd the kernel installed is ours to close, whatever else is wrong.
            nuint offset = 0;
            while (offset + CmsgHeader <= msg.ControlLength)
            {
                byte* c = control + offset;
                nuint len = *(nuint*)c;
                if (len < CmsgHeader) break;
                if (*(int*)(c + 8) == Libc.SOL_SOCKET && *(int*)(c + 12) == Libc.SCM_RIGHTS)
                {
                    int count = (int)(len - CmsgHeader) / sizeof(int);
                    for (int i = 0; i < count; i++) fds.Add(new FileDescriptorHandle(((int*)(c + CmsgHeader))[i]));
                }
                offset += (len + 7) & ~(nuint)7;
            }
            if ((msg.Flags & Libc.MSG_CTRUNC) != 0)
            {
                foreach (var f in fds) f.Dispose();
                throw new LinuxException("recvmsg(SCM_RIGHTS)", what, (int)Errno.EMSGSIZE, "control data truncated: too many fds in one message");
            }
            return (buffer.AsSpan(0, (int)n).ToArray(), [.. fds]);
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>
    /// Takes ownership of an fd this process inherited at exec (sd_listen_fds: 3..N) and marks it close-on-exec, as
    /// sd_listen_fds(3) recommends, so it does not leak into children. EBADF when nothing is open at that number.
    /// </summary>
    public static FileDescriptorHandle AdoptInherited(int fd, string what)
    {
        int flags = Libc.FcntlRaw(fd, Libc.F_GETFD, 0);
        if (flags < 0) throw LinuxException.FromLastError("fcntl(F_GETFD)", what);
        if (Libc.FcntlRaw(fd, Libc.F_SETFD, flags | Libc.FD_CLOEXEC) < 0) throw LinuxException.FromLastError("fcntl(F_SETFD)", what);
        return new FileDescriptorHandle(fd);
    }

    /// <summary>A close-on-exec duplicate of <paramref name="fd"/> at the lowest free number &gt;= <paramref name="minimum"/>.</summary>
    public static FileDescriptorHandle Duplicate(SafeHandle fd, int minimum, string what)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            int d = Libc.FcntlRaw((int)fd.DangerousGetHandle(), Libc.F_DUPFD_CLOEXEC, minimum);
            if (d < 0) throw LinuxException.FromLastError("fcntl(F_DUPFD_CLOEXEC)", what);
            return new FileDescriptorHandle(d);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>
    /// Clears or sets FD_CLOEXEC: a launcher (the service-manager test double) lets chosen fds survive one exec.
    /// .NET opens every fd close-on-exec and Process.Start relies on that, so only clear it around a start you control.
    /// </summary>
    public static void SetInheritable(SafeHandle fd, bool inheritable, string what)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            int raw = (int)fd.DangerousGetHandle();
            int flags = Libc.FcntlRaw(raw, Libc.F_GETFD, 0);
            if (flags < 0) throw LinuxException.FromLastError("fcntl(F_GETFD)", what);
            int next = inheritable ? flags & ~Libc.FD_CLOEXEC : flags | Libc.FD_CLOEXEC;
            if (Libc.FcntlRaw(raw, Libc.F_SETFD, next) < 0) throw LinuxException.FromLastError("fcntl(F_SETFD)", what);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
