using System.Runtime.InteropServices;
using Overlay.Linux.Interop;
using Tmds.Linux;
using Overlay.Linux.Namespaces;

namespace Overlay.Linux.Netlink;

/// <summary>Receives one message of a reply; the message's spans are valid only during the call.</summary>
public delegate void NetlinkMessageHandler(in NetlinkMessage message);

/// <summary>
/// An AF_NETLINK socket opened inside a network namespace (the socket keeps that namespace, so it is
/// used from any thread afterwards). Requests carry sequence numbers; replies are matched by them.
/// Extended acks (kernel error text) and capped acks are enabled. Not thread-safe: one request at a time.
/// </summary>
public sealed unsafe class NetlinkSocket : IDisposable
{
    /// <summary>Dump replies arrive in skbs of at most 32 KiB; 64 KiB leaves room.</summary>
    private const int ReceiveChunk = 64 * 1024;

    private readonly FileDescriptorHandle _fd;
    private readonly byte[] _receive = new byte[ReceiveChunk];
    private uint _sequence;

    private NetlinkSocket(FileDescriptorHandle fd, NetlinkProtocol protocol, string namespaceName, uint portId)
    {
        _fd = fd;
        Protocol = protocol;
        NamespaceName = namespaceName;
        PortId = portId;
        _sequence = (uint)Environment.TickCount;
    }

    public NetlinkProtocol Protocol { get; }
    public string NamespaceName { get; }
    /// <summary>The port id the kernel assigned at bind (nl_pid).</summary>
    public uint PortId { get; }

    /// <summary>Opens and binds a netlink socket in <paramref name="ns"/> (null: the current namespace).</summary>
    /// <param name="receiveBufferSize">SO_RCVBUF(FORCE) in bytes; large for monitors and batched writes so no reply is dropped.</param>
    public static NetlinkSocket Open(NetlinkProtocol protocol, NetNamespace? ns = null, int receiveBufferSize = 1 << 20, int sendBufferSize = 1 << 20)
    {
        ns ??= NetNamespace.Current;
        string what = $"netlink socket ({protocol}) in netns '{ns.Name}'";
        var fd = ns.CreateRawSocket(LibC.AF_NETLINK, LibC.SOCK_RAW, (int)protocol, $"netlink socket ({protocol})");
        try
        {
            // FORCE needs CAP_NET_ADMIN; fall back to the capped variant so unprivileged reads still work.
            if (!TrySetInt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, receiveBufferSize))
                SetInt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, receiveBufferSize, "setsockopt(SO_RCVBUF)", what);
            if (!TrySetInt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUFFORCE, sendBufferSize))
                SetInt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUF, sendBufferSize, "setsockopt(SO_SNDBUF)", what);
            SetInt(fd, LibC.SOL_NETLINK, Libc.NETLINK_CAP_ACK, 1, "setsockopt(NETLINK_CAP_ACK)", what);
            SetInt(fd, LibC.SOL_NETLINK, Libc.NETLINK_EXT_ACK, 1, "setsockopt(NETLINK_EXT_ACK)", what);
            if (protocol == NetlinkProtocol.Route)
                SetInt(fd, LibC.SOL_NETLINK, Libc.NETLINK_GET_STRICT_CHK, 1, "setsockopt(NETLINK_GET_STRICT_CHK)", what);

            var address = new Libc.SockAddrNetlink { Family = (ushort)LibC.AF_NETLINK };
            LinuxException.ThrowIfFailed(Libc.Bind(fd, &address), "bind", what);
            LinuxException.ThrowIfFailed(Libc.GetSockName(fd, &address), "getsockname", what);
            return new NetlinkSocket(fd, protocol, ns.Name, address.PortId);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public uint NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>Joins a multicast group (e.g. RTNLGRP_LINK = 1) for notifications.</summary>
    public void JoinGroup(uint group)
    {
        int value = (int)group;
        LinuxException.ThrowIfFailed(
            Libc.SetSockOpt(_fd, LibC.SOL_NETLINK, Libc.NETLINK_ADD_MEMBERSHIP, &value, sizeof(int)),
            $"setsockopt(NETLINK_ADD_MEMBERSHIP {group})", Describe());
    }

    /// <summary>Sets SO_RCVTIMEO; a receive that waits longer fails with EAGAIN.</summary>
    public void SetReceiveTimeout(TimeSpan timeout)
    {
        var tv = new Libc.TimeVal { Seconds = (long)timeout.TotalSeconds, Microseconds = timeout.Microseconds + timeout.Milliseconds * 1000L };
        LinuxException.ThrowIfFailed(
            Libc.SetSockOpt(_fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, &tv, sizeof(Libc.TimeVal)),
            "setsockopt(SO_RCVTIMEO)", Describe());
    }

    /// <summary>Sends all messages in <paramref name="messages"/> in one sendmsg to the kernel.</summary>
    public void Send(ReadOnlySpan<byte> messages)
    {
        fixed (byte* p = messages)
        {
            var kernel = new Libc.SockAddrNetlink { Family = (ushort)LibC.AF_NETLINK };
            var iov = new iovec { iov_base = p, iov_len = messages.Length };
            var msg = new msghdr { msg_name = &kernel, msg_namelen = sizeof(Libc.SockAddrNetlink), msg_iov = &iov, msg_iovlen = 1 };
            long sent = Libc.SendMsg(_fd, &msg, 0);
            if (sent < 0) throw LinuxException.FromLastError("sendmsg", Describe());
        }
    }

    /// <summary>
    /// Receives one datagram (one or more messages) into an internal buffer and returns it. Throws
    /// <see cref="LinuxException"/> with ENOBUFS when the kernel dropped messages for lack of buffer
    /// space, and EAGAIN when a receive timeout expired.
    /// </summary>
    public ReadOnlySpan<byte> Receive()
    {
        fixed (byte* p = _receive)
        {
            var from = new Libc.SockAddrNetlink();
            var iov = new iovec { iov_base = p, iov_len = _receive.Length };
            var msg = new msghdr { msg_name = &from, msg_namelen = sizeof(Libc.SockAddrNetlink), msg_iov = &iov, msg_iovlen = 1 };
            long n = Libc.RecvMsg(_fd, &msg, 0);
            if (n < 0) throw LinuxException.FromLastError("recvmsg", Describe());
            if ((msg.msg_flags & LibC.MSG_TRUNC) != 0)
                throw new NetlinkFormatException($"netlink datagram larger than the {_receive.Length}-byte receive buffer on {Describe()}");
            return _receive.AsSpan(0, (int)n);
        }
    }

    /// <summary>Waits until a datagram is readable or the timeout passes; false on timeout.</summary>
    public bool Poll(TimeSpan timeout)
    {
        int r = Libc.PollIn(_fd, (int)timeout.TotalMilliseconds);
        if (r < 0) throw LinuxException.FromLastError("poll", Describe());
        return r > 0;
    }

    /// <summary>
    /// Waits, without a timeout, until a datagram is readable (true) or <paramref name="wake"/> is signalled (false):
    /// a reader thread sleeps in the kernel until there is work or it is told to stop, never waking to look.
    /// </summary>
    public bool PollOrWake(WakeEvent wake)
    {
        ArgumentNullException.ThrowIfNull(wake);
        int r = Libc.PollInOrWake(_fd, wake.Handle);
        if (r < 0) throw LinuxException.FromLastError("poll", Describe());
        return r > 0;
    }

    /// <summary>
    /// Sends the request messages (each must ask for an ACK) in one sendmsg and waits until every one
    /// is answered. <paramref name="onReply"/> sees every reply message that is not an ACK/error
    /// (e.g. the answer of a GET); <paramref name="onAck"/> sees each ACK or error.
    /// </summary>
    public void Transact(ReadOnlySpan<byte> request, NetlinkMessageHandler? onReply, Action<NetlinkError> onAck)
    {
        var pending = new HashSet<uint>();
        foreach (var m in new NetlinkMessageReader(request))
        {
            if ((m.Flags & NetlinkMessageFlags.Ack) == 0)
                throw new ArgumentException($"message seq {m.Sequence} does not request an ACK; its completion could not be observed", nameof(request));
            pending.Add(m.Sequence);
        }
        Send(request);
        while (pending.Count > 0)
        {
            foreach (var m in new NetlinkMessageReader(Receive()))
            {
                if (!pending.Contains(m.Sequence)) continue; // a stale reply of an abandoned request
                if (m.Type == NetlinkMessageType.Error)
                {
                    var error = NetlinkError.Parse(m);
                    pending.Remove(m.Sequence);
                    onAck(error);
                }
                else
                {
                    onReply?.Invoke(m);
                }
            }
        }
    }

    /// <summary>
    /// Sends one request and throws on error. The exception names <paramref name="operation"/>,
    /// <paramref name="target"/>, the errno and the kernel's extended ack text.
    /// </summary>
    public void Execute(NetlinkWriter request, string operation, string target, NetlinkMessageHandler? onReply = null)
    {
        NetlinkError? failure = null;
        Transact(request.WrittenSpan, onReply, e => { if (!e.IsAck) failure ??= e; });
        if (failure is { } f) throw new LinuxException(operation, target, f.Errno, f.Message);
    }

    /// <summary>
    /// Sends a dump request (NLM_F_DUMP) and passes every reply message to <paramref name="onMessage"/> until
    /// NLMSG_DONE. Returns false when the kernel flagged the dump as interrupted (the data changed
    /// during the dump; the caller should dump again).
    /// </summary>
    public bool Dump(NetlinkWriter request, string operation, string target, NetlinkMessageHandler onMessage)
    {
        uint sequence = 0;
        foreach (var m in new NetlinkMessageReader(request.WrittenSpan)) sequence = m.Sequence;
        Send(request.WrittenSpan);
        bool consistent = true;
        while (true)
        {
            foreach (var m in new NetlinkMessageReader(Receive()))
            {
                if (m.Sequence != sequence) continue;
                if ((m.Flags & NetlinkMessageFlags.DumpInterrupted) != 0) consistent = false;
                switch (m.Type)
                {
                    case NetlinkMessageType.Done:
                        int status = m.Payload.Length >= 4 ? MemoryMarshal.Read<int>(m.Payload) : 0;
                        if (status < 0) throw new LinuxException(operation, target, -status, DoneMessage(m));
                        return consistent;
                    case NetlinkMessageType.Error:
                        var error = NetlinkError.Parse(m);
                        if (!error.IsAck) throw new LinuxException(operation, target, error.Errno, error.Message);
                        break;
                    default:
                        onMessage(m);
                        break;
                }
            }
        }
    }

    private static string? DoneMessage(in NetlinkMessage done)
    {
        if ((done.Flags & NetlinkMessageFlags.AckTlvs) == 0 || done.Payload.Length <= 4) return null;
        foreach (var a in new NetlinkAttributeReader(done.Payload[4..]))
            if (a.Type == 1) return a.GetString();
        return null;
    }

    private string Describe() => $"netlink socket ({Protocol}) port {PortId} in netns '{NamespaceName}'";

    private static bool TrySetInt(FileDescriptorHandle fd, int level, int name, int value) =>
        Libc.SetSockOpt(fd, level, name, &value, sizeof(int)) == 0;

    private static void SetInt(FileDescriptorHandle fd, int level, int name, int value, string operation, string what) =>
        LinuxException.ThrowIfFailed(Libc.SetSockOpt(fd, level, name, &value, sizeof(int)), operation, what);

    public void Dispose() => _fd.Dispose();
}
