using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Overlay.Core.Config;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Config;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Anycast;

/// <summary>Everything the VIP loop read in one pass: the input of <see cref="HealthEvaluation"/>.</summary>
/// <param name="Routing">Null when OSPF/BGP could not be read; <paramref name="Bfd"/> null when not read or unreadable.</param>
internal sealed record SignalSnapshot(
    IReadOnlyDictionary<string, InterfaceObservation> Interfaces,
    RoutingSnapshot? Routing,
    IReadOnlyList<BfdSession>? Bfd,
    DateTimeOffset Time);

/// <summary>
/// The VIP loop's every read of the platform (links, WireGuard, BFD, OSPF/BGP, FRR's VIP routes, overlayd's kernel
/// routes, the drain file, the upstream probe) and the events that make reads stale (link and route changes). It owns
/// every cache and, through <see cref="ReadFreshness"/>, every rule of how fresh a read must be; the rest of the loop
/// never decides whether to read. Unreadable sources are logged once per cause (<see cref="FailureLog"/>).
/// </summary>
internal sealed class SignalReader(DaemonPorts ports, ConfigStore config, DrainState drain, EventTimeline events, TimeProvider time, ILogger logger, Action wake)
{
    /// <summary>Reads retried every pass: one line per cause and recovery, repeats counted (issue #13: FRR down flooded the log).</summary>
    private readonly FailureLog _failures = new(logger, time);
    private readonly RxProgressTracker _rx = new();
    private RoutingSnapshot? _routing;
    private DateTimeOffset _routingAt;
    private DateTimeOffset _frrReadAt;
    private DateTimeOffset _routesReadAt;
    private volatile bool _routesDirty;
    /// <summary>The last WireGuard read of each interface (see <see cref="ReadFreshness.WireGuardReadAges"/>).</summary>
    private readonly Dictionary<string, (DateTimeOffset At, WireGuardPeer? Peer)> _wgReads = new(StringComparer.Ordinal);
    /// <summary>Interfaces with a link event since their last WireGuard read: read again on the next pass.</summary>
    private readonly ConcurrentDictionary<string, bool> _wgStale = new(StringComparer.Ordinal);
    /// <summary>The last link table read, and the link-event count it was read after (see <see cref="ReadLinksAsync"/>).</summary>
    private (IReadOnlyDictionary<string, LinkOperState> States, DateTimeOffset At, long Generation)? _links;
    private long _linkGeneration;
    /// <summary>Link events are being watched: a dump is then reused until one arrives (<see cref="ReadFreshness.LinkDumpMaxAgeWatched"/>).</summary>
    private volatile bool _linksWatched;

    /// <summary>Reads the signals health is judged on. <paramref name="vips"/>: each VIP and whether it is pending a decision.</summary>
    public async Task<SignalSnapshot> ReadAsync(NodeConfig cfg, IEnumerable<(VipConfig Vip, bool Pending)> vips, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        IReadOnlyList<BfdSession>? bfd = null;
        if (cfg.Interfaces.Any(i => i.Bfd))
            bfd = await TryAsync("reading BFD sessions", () => ports.Bfd.GetSessionsAsync(ct), ct);
        if (ReadFreshness.RoutingDue(cfg, _routing is not null, now - _routingAt))
        {
            _routing = await TryAsync("reading OSPF/BGP state", () => ports.Routing.GetAsync(ct), ct);
            _routingAt = now;
        }

        var result = new Dictionary<string, InterfaceObservation>(StringComparer.Ordinal);
        var readAges = ReadFreshness.WireGuardReadAges(cfg, vips);
        var bfdByPeer = new Dictionary<IPAddress, BfdSessionState>();
        foreach (var b in bfd ?? []) bfdByPeer.TryAdd(b.Peer, b.State);
        var links = await ReadLinksAsync(cfg, now, ct);
        foreach (var iface in cfg.Interfaces)
        {
            var link = links is null ? LinkOperState.Unknown : links.GetValueOrDefault(iface.Name, LinkOperState.NotPresent);
            var peer = await ReadPeerAsync(iface, now, readAges.GetValueOrDefault(iface.Name, ReadFreshness.WireGuardReadMaxAge), ct);
            DateTimeOffset? progress = peer is null ? null : _rx.Observe(iface.Name, peer.ReceiveBytes, now);
            if (peer is null) _rx.Forget(iface.Name);
            BfdSessionState? bfdState = bfdByPeer.TryGetValue(iface.PeerAddress, out var st) ? st : null;
            result[iface.Name] = new InterfaceObservation(iface.Name, link, peer, progress, bfdState);
        }
        return new SignalSnapshot(result, _routing, bfd, now);
    }

    /// <summary>
    /// One link table dump answers a whole pass (one RTM_GETLINK per interface per pass was most of overlayd's idle CPU
    /// at 200 interfaces). A dump is never reused after a link event, so the pass an event triggers reads fresh state;
    /// otherwise for <see cref="ReadFreshness.LinkDumpMaxAgeWatched"/> while events are watched, else
    /// <see cref="ReadFreshness.LinkDumpMaxAge"/>. Null when the table cannot be read (every link Unknown).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, LinkOperState>?> ReadLinksAsync(NodeConfig cfg, DateTimeOffset now, CancellationToken ct)
    {
        long generation = Interlocked.Read(ref _linkGeneration);
        var maxAge = _linksWatched ? ReadFreshness.LinkDumpMaxAgeWatched : ReadFreshness.LinkDumpMaxAge;
        if (_links is { } last && last.Generation == generation && now - last.At <= maxAge) return last.States;
        try
        {
            var states = await ports.Links.GetOperStatesAsync(ct);
            // A link event during the dump may have made it stale: use it for this pass only.
            _links = Interlocked.Read(ref _linkGeneration) == generation ? (states, now, generation) : null;
            foreach (var iface in cfg.Interfaces) _failures.Succeeded("reading link " + iface.Name);
            return states;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _links = null;
            foreach (var iface in cfg.Interfaces) _failures.Failed("reading link " + iface.Name, ex);
            return null;
        }
    }

    private async Task<WireGuardPeer?> ReadPeerAsync(WgInterfaceConfig iface, DateTimeOffset now, TimeSpan maxAge, CancellationToken ct)
    {
        if (_wgReads.TryGetValue(iface.Name, out var cached) && !_wgStale.ContainsKey(iface.Name) && now - cached.At < maxAge)
            return cached.Peer;
        _wgStale.TryRemove(iface.Name, out _);
        try
        {
            var wg = await ports.WireGuard.GetInterfaceAsync(iface.Name, ct);
            var peer = wg?.Peers.FirstOrDefault(p => p.PublicKey == iface.PeerPublicKey);
            _wgReads[iface.Name] = (now, peer);
            _failures.Succeeded("reading WireGuard " + iface.Name);
            return peer;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _wgReads.Remove(iface.Name);
            _failures.Failed("reading WireGuard " + iface.Name, ex);
            return null;
        }
    }

    /// <summary>FRR's VIP routes now (start-up); null when FRR cannot be read.</summary>
    public Task<IReadOnlyList<VipRoute>?> ReadFrrRoutesAsync(CancellationToken ct) =>
        TryAsync("reading FRR VIP routes", () => ports.Advertiser.ListAsync(ct), ct);

    /// <summary>FRR's VIP routes for the drift check, when one is due (<see cref="ReadFreshness.FrrVerifyInterval"/>); else null.</summary>
    public Task<IReadOnlyList<VipRoute>?> ReadFrrRoutesIfDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (now - _frrReadAt < ReadFreshness.FrrVerifyInterval) return Task.FromResult<IReadOnlyList<VipRoute>?>(null);
        _frrReadAt = now;
        return ReadFrrRoutesAsync(ct);
    }

    /// <summary>
    /// Whether overlayd's kernel routes should be reconciled on this pass: after a link or route event, and every
    /// <see cref="ReadFreshness.RouteReconcileInterval"/>. Answering yes consumes the events.
    /// </summary>
    public bool KernelRoutesDue()
    {
        if (!_routesDirty && time.GetUtcNow() - _routesReadAt < ReadFreshness.RouteReconcileInterval) return false;
        _routesDirty = false;
        return true;
    }

    /// <summary>overlayd's kernel routes now; null when they cannot be listed.</summary>
    public Task<IReadOnlyList<OwnedRoute>?> ReadOwnedRoutesAsync(CancellationToken ct)
    {
        _routesReadAt = time.GetUtcNow();
        return TryAsync("reading owned kernel routes", () => ports.KernelRoutes.ListOwnedAsync(ct), ct);
    }

    /// <summary>Whether the upstream still has our path for the prefix; an unreadable upstream counts as yes.</summary>
    public async Task<bool> UpstreamHasPathAsync(IpPrefix prefix, CancellationToken ct)
    {
        try
        {
            bool has = await ports.UpstreamProbe.UpstreamHasPathAsync(prefix, ct);
            _failures.Succeeded("reading upstream path for " + prefix);
            return has;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading upstream path for " + prefix, ex); return true; }
    }

    /// <summary>The drain file, read every pass; its appearance and removal go to the log and the timeline.</summary>
    public void ReadDrainFile(NodeConfig cfg)
    {
        bool present = cfg.Drain.File is { } f && File.Exists(f);
        // The file's mtime is when the operator drained, also across a restart (read once, when it appears).
        DateTimeOffset? since = present && !drain.FilePresent ? FileMtime(cfg.Drain.File!) : null;
        if (drain.SetFile(present, since))
        {
            Log.DrainChanged(logger, present ? $"drain file {cfg.Drain.File} appeared" : $"drain file {cfg.Drain.File} removed");
            events.Append(EventSource.Operator, cfg.Drain.File ?? "drain file", "drain file", present ? "absent" : "present", present ? "present" : "absent");
        }
    }

    private static DateTimeOffset? FileMtime(string path)
    {
        // A file gone since File.Exists reads as 1601-01-01: no start then (the next pass sees it absent).
        try { var t = File.GetLastWriteTimeUtc(path); return t.Year <= 1601 ? null : new DateTimeOffset(t, TimeSpan.Zero); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Starts listening for link and route events; each one marks reads stale and wakes the loop.</summary>
    public void Watch(CancellationToken ct)
    {
        _ = WatchLinksAsync(ct);
        _ = WatchRoutesAsync(ct);
    }

    private async Task WatchLinksAsync(CancellationToken ct)
    {
        try
        {
            await using var changes = ports.Links.WatchAsync(ct).GetAsyncEnumerator(ct);
            var next = changes.MoveNextAsync(); // subscribes (ILinkStateSource.WatchAsync)
            // A dump taken before the subscription may have missed a change: it is stale from here on.
            Interlocked.Increment(ref _linkGeneration);
            _linksWatched = true;
            try
            {
                while (await next)
                {
                    var change = changes.Current;
                    Interlocked.Increment(ref _linkGeneration);
                    events.Append(EventSource.Link, change.Interface, "oper state", null, change.State.ToString());
                    _wgStale[change.Interface] = true;
                    _routesDirty = true; // a link going down takes its routes with it
                    wake();
                    next = changes.MoveNextAsync();
                }
            }
            finally
            {
                // No more events: dumps are again reused only briefly.
                _linksWatched = false;
                Interlocked.Increment(ref _linkGeneration);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { Log.SignalReadFailed(logger, "link events", FailureLog.Cause(ex), FailureLog.StackWorthy(ex)); }
    }

    /// <summary>
    /// A route event for a prefix overlayd owns (ours deleted, or a foreign route put on its key) starts a
    /// reconcile at once instead of at the next periodic pass.
    /// </summary>
    private async Task WatchRoutesAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var change in ports.KernelRoutes.WatchRoutesAsync(ct))
            {
                var routes = config.Current.Routes;
                if (change.Prefix is { } p ? !routes.Any(r => r.Prefix == p) : routes.Count == 0) continue;
                _routesDirty = true;
                wake();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { Log.SignalReadFailed(logger, "route events", FailureLog.Cause(ex), FailureLog.StackWorthy(ex)); }
    }

    private async Task<T?> TryAsync<T>(string what, Func<Task<T>> read, CancellationToken ct) where T : class
    {
        try { var value = await read(); _failures.Succeeded(what); return value; }
        catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed(what, ex); return null; }
    }
}
