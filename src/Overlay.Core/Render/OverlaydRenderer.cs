using System.Text.RegularExpressions;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Core.Render;

/// <summary>overlayd.yaml exactly as docs/overlayd-config.md specifies: every field written explicitly.</summary>
internal static partial class OverlaydRenderer
{
    public static void Render(Utf8Out o, InventoryText text, NodeText self, List<NodeLink> links)
    {
        var inventory = text.Inventory;
        var node = self.Node;
        var dm = inventory.Daemon;
        var frr = inventory.Frr;
        o.Line($"# {Renderer.Header}");
        o.Line($"node: {Q(node.Name)}");
        if (node.Site is not null) o.Line($"site: {Q(node.Site)}");
        // overlayd reports a transit node whose kernel does not forward (render's sysctl drop-in not applied).
        o.Line($"transit: {(TransitNodes.IsTransit(inventory, node) ? "true" : "false")}");
        if (dm.Inventory is not null) o.Line($"inventory: {Q(dm.Inventory)}");
        o.Line();
        o.Line("api:");
        o.Line($"  socket: {Q(dm.ApiSocket)}");
        o.Line($"  mode: \"{dm.ApiMode}\"");
        if (dm.ApiGroup is not null) o.Line($"  group: {Q(dm.ApiGroup)}");
        o.Line("metrics:");
        o.Line($"  listen: {Q(dm.MetricsListen)}");
        o.Line();
        o.Line("frr:");
        o.Line($"  pathspace: {Q(frr.Pathspace)}");
        o.Line($"  vtyDir: {Q(frr.VtyDir)}");
        o.Line("  grpc:");
        o.Line($"    host: {Q(frr.GrpcHost)}");
        o.Line($"    zebra: {frr.ZebraPort}");
        o.Line($"    staticd: {frr.StaticdPort}");
        o.Line($"    bfdd: {frr.BfddPort}");
        o.Line();

        var anycast = AnycastEndpoints.InterfacesOf(inventory, node);
        if (links.Count == 0 && anycast.Count == 0) o.Line("interfaces: []");
        else
        {
            o.Line("interfaces:");
            foreach (var ai in anycast) WriteAnycastInterface(o, node, ai, inventory.Defaults);
            foreach (var l in links)
            {
                o.Line($"  - name: {l.Interface}");
                o.Line($"    peer: {l.Peer.YamlName}");
                o.Line($"    peerPublicKey: \"{l.Peer.PublicKey}\"");
                o.Line($"    listenPort: {l.ListenPort}");
                o.Line($"    keepalive: {(l.Tunnel.Keepalive ? D(Nat.KeepaliveAdvice.For(l.Self.Node, l.Peer.Node, inventory.Defaults)) : "0s")}");
                o.Line($"    localAddress: {l.LocalAddress}/31");
                o.Line($"    peerAddress: {l.PeerAddress}");
                o.Line("    bfd: true");
                o.Line($"    gate: {text.GateYaml}");
                // The far end is an anycast VIP's site: probe it (peerAddress) and reset the session when the route moves.
                if (AnycastEndpoints.Of(inventory, node, l.Peer.Node.Name)?.Watchdog is { } w)
                {
                    o.Line("    watchdog:");
                    o.Line($"      interval: {D(w.Interval)}");
                    o.Line($"      misses: {w.Misses}");
                    o.Line($"      backoff: {D(w.Backoff)}");
                    o.Line($"      maxBackoff: {D(w.MaxBackoff)}");
                }
            }
        }
        o.Line();

        o.Line("policies:");
        foreach (var p in inventory.Policies)
        {
            o.Line($"  {Q(p.Name)}:");
            o.Line($"    interval: {D(p.Interval)}");
            o.Line($"    fastInterval: {D(p.FastInterval)}");
            o.Line($"    rise: {p.Rise}");
            o.Line($"    fall: {p.Fall}");
            o.Line($"    minHealthyInterfaces: {p.MinHealthyInterfaces}");
            o.Line($"    handshakeMaxAge: {D(p.HandshakeMaxAge)}");
            o.Line($"    rxStallAfter: {D(p.RxStallAfter)}");
            o.Line($"    bfd: {(p.Bfd == BfdRequirement.Required ? "required" : "ignored")}");
            o.Line("    holdDown:");
            o.Line($"      advertise: {D(p.HoldDown.Advertise)}");
            o.Line($"      withdraw: {D(p.HoldDown.Withdraw)}");
            if (p.Dampening is { } damp)
            {
                o.Line("    dampening:");
                o.Line($"      halfLife: {D(damp.HalfLife)}");
                o.Line($"      penaltyPerFlap: {damp.PenaltyPerFlap}");
                o.Line($"      suppressAbove: {damp.SuppressAbove}");
                o.Line($"      reuseBelow: {damp.ReuseBelow}");
                o.Line($"      maxPenalty: {damp.MaxPenalty}");
            }
            o.Line("    require:");
            o.Line($"      ospfFullNeighbors: {p.Require.OspfFullNeighbors}");
            o.Line($"      bgpEstablished: {List(p.Require.BgpEstablished.Select(a => a.ToString()))}");
        }
        o.Line();

        var vips = inventory.VipsOf(node.Name).ToList();
        if (vips.Count == 0) o.Line("vips: []");
        else
        {
            o.Line("vips:");
            foreach (var v in vips)
            {
                o.Line($"  - name: {Q(v.Name)}");
                o.Line($"    prefix: {Q(v.Prefix.ToString())}");
                o.Line($"    policy: {Q(v.Policy)}");
                o.Line($"    lease: {v.LeaseInterface}");
                // A VIP served on an anycast WireGuard endpoint is as healthy as that interface (its health peer).
                o.Line($"    interfaces: {List(v.WireGuard is { } w ? [w.InterfaceName(node)] : links.Select(l => l.Interface))}");
            }
        }
        o.Line();
        o.Line("routes: []");
        o.Line();
        o.Line("drain:");
        o.Line($"  file: {Q(dm.DrainFile)}");
        o.Line($"  shutdownTimeout: {D(dm.ShutdownTimeout)}");
    }

    /// <summary>
    /// An anycast interface: on a member, overlayd watches its health peer (keepalive, BFD); on a client, the VIP's sites
    /// with the session watchdog (unless switched off), no BFD.
    /// </summary>
    private static void WriteAnycastInterface(Utf8Out o, Node node, AnycastInterface ai, InventoryDefaults defaults)
    {
        var w = ai.WireGuard;
        o.Line($"  - name: {ai.Name}");
        if (ai.Member)
        {
            var h = w.HealthOf(node.Name)!;
            o.Line($"    peer: {Q(h.Name)}");
            o.Line($"    peerPublicKey: \"{h.PublicKey.ToBase64()}\"");
            o.Line($"    listenPort: {w.Port}");
            o.Line($"    keepalive: {D(h.Keepalive)}");
            o.Line($"    localAddress: {h.Address.ToString()}");
            o.Line($"    peerAddress: {h.PeerAddress}");
            o.Line("    bfd: true");
            o.Line($"    gate: [{h.PeerAddress}/32]");
            return;
        }
        var a = node.AnycastEndpoint!;
        o.Line($"    peer: {Q(ai.Vip.Name)}");
        o.Line($"    peerPublicKey: \"{w.PublicKey.ToBase64()}\"");
        o.Line($"    listenPort: {node.ListenPort}");
        o.Line($"    keepalive: {(node.BehindNat ? D(Nat.KeepaliveAdvice.For(node, node, defaults)) : "0s")}");
        o.Line($"    localAddress: {a.Address!.ToString()}");
        o.Line($"    peerAddress: {w.Address.Address}");
        o.Line("    bfd: false");
        o.Line($"    gate: [{w.Address.Address}/32]");
        if (a.Watchdog is { } wd)
        {
            o.Line("    watchdog:");
            o.Line($"      interval: {D(wd.Interval)}");
            o.Line($"      misses: {wd.Misses}");
            o.Line($"      backoff: {D(wd.Backoff)}");
            o.Line($"      maxBackoff: {D(wd.MaxBackoff)}");
        }
    }

    private static string D(TimeSpan t) => DurationText.Format(t);

    internal static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Q)) + "]";

    [GeneratedRegex(@"^[A-Za-z0-9/_][A-Za-z0-9/_.-]*$")]
    private static partial Regex PlainRegex();

    /// <summary>A YAML scalar: plain when unambiguous, otherwise double-quoted with escapes.</summary>
    internal static string Q(string s)
    {
        bool plain = PlainRegex().IsMatch(s) && !s.EndsWith(':') && s is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off" or "~")
            && !(s.All(c => char.IsAsciiDigit(c) || c == '.') && s.Count(c => c == '.') <= 1); // "1.5" or "0660" would read as numbers
        if (plain) return s;
        var sb = new System.Text.StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    // Only printable ASCII is written as itself: YAML 1.1 readers take U+0085, U+2028 and U+2029 as
                    // line breaks, and nothing rendered needs other characters (the grammars allow ASCII only).
                    if (c is < ' ' or > '~') sb.Append($"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
