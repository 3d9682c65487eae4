using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Overlay.Linux.Interop;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Netlink;
using Overlay.Linux.Rtnetlink;

namespace Overlay.Linux.Monitoring;

/// <summary>A stream of link, address and route changes of one network namespace.</summary>
public interface ILinkMonitor : IAsyncDisposable
{
    /// <summary>The events in kernel order; completes when the monitor is disposed.</summary>
    ChannelReader<NetlinkEvent> Events { get; }

    IAsyncEnumerable<NetlinkEvent> ReadAllAsync(CancellationToken cancellationToken = default);
}

public sealed record NetlinkMonitorOptions
{
    /// <summary>Kernel receive buffer. Large, so bursts (thousands of route changes) are not dropped.</summary>
    public int ReceiveBufferSize { get; init; } = 16 << 20;
    public bool Links { get; init; } = true;
    public bool Addresses { get; init; } = true;
    public bool Routes { get; init; } = true;
}

/// <summary>
/// Subscribes to RTNLGRP_LINK, IPV4/IPV6_IFADDR and IPV4/IPV6_ROUTE and turns notifications into typed
/// events on an unbounded channel, read on a dedicated thread. Link up/down is derived by comparing with
/// the last known state (seeded by a dump at start). A receive-buffer overflow (ENOBUFS) becomes a
/// <see cref="ResyncRequired"/> event, never a silent loss.
/// </summary>
public sealed partial class NetlinkMonitor : ILinkMonitor
{
    private readonly NetlinkSocket _socket;
    private readonly NetNamespace _namespace;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<NetlinkEvent> _channel = Channel.CreateUnbounded<NetlinkEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Dictionary<int, LinkInfo> _links = [];
    private readonly Thread _thread;
    /// <summary>Signalled by <see cref="DisposeAsync"/>: the thread sleeps in poll until a datagram or this.</summary>
    private readonly WakeEvent _stop;
    private volatile bool _stopping;

    private NetlinkMonitor(NetlinkSocket socket, NetNamespace ns, TimeProvider time, ILogger logger)
    {
        _socket = socket;
        _namespace = ns;
        _time = time;
        _logger = logger;
        _stop = new WakeEvent($"netlink monitor stop ({socket.NamespaceName})");
        _thread = new Thread(ReadLoop) { IsBackground = true, Name = $"netlink monitor {socket.NamespaceName}" };
    }

    public ChannelReader<NetlinkEvent> Events => _channel.Reader;

    /// <summary>Subscribes in <paramref name="ns"/> (null: the current namespace) and starts reading.</summary>
    public static NetlinkMonitor Start(NetNamespace? ns = null, NetlinkMonitorOptions? options = null, TimeProvider? time = null, ILogger<NetlinkMonitor>? logger = null)
    {
        options ??= new NetlinkMonitorOptions();
        ns ??= NetNamespace.Current;
        var socket = NetlinkSocket.Open(NetlinkProtocol.Route, ns, receiveBufferSize: options.ReceiveBufferSize, sendBufferSize: 64 << 10);
        try
        {
            if (options.Links) socket.JoinGroup(RtnlGroup.Link);
            if (options.Addresses) { socket.JoinGroup(RtnlGroup.Ipv4Ifaddr); socket.JoinGroup(RtnlGroup.Ipv6Ifaddr); }
            if (options.Routes) { socket.JoinGroup(RtnlGroup.Ipv4Route); socket.JoinGroup(RtnlGroup.Ipv6Route); }
            var monitor = new NetlinkMonitor(socket, ns, time ?? TimeProvider.System, (ILogger?)logger ?? NullLogger.Instance);
            // Subscribed first, seeded second: a change between the two shows up as an event, never as a gap.
            monitor.SeedLinks();
            monitor._thread.Start();
            return monitor;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public IAsyncEnumerable<NetlinkEvent> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _channel.Reader.ReadAllAsync(cancellationToken);

    private void SeedLinks()
    {
        using var client = RtnetlinkClient.Open(_namespace);
        var links = client.Links.ListAsync().GetAwaiter().GetResult();
        lock (_links)
        {
            _links.Clear();
            foreach (var l in links) _links[l.Index] = l;
        }
    }

    private void ReadLoop()
    {
        try
        {
            while (!_stopping)
            {
                // No timeout: an idle node's monitor costs nothing until the kernel has news (a 200 ms stop-poll was
                // ~6 % of an idle overlayd's samples at 200 interfaces: wake-ups are dear on paravirtual hosts).
                if (!_socket.PollOrWake(_stop)) continue;
                ReadOnlySpan<byte> data;
                try
                {
                    data = _socket.Receive();
                }
                catch (LinuxException e) when (e.Errno == Errno.ENOBUFS)
                {
                    LogOverrun(_logger, _socket.NamespaceName);
                    Publish(new ResyncRequired($"netlink receive buffer overflowed in netns '{_socket.NamespaceName}'; notifications were lost"));
                    SeedLinks();
                    continue;
                }
                foreach (var m in new NetlinkMessageReader(data)) Decode(m);
            }
            _channel.Writer.TryComplete();
        }
        catch (Exception e)
        {
            LogFailed(_logger, e, _socket.NamespaceName);
            _channel.Writer.TryComplete(e);
        }
    }

    private void Decode(in NetlinkMessage m)
    {
        switch (m.Type)
        {
            case RtmType.NewLink:
                var link = LinkCodec.Read(m);
                LinkInfo? before;
                lock (_links)
                {
                    _links.TryGetValue(link.Index, out before);
                    _links[link.Index] = link;
                }
                if (before is null) Publish(new LinkEvent(LinkEventKind.Added, link));
                else if (before.IsUp != link.IsUp) Publish(new LinkEvent(link.IsUp ? LinkEventKind.Up : LinkEventKind.Down, link));
                else if (before != link) Publish(new LinkEvent(LinkEventKind.Changed, link));
                break;
            case RtmType.DelLink:
                var gone = LinkCodec.Read(m);
                lock (_links) _links.Remove(gone.Index);
                Publish(new LinkEvent(LinkEventKind.Removed, gone));
                break;
            case RtmType.NewAddr or RtmType.DelAddr:
                if (AddressCodec.TryRead(m, out var address))
                    Publish(new AddressEvent(m.Type == RtmType.NewAddr ? NetlinkChangeKind.Added : NetlinkChangeKind.Removed, address));
                break;
            case RtmType.NewRoute or RtmType.DelRoute:
                if (RouteCodec.TryRead(m, out var route))
                    Publish(new RouteEvent(m.Type == RtmType.NewRoute ? NetlinkChangeKind.Added : NetlinkChangeKind.Removed, route));
                break;
        }
    }

    private void Publish(NetlinkEvent e) => _channel.Writer.TryWrite(e with { Received = _time.GetUtcNow() });

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        _stop.Signal();
        if (_thread.IsAlive && Thread.CurrentThread != _thread) _thread.Join();
        _channel.Writer.TryComplete();
        _socket.Dispose();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Netlink monitor in netns '{Namespace}' overflowed (ENOBUFS); consumers must resync")]
    private static partial void LogOverrun(ILogger logger, string @namespace);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "Netlink monitor in netns '{Namespace}' stopped")]
    private static partial void LogFailed(ILogger logger, Exception exception, string @namespace);
}
