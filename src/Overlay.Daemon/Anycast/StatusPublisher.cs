using Microsoft.Extensions.Logging;
using Overlay.Core.Config;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Daemon.Logging;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// Publishes a pass: the <see cref="DaemonState"/> snapshot the API and the metrics read, and the changes the timeline
/// and the log show (interface health, peer endpoints, BFD/OSPF/BGP states). It reads the pass's one
/// <see cref="PassEvaluation"/>; it never judges health itself.
/// </summary>
internal sealed class StatusPublisher(DaemonState state, EventTimeline events, ILogger logger)
{
    private readonly Dictionary<string, bool> _interfaceHealth = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _protocolStates = new(StringComparer.Ordinal);
    /// <summary>The peer endpoint last seen per interface, to put roaming (NAT rebinding) on the timeline.</summary>
    private readonly Dictionary<string, string?> _endpoints = new(StringComparer.Ordinal);

    public void Publish(NodeConfig cfg, PassEvaluation evaluation, IEnumerable<VipEntry> vips, DateTimeOffset now)
    {
        var signals = evaluation.Signals;
        var peers = new List<PeerStatus>();
        foreach (var iface in cfg.Interfaces)
        {
            var o = signals.Interfaces[iface.Name];
            EndpointSeen(iface, o.Peer);
            var verdict = evaluation.Interfaces[iface.Name];
            bool known = _interfaceHealth.TryGetValue(iface.Name, out var was);
            if (!known || was != verdict.Healthy)
            {
                _interfaceHealth[iface.Name] = verdict.Healthy;
                Log.InterfaceHealthChanged(logger, iface.Name, verdict.Healthy ? "healthy" : "unhealthy", verdict.Summary);
                events.Append(EventSource.Health, iface.Name, "health", known ? (was ? "healthy" : "unhealthy") : null,
                    verdict.Healthy ? "healthy" : "unhealthy", verdict.Summary);
            }
            var p = o.Peer;
            peers.Add(new PeerStatus(iface.Name, iface.Peer, iface.PeerPublicKey.ToBase64(), o.Link, verdict.Healthy,
                verdict.Reasons.Select(r => r.Message).ToList(), p?.LastHandshake, verdict.HandshakeAge?.TotalSeconds,
                p?.ReceiveBytes ?? 0, p?.TransmitBytes ?? 0, o.LastRxProgress, o.Bfd, p?.Endpoint?.ToString()));
        }
        if (signals.Bfd is { } bfd)
            Changed(EventSource.Bfd, "bfd ", bfd.Select(b => ($"bfd {b.Peer}", b.State.ToString())));
        if (signals.Routing is { } routing)
        {
            Changed(EventSource.Routing, "ospf ", routing.OspfNeighbors.Select(n => ($"ospf {n.RouterId} on {n.Interface}", n.State.ToString())));
            Changed(EventSource.Routing, "bgp ", routing.BgpSessions.Select(b => ($"bgp {b.Neighbor}", b.State)));
        }
        var vipStatus = vips.OrderBy(e => e.Config.Name, StringComparer.Ordinal).Select(e =>
        {
            var health = evaluation.Vips.GetValueOrDefault(e.Config.Name);
            return new VipStatus(e.Config.Name, e.Config.Prefix.ToString(), e.Config.Lease, e.Lease is not null, e.Controller.State,
                health?.Healthy ?? false, health?.Summary ?? "", e.Controller.HealthyStreak, e.Controller.UnhealthyStreak,
                e.Controller.Penalty, e.Controller.Flaps, e.Since, e.NextEvaluation);
        }).ToList();
        state.Publish(new DaemonState.Snapshot(vipStatus, peers, signals.Routing ?? RoutingSnapshot.Empty, signals.Bfd ?? [], now));
    }

    /// <summary>
    /// Puts a change of the peer's endpoint on the timeline: WireGuard roams to wherever the peer's last authenticated
    /// packet came from, so a new address or port means the peer moved or its NAT mapping changed (rebinding). The
    /// first read of an interface only sets the baseline; an endpoint that becomes unknown (peer or interface gone) is
    /// forgotten without an event, as the health events already say why.
    /// </summary>
    private void EndpointSeen(WgInterfaceConfig iface, WireGuardPeer? peer)
    {
        if (peer is null) { _endpoints.Remove(iface.Name); return; }
        bool known = _endpoints.TryGetValue(iface.Name, out var old);
        string? endpoint = peer.Endpoint?.ToString(); // compared and shown as text, as the status and events carry it
        _endpoints[iface.Name] = endpoint;
        if (!known || old == endpoint || endpoint is null) return;
        Log.PeerEndpointChanged(logger, iface.Name, iface.Peer, endpoint, old ?? "none");
        events.Append(EventSource.WireGuard, iface.Name, "endpoint", old, endpoint,
            old is null ? $"{iface.Peer} made contact" : $"{iface.Peer} roamed (NAT rebinding or a new address)");
    }

    /// <summary>Puts protocol state changes (BFD, OSPF, BGP) on the timeline, so failovers can be read in order.</summary>
    /// <remarks>
    /// One call per kind (<paramref name="kind"/> is the subjects' common prefix) with everything read of that kind: a
    /// session or neighbor that is no longer listed (OSPF deletes a dead neighbor, and its BFD session with it) goes on
    /// the timeline as "absent", not silently.
    /// </remarks>
    private void Changed(EventSource source, string kind, IEnumerable<(string Subject, string State)> observed)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (subject, st) in observed)
        {
            seen.Add(subject);
            if (_protocolStates.TryGetValue(subject, out var old) && old == st) continue;
            _protocolStates[subject] = st;
            events.Append(source, subject, "state", old, st);
        }
        foreach (var gone in _protocolStates.Keys.Where(k => k.StartsWith(kind, StringComparison.Ordinal) && !seen.Contains(k)).ToList())
        {
            events.Append(source, gone, "state", _protocolStates[gone], "absent");
            _protocolStates.Remove(gone);
        }
    }
}
