using System.Runtime.InteropServices;
using Tmds.Linux;

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

    /// <summary>
    /// sendmsg(2) of <paramref name="payload"/> with <paramref name="fds"/> attached (SCM_RIGHTS) on a connected
    /// socket (stream, seqpacket, or a datagram socket connected to its peer).
    /// </summary>
    public static void Send(SafeHandle socket, ReadOnlySpan<byte> payload, IReadOnlyList<SafeHandle> fds, string what)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(fds);
        if (fds.Count > MaxFds) throw new ArgumentException($"at most {MaxFds} fds per message", nameof(fds));
        // The passed fds are referenced until sendmsg returns (the socket's own reference is taken by Libc.SendMsg).
        var refs = new List<SafeHandle>(fds.Count);
        try
        {
            foreach (var h in fds)
            {
                bool added = false;
                h.DangerousAddRef(ref added);
                refs.Add(h);
            }
            int space = fds.Count == 0 ? 0 : LibC.CMSG_SPACE(fds.Count * sizeof(int));
            byte* control = stackalloc byte[Math.Max(space, 1)];
            new Span<byte>(control, Math.Max(space, 1)).Clear();
            fixed (byte* p = payload)
            {
                var iov = new iovec { iov_base = p, iov_len = payload.Length };
                var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = space == 0 ? null : control, msg_controllen = space };
                if (fds.Count > 0)
                {
                    cmsghdr* header = LibC.CMSG_FIRSTHDR(&msg);
                    header->cmsg_len = Libc.CmsgLen(fds.Count * sizeof(int));
                    header->cmsg_level = LibC.SOL_SOCKET;
                    header->cmsg_type = LibC.SCM_RIGHTS;
                    int* data = (int*)LibC.CMSG_DATA(header);
                    for (int i = 0; i < fds.Count; i++) data[i] = (int)fds[i].DangerousGetHandle();
                }
                long n = Libc.SendMsg(socket, &msg, LibC.MSG_NOSIGNAL);
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
        int ms = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        int ready = Libc.PollIn(socket, ms);
        if (ready < 0) throw LinuxException.FromLastError("poll", what);
        if (ready == 0) throw new LinuxException("recvmsg(SCM_RIGHTS)", what, (int)Errno.ETIMEDOUT, $"nothing received within {timeout.TotalMilliseconds:F0} ms");

        var buffer = new byte[maxPayload];
        int space = LibC.CMSG_SPACE(MaxFds * sizeof(int));
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        long n;
        msghdr msg;
        fixed (byte* p = buffer)
        {
            var iov = new iovec { iov_base = p, iov_len = buffer.Length };
            msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = space };
            n = Libc.RecvMsg(socket, &msg, LibC.MSG_CMSG_CLOEXEC | LibC.MSG_DONTWAIT);
            msg.msg_iov = null; // pointed into this block
        }
        if (n < 0) throw LinuxException.FromLastError("recvmsg(SCM_RIGHTS)", what);
        var fds = new List<FileDescriptorHandle>();
        // Walk the control messages; every fd the kernel installed is ours to close, whatever else is wrong.
        for (cmsghdr* c = LibC.CMSG_FIRSTHDR(&msg); c != null; c = LibC.CMSG_NXTHDR(&msg, c))
        {
            if (c->cmsg_level != LibC.SOL_SOCKET || c->cmsg_type != LibC.SCM_RIGHTS) continue;
            int count = ((int)c->cmsg_len - Libc.CmsgLen(0)) / sizeof(int);
            int* data = (int*)LibC.CMSG_DATA(c);
            for (int i = 0; i < count; i++) fds.Add(new FileDescriptorHandle(data[i]));
        }
        if ((msg.msg_flags & LibC.MSG_CTRUNC) != 0)
        {
            foreach (var f in fds) f.Dispose();
            throw new LinuxException("recvmsg(SCM_RIGHTS)", what, (int)Errno.EMSGSIZE, "control data truncated: too many fds in one message");
        }
        return (buffer.AsSpan(0, (int)n).ToArray(), [.. fds]);
    }

    /// <summary>
    /// Takes ownership of an fd this process inherited at exec (sd_listen_fds: 3..N) and marks it close-on-exec, as
    /// sd_listen_fds(3) recommends, so it does not leak into children. EBADF when nothing is open at that number.
    /// </summary>
    public static FileDescriptorHandle AdoptInherited(int fd, string what)
    {
        int flags = Libc.Fcntl(fd, LibC.F_GETFD, 0);
        if (flags < 0) throw LinuxException.FromLastError("fcntl(F_GETFD)", what);
        if (Libc.Fcntl(fd, LibC.F_SETFD, flags | LibC.FD_CLOEXEC) < 0) throw LinuxException.FromLastError("fcntl(F_SETFD)", what);
        return new FileDescriptorHandle(fd);
    }

    /// <summary>A close-on-exec duplicate of <paramref name="fd"/> at the lowest free number &gt;= <paramref name="minimum"/>.</summary>
    public static FileDescriptorHandle Duplicate(SafeHandle fd, int minimum, string what)
    {
        int d = Libc.Fcntl(fd, LibC.F_DUPFD_CLOEXEC, minimum);
        if (d < 0) throw LinuxException.FromLastError("fcntl(F_DUPFD_CLOEXEC)", what);
        return new FileDescriptorHandle(d);
    }

    /// <summary>
    /// Clears or sets FD_CLOEXEC: a launcher (the service-manager test double) lets chosen fds survive one exec.
    /// .NET opens every fd close-on-exec and Process.Start relies on that, so only clear it around a start you control.
    /// </summary>
    public static void SetInheritable(SafeHandle fd, bool inheritable, string what)
    {
        int flags = Libc.Fcntl(fd, LibC.F_GETFD, 0);
        if (flags < 0) throw LinuxException.FromLastError("fcntl(F_GETFD)", what);
        int next = inheritable ? flags & ~LibC.FD_CLOEXEC : flags | LibC.FD_CLOEXEC;
        if (Libc.Fcntl(fd, LibC.F_SETFD, next) < 0) throw LinuxException.FromLastError("fcntl(F_SETFD)", what);
    }
}
