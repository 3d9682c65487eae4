using System.Reflection;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Core.Anycast;
using Overlay.Core.Model;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Writer;
using Prometheus;

namespace Overlay.Daemon.Metrics;

/// <summary>
/// overlayd's metrics on prometheus-net, in a <see cref="CollectorRegistry"/> of its own (no process or runtime
/// metrics, nothing from the library's default registry): counters and histograms accumulated as things happen, plus
/// gauges (and the WireGuard byte counters) set from the latest <see cref="DaemonState"/> snapshot at scrape time, with
/// the series of peers, VIPs and sessions that are gone removed. Names, labels and types are those of the hand-written
/// exposition writer this replaced (docs/operations.md lists them).
/// </summary>
public sealed class DaemonMetrics
{
    /// <summary>The text exposition format prometheus-net writes (0.0.4).</summary>
    public const string ContentType = PrometheusConstants.TextContentTypeWithVersionAndEncoding;

    private static readonly double[] ApplyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly string Version =
        typeof(DaemonMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly List<(string Name, string Help)> _families = [];
    // One scrape at a time sets the snapshot series and exports them (the set and the removal of gone series must not interleave).
    private readonly SemaphoreSlim _scrape = new(1, 1);

    // Set from the snapshot (and node facts) at scrape time.
    private readonly Snapshotted<Gauge.Child> _nodeInfo, _vipInfo, _drainSince, _handshakeAge, _interfaceHealthy, _vipState, _vipAdvertised,
        _vipPenalty, _ospfFull, _bgpEstablished, _bfdUp, _forwardingEnabled;
    private readonly Snapshotted<Counter.Child> _events, _rxBytes, _txBytes;
    private readonly Gauge _transitForwardingOff;

    // Accumulated as things happen.
    private readonly Counter _transitions, _apply, _frrErrors, _reloads, _resets, _recoveries;
    private readonly Histogram _applyDuration;

    private volatile ForwardingView? _forwarding;

    private sealed record ForwardingView(bool Transit, ForwardingState State);

    public DaemonMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(_registry);
        // The order families were declared in by the hand-written writer (prometheus-net exports in its own order).
        _nodeInfo = Snap(f.CreateGauge("overlay_node_info", Help("overlay_node_info",
            "Always 1; labels name this overlayd's node and site (from overlayd.yaml) and its version."), "node", "site", "version"));
        _vipInfo = Snap(f.CreateGauge("overlay_vip_info", Help("overlay_vip_info",
            "Always 1; labels give each VIP's prefix (the anycast group: every member announces it) and lease interface."), "vip", "prefix", "lease"));
        _drainSince = Snap(f.CreateGauge("overlay_drain_since_timestamp_seconds", Help("overlay_drain_since_timestamp_seconds",
            "Unix time an operator drain in force began (source operator: overlayctl drain; file: the drain file's mtime); vip=\"*\" drains every VIP; absent when not drained."),
            "source", "vip"));
        _events = Snap(f.CreateCounter("overlay_events_total", Help("overlay_events_total",
            "Events appended to the timeline (overlayctl events), by source."), "source"));

        _handshakeAge = Snap(f.CreateGauge("overlay_wireguard_peer_last_handshake_age_seconds", Help("overlay_wireguard_peer_last_handshake_age_seconds",
            "Seconds since the last completed handshake with the peer (an age, not an epoch); absent before the first handshake."), "interface", "peer"));
        _rxBytes = Snap(f.CreateCounter("overlay_wireguard_peer_receive_bytes_total", Help("overlay_wireguard_peer_receive_bytes_total",
            "Bytes received from the peer."), "interface", "peer"));
        _txBytes = Snap(f.CreateCounter("overlay_wireguard_peer_transmit_bytes_total", Help("overlay_wireguard_peer_transmit_bytes_total",
            "Bytes sent to the peer."), "interface", "peer"));
        _interfaceHealthy = Snap(f.CreateGauge("overlay_interface_healthy", Help("overlay_interface_healthy",
            "1 when the WireGuard interface passes every health check of its policy."), "interface"));

        _vipState = Snap(f.CreateGauge("overlay_vip_state", Help("overlay_vip_state", "1 for the VIP's current state, 0 for the others."), "vip", "state"));
        _vipAdvertised = Snap(f.CreateGauge("overlay_vip_advertised", Help("overlay_vip_advertised", "1 when the VIP is desired advertised."), "vip"));
        _vipPenalty = Snap(f.CreateGauge("overlay_vip_penalty", Help("overlay_vip_penalty", "Current flap-dampening penalty of the VIP."), "vip"));
        _transitions = f.CreateCounter("overlay_vip_transitions_total", Help("overlay_vip_transitions_total",
            "VIP state transitions, by the state entered."), "vip", "to");

        _ospfFull = Snap(f.CreateGauge("overlay_ospf_neighbor_full", Help("overlay_ospf_neighbor_full",
            "1 when the OSPF neighbor is in state Full."), "neighbor", "interface"));
        _bgpEstablished = Snap(f.CreateGauge("overlay_bgp_session_established", Help("overlay_bgp_session_established",
            "1 when the BGP session is Established."), "neighbor"));
        _bfdUp = Snap(f.CreateGauge("overlay_bfd_session_up", Help("overlay_bfd_session_up", "1 when the BFD session is Up."), "peer", "interface"));

        _forwardingEnabled = Snap(f.CreateGauge("overlay_node_forwarding_enabled", Help("overlay_node_forwarding_enabled",
            "1 when the kernel forwards this address family (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding)."), "family"));
        // No sample before the first read of the switches (a 0 there would claim forwarding was checked).
        _transitForwardingOff = f.CreateGauge("overlay_transit_forwarding_off", Help("overlay_transit_forwarding_off",
            "1 when this node is a transit node (overlayd.yaml transit: true) and IPv4 forwarding is off."), new GaugeConfiguration { SuppressInitialValue = true });

        _applyDuration = f.CreateHistogram("overlay_apply_duration_seconds", Help("overlay_apply_duration_seconds",
            "Time to apply one change to FRR or the kernel through the writer."), new HistogramConfiguration { LabelNames = ["operation"], Buckets = ApplyBuckets });
        _apply = f.CreateCounter("overlay_apply_total", Help("overlay_apply_total", "Changes applied through the writer, by result."), "operation", "result");
        _frrErrors = f.CreateCounter("overlay_frr_errors_total", Help("overlay_frr_errors_total", "Failed FRR operations (VIP advertise/withdraw)."), "operation");
        _reloads = f.CreateCounter("overlay_config_reloads_total", Help("overlay_config_reloads_total", "Configuration reloads, by result."), "result");
        _resets = f.CreateCounter("overlay_session_resets_total", Help("overlay_session_resets_total",
            "WireGuard sessions reset by the session watchdog (anycast endpoints), by result."), "interface", "result");
        _recoveries = f.CreateCounter("overlay_session_recoveries_total", Help("overlay_session_recoveries_total",
            "Times a tunnel answered probes again after session resets."), "interface");
    }

    /// <summary>Every family's name and HELP text, in declaration order (tests check them; docs/operations.md lists them).</summary>
    public IReadOnlyList<(string Name, string Help)> Families => _families;

    /// <summary>
    /// prometheus-net writes HELP as given, without escaping: a newline would end the line and break the scrape, and a
    /// backslash would be read as the start of an escape. Refused when the family is declared.
    /// </summary>
    private string Help(string name, string help)
    {
        if (help.AsSpan().IndexOfAny('\n', '\r', '\\') >= 0)
            throw new ArgumentException($"HELP of {name} must be one line without backslashes (prometheus-net does not escape it): {help}", nameof(help));
        _families.Add((name, help));
        return help;
    }

    public void ObserveApply(ApplyOperation op, double seconds, bool ok)
    {
        string operation = op.ToString();
        _applyDuration.WithLabels(operation).Observe(seconds);
        _apply.WithLabels(operation, ok ? "ok" : "error").Inc();
        if (!ok && op is ApplyOperation.Advertise or ApplyOperation.Withdraw)
            _frrErrors.WithLabels(operation).Inc();
    }

    /// <summary>The latest read of the kernel's forwarding switches (rendered at scrape time).</summary>
    public void ObserveForwarding(bool transit, ForwardingState state) => _forwarding = new ForwardingView(transit, state);

    public void VipTransition(string vip, VipState to) => _transitions.WithLabels(vip, to.ToString()).Inc();

    /// <summary>The session watchdog reset a peer's session (one per reset, by the writer's result).</summary>
    public void SessionReset(string iface, bool ok) => _resets.WithLabels(iface, ok ? "ok" : "error").Inc();

    /// <summary>An echo was answered again after one or more resets.</summary>
    public void SessionRecovered(string iface) => _recoveries.WithLabels(iface).Inc();

    public void ConfigReload(bool ok) => _reloads.WithLabels(ok ? "ok" : "rejected").Inc();

    /// <summary>What the scrape adds beyond the VIP loop's snapshot: who this node is, its drains, its events.</summary>
    public sealed record NodeFacts(string Node, string? Site, IReadOnlyList<DrainSince> Drains, IReadOnlyList<(EventSource Source, long Count)> Events);

    /// <summary>Sets the snapshot's series and writes every family in the text format to <paramref name="to"/>.</summary>
    public async Task WriteAsync(Stream to, DaemonState.Snapshot s, DateTimeOffset now, NodeFacts? node = null, CancellationToken ct = default)
    {
        // Exported into memory under the lock, sent after it: a scraper that reads slowly holds up nobody else.
        using var text = new MemoryStream();
        await _scrape.WaitAsync(ct);
        try
        {
            SetSnapshot(s, now, node);
            await _registry.CollectAndExportAsTextAsync(text, ct);
        }
        finally { _scrape.Release(); }
        text.Position = 0;
        await text.CopyToAsync(to, ct);
    }

    /// <summary>The exposition as a string (tests, benchmarks).</summary>
    public async Task<string> RenderAsync(DaemonState.Snapshot s, DateTimeOffset now, NodeFacts? node = null)
    {
        using var ms = new MemoryStream();
        await WriteAsync(ms, s, now, node);
        return System.Text.Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }

    private void SetSnapshot(DaemonState.Snapshot s, DateTimeOffset now, NodeFacts? node)
    {
        _nodeInfo.Begin();
        if (node is not null) _nodeInfo.Get(node.Node, node.Site ?? "", Version).Set(1);
        _nodeInfo.End();
        _vipInfo.Begin();
        foreach (var v in s.Vips) _vipInfo.Get(v.Name, v.Prefix, v.Lease).Set(1);
        _vipInfo.End();
        _drainSince.Begin();
        foreach (var d in node?.Drains ?? []) _drainSince.Get(d.Source, d.Vip ?? "*").Set(d.Since.ToUnixTimeMilliseconds() / 1000.0);
        _drainSince.End();
        _events.Begin();
        foreach (var (src, n) in node?.Events ?? []) SetCounter(_events, n, src.ToString());
        _events.End();

        _handshakeAge.Begin();
        _rxBytes.Begin();
        _txBytes.Begin();
        _interfaceHealthy.Begin();
        foreach (var p in s.Peers)
        {
            if (p.LastHandshake is { } hs) _handshakeAge.Get(p.Interface, p.Peer).Set(Math.Max(0, (now - hs).TotalSeconds));
            SetCounter(_rxBytes, p.RxBytes, p.Interface, p.Peer);
            SetCounter(_txBytes, p.TxBytes, p.Interface, p.Peer);
            _interfaceHealthy.Get(p.Interface).Set(p.Healthy ? 1 : 0);
        }
        _handshakeAge.End();
        _rxBytes.End();
        _txBytes.End();
        _interfaceHealthy.End();

        _vipState.Begin();
        _vipAdvertised.Begin();
        _vipPenalty.Begin();
        foreach (var v in s.Vips)
        {
            foreach (var st in Enum.GetValues<VipState>()) _vipState.Get(v.Name, st.ToString()).Set(v.State == st ? 1 : 0);
            _vipAdvertised.Get(v.Name).Set(v.State is VipState.Advertised or VipState.PendingWithdraw ? 1 : 0);
            _vipPenalty.Get(v.Name).Set(Math.Round(v.Penalty, 3));
        }
        _vipState.End();
        _vipAdvertised.End();
        _vipPenalty.End();

        _ospfFull.Begin();
        foreach (var n in s.Routing.OspfNeighbors) _ospfFull.Get(n.RouterId.ToString(), n.Interface).Set(n.State == OspfNeighborState.Full ? 1 : 0);
        _ospfFull.End();
        _bgpEstablished.Begin();
        foreach (var b in s.Routing.BgpSessions) _bgpEstablished.Get(b.Neighbor).Set(b.Established ? 1 : 0);
        _bgpEstablished.End();
        _bfdUp.Begin();
        foreach (var b in s.BfdSessions) _bfdUp.Get(b.Peer.ToString(), b.Interface ?? "").Set(b.State == BfdSessionState.Up ? 1 : 0);
        _bfdUp.End();

        _forwardingEnabled.Begin();
        if (_forwarding is { } fw)
        {
            if (fw.State.IPv4 is { } v4) _forwardingEnabled.Get("ipv4").Set(v4 ? 1 : 0);
            if (fw.State.IPv6 is { } v6) _forwardingEnabled.Get("ipv6").Set(v6 ? 1 : 0);
            _transitForwardingOff.Set(fw.Transit && fw.State.IPv4 == false ? 1 : 0);
        }
        _forwardingEnabled.End();
    }

    /// <summary>A counter read from its source (WireGuard's byte counts, the timeline's event counts): set, not incremented.</summary>
    private static void SetCounter(Snapshotted<Counter.Child> family, double value, params string[] labels)
    {
        var child = family.Get(labels);
        if (value < child.Value) child = family.Restart(labels);
        child.IncTo(value);
    }

    private static Snapshotted<TChild> Snap<TChild>(Collector<TChild> collector) where TChild : ChildBase => new(collector);

    /// <summary>
    /// A labelled family whose series are set from a snapshot: a scrape sets the series that exist now
    /// (<see cref="Get"/> between <see cref="Begin"/> and <see cref="End"/>), and End removes those it did not set
    /// (a peer, VIP or session that is gone has no sample, as before).
    /// </summary>
    private sealed class Snapshotted<TChild>(Collector<TChild> collector) where TChild : ChildBase
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        public void Begin() => _seen.Clear();

        public TChild Get(params string[] labels)
        {
            _seen.Add(string.Join('\0', labels));
            return collector.WithLabels(labels);
        }

        /// <summary>Drops the series (a counter that went down: its source restarted, so the series starts again).</summary>
        public TChild Restart(params string[] labels)
        {
            collector.RemoveLabelled(labels);
            return collector.WithLabels(labels);
        }

        public void End()
        {
            foreach (var labels in collector.GetAllLabelValues().ToList())
                if (!_seen.Contains(string.Join('\0', labels))) collector.RemoveLabelled(labels);
        }
    }
}
