using System.Collections.Concurrent;
using System.Reflection;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Core.Anycast;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Metrics;

/// <summary>
/// Counters and histograms accumulated as things happen, plus gauges rendered from the latest
/// <see cref="DaemonState"/> snapshot at scrape time.
/// </summary>
public sealed class DaemonMetrics
{
    private static readonly double[] ApplyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly ConcurrentDictionary<ApplyOperation, Histogram> _apply = new();
    private readonly ConcurrentDictionary<(ApplyOperation, bool), long> _applyCount = new();
    private readonly ConcurrentDictionary<ApplyOperation, long> _frrErrors = new();
    private readonly ConcurrentDictionary<(string Vip, VipState To), long> _transitions = new();
    private readonly ConcurrentDictionary<bool, long> _reloads = new();

    public void ObserveApply(ApplyOperation op, double seconds, bool ok)
    {
        _apply.GetOrAdd(op, _ => new Histogram(ApplyBuckets)).Observe(seconds);
        _applyCount.AddOrUpdate((op, ok), 1, (_, n) => n + 1);
        if (!ok && op is ApplyOperation.Advertise or ApplyOperation.Withdraw)
            _frrErrors.AddOrUpdate(op, 1, (_, n) => n + 1);
    }

    private volatile ForwardingView? _forwarding;

    private sealed record ForwardingView(bool Transit, ForwardingState State);

    /// <summary>The latest read of the kernel's forwarding switches (rendered at scrape time).</summary>
    public void ObserveForwarding(bool transit, ForwardingState state) => _forwarding = new ForwardingView(transit, state);

    public void VipTransition(string vip, VipState to) => _transitions.AddOrUpdate((vip, to), 1, (_, n) => n + 1);

    private readonly ConcurrentDictionary<(string Interface, bool Ok), long> _resets = new();
    private readonly ConcurrentDictionary<string, long> _recoveries = new(StringComparer.Ordinal);

    /// <summary>The session watchdog reset a peer's session (one per reset, by the writer's result).</summary>
    public void SessionReset(string iface, bool ok) => _resets.AddOrUpdate((iface, ok), 1, (_, n) => n + 1);

    /// <summary>An echo was answered again after one or more resets.</summary>
    public void SessionRecovered(string iface) => _recoveries.AddOrUpdate(iface, 1, (_, n) => n + 1);

    public void ConfigReload(bool ok) => _reloads.AddOrUpdate(ok, 1, (_, n) => n + 1);

    /// <summary>What the scrape adds beyond the VIP loop's snapshot: who this node is, its drains, its events.</summary>
    public sealed record NodeFacts(string Node, string? Site, IReadOnlyList<DrainSince> Drains, IReadOnlyList<(EventSource Source, long Count)> Events);

    private static readonly string Version =
        typeof(DaemonMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public string Render(DaemonState.Snapshot s, DateTimeOffset now, NodeFacts? node = null)
    {
        var w = new PrometheusTextWriter();
        RenderNode(w, s, node);

        w.Family("overlay_wireguard_peer_last_handshake_age_seconds", "gauge",
            "Seconds since the last completed handshake with the peer (an age, not an epoch); absent before the first handshake.");
        foreach (var p in s.Peers.Where(p => p.LastHandshake is not null))
            w.Sample("overlay_wireguard_peer_last_handshake_age_seconds", Math.Max(0, (now - p.LastHandshake!.Value).TotalSeconds), ("interface", p.Interface), ("peer", p.Peer));
        w.Family("overlay_wireguard_peer_receive_bytes_total", "counter", "Bytes received from the peer.");
        foreach (var p in s.Peers) w.Sample("overlay_wireguard_peer_receive_bytes_total", p.RxBytes, ("interface", p.Interface), ("peer", p.Peer));
        w.Family("overlay_wireguard_peer_transmit_bytes_total", "counter", "Bytes sent to the peer.");
        foreach (var p in s.Peers) w.Sample("overlay_wireguard_peer_transmit_bytes_total", p.TxBytes, ("interface", p.Interface), ("peer", p.Peer));
        w.Family("overlay_interface_healthy", "gauge", "1 when the WireGuard interface passes every health check of its policy.");
        foreach (var p in s.Peers) w.Sample("overlay_interface_healthy", p.Healthy ? 1 : 0, ("interface", p.Interface));

        w.Family("overlay_vip_state", "gauge", "1 for the VIP's current state, 0 for the others.");
        foreach (var v in s.Vips)
            foreach (var st in Enum.GetValues<VipState>())
                w.Sample("overlay_vip_state", v.State == st ? 1 : 0, ("vip", v.Name), ("state", st.ToString()));
        w.Family("overlay_vip_advertised", "gauge", "1 when the VIP is desired advertised.");
        foreach (var v in s.Vips) w.Sample("overlay_vip_advertised", v.State is VipState.Advertised or VipState.PendingWithdraw ? 1 : 0, ("vip", v.Name));
        w.Family("overlay_vip_penalty", "gauge", "Current flap-dampening penalty of the VIP.");
        foreach (var v in s.Vips) w.Sample("overlay_vip_penalty", Math.Round(v.Penalty, 3), ("vip", v.Name));
        w.Family("overlay_vip_transitions_total", "counter", "VIP state transitions, by the state entered.");
        foreach (var ((vip, to), n) in _transitions.OrderBy(x => x.Key.Vip, StringComparer.Ordinal).ThenBy(x => x.Key.To))
            w.Sample("overlay_vip_transitions_total", n, ("vip", vip), ("to", to.ToString()));

        w.Family("overlay_ospf_neighbor_full", "gauge", "1 when the OSPF neighbor is in state Full.");
        foreach (var n in s.Routing.OspfNeighbors)
            w.Sample("overlay_ospf_neighbor_full", n.State == OspfNeighborState.Full ? 1 : 0, ("neighbor", n.RouterId.ToString()), ("interface", n.Interface));
        w.Family("overlay_bgp_session_established", "gauge", "1 when the BGP session is Established.");
        foreach (var b in s.Routing.BgpSessions)
            w.Sample("overlay_bgp_session_established", b.Established ? 1 : 0, ("neighbor", b.Neighbor.ToString()));
        w.Family("overlay_bfd_session_up", "gauge", "1 when the BFD session is Up.");
        foreach (var b in s.BfdSessions)
            w.Sample("overlay_bfd_session_up", b.State == BfdSessionState.Up ? 1 : 0, ("peer", b.Peer.ToString()), ("interface", b.Interface ?? ""));

        if (_forwarding is { } fw)
        {
            w.Family("overlay_node_forwarding_enabled", "gauge", "1 when the kernel forwards this address family (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding).");
            if (fw.State.IPv4 is { } v4) w.Sample("overlay_node_forwarding_enabled", v4 ? 1 : 0, ("family", "ipv4"));
            if (fw.State.IPv6 is { } v6) w.Sample("overlay_node_forwarding_enabled", v6 ? 1 : 0, ("family", "ipv6"));
            w.Family("overlay_transit_forwarding_off", "gauge", "1 when this node is a transit node (overlayd.yaml transit: true) and IPv4 forwarding is off.");
            w.Sample("overlay_transit_forwarding_off", fw.Transit && fw.State.IPv4 == false ? 1 : 0);
        }

        w.Family("overlay_apply_duration_seconds", "histogram", "Time to apply one change to FRR or the kernel through the writer.");
        foreach (var (op, h) in _apply.OrderBy(x => x.Key)) h.WriteTo(w, "overlay_apply_duration_seconds", ("operation", op.ToString()));
        w.Family("overlay_apply_total", "counter", "Changes applied through the writer, by result.");
        foreach (var ((op, ok), n) in _applyCount.OrderBy(x => x.Key))
            w.Sample("overlay_apply_total", n, ("operation", op.ToString()), ("result", ok ? "ok" : "error"));
        w.Family("overlay_frr_errors_total", "counter", "Failed FRR operations (VIP advertise/withdraw).");
        foreach (var (op, n) in _frrErrors.OrderBy(x => x.Key)) w.Sample("overlay_frr_errors_total", n, ("operation", op.ToString()));
        w.Family("overlay_config_reloads_total", "counter", "Configuration reloads, by result.");
        foreach (var (ok, n) in _reloads.OrderBy(x => x.Key)) w.Sample("overlay_config_reloads_total", n, ("result", ok ? "ok" : "rejected"));
        w.Family("overlay_session_resets_total", "counter", "WireGuard sessions reset by the session watchdog (anycast endpoints), by result.");
        foreach (var ((iface, ok), n) in _resets.OrderBy(x => x.Key.Interface, StringComparer.Ordinal).ThenBy(x => x.Key.Ok))
            w.Sample("overlay_session_resets_total", n, ("interface", iface), ("result", ok ? "ok" : "error"));
        w.Family("overlay_session_recoveries_total", "counter", "Times a tunnel answered probes again after session resets.");
        foreach (var (iface, n) in _recoveries.OrderBy(x => x.Key, StringComparer.Ordinal))
            w.Sample("overlay_session_recoveries_total", n, ("interface", iface));
        return w.ToString();
    }

    /// <summary>
    /// Families for dashboards and alerts across nodes: the node's name (a Grafana variable), each VIP's prefix (the
    /// anycast group: every member announces the same prefix), operator drains with their start, events by source.
    /// </summary>
    private static void RenderNode(PrometheusTextWriter w, DaemonState.Snapshot s, NodeFacts? node)
    {
        w.Family("overlay_node_info", "gauge", "Always 1; labels name this overlayd's node and site (from overlayd.yaml) and its version.");
        if (node is not null) w.Sample("overlay_node_info", 1, ("node", node.Node), ("site", node.Site ?? ""), ("version", Version));
        w.Family("overlay_vip_info", "gauge", "Always 1; labels give each VIP's prefix (the anycast group: every member announces it) and lease interface.");
        foreach (var v in s.Vips) w.Sample("overlay_vip_info", 1, ("vip", v.Name), ("prefix", v.Prefix), ("lease", v.Lease));
        w.Family("overlay_drain_since_timestamp_seconds", "gauge",
            "Unix time an operator drain in force began (source operator: overlayctl drain; file: the drain file's mtime); vip=\"*\" drains every VIP; absent when not drained.");
        foreach (var d in node?.Drains ?? [])
            w.Sample("overlay_drain_since_timestamp_seconds", d.Since.ToUnixTimeMilliseconds() / 1000.0, ("source", d.Source), ("vip", d.Vip ?? "*"));
        w.Family("overlay_events_total", "counter", "Events appended to the timeline (overlayctl events), by source.");
        foreach (var (src, n) in node?.Events ?? []) w.Sample("overlay_events_total", n, ("source", src.ToString()));
    }
}
