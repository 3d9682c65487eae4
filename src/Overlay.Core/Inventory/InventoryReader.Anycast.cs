using Overlay.Core.Config;
using Overlay.Core.Net;
using Overlay.Core.Yaml;
using static Overlay.Core.Diagnostics.NearMiss;

namespace Overlay.Core.Inventories;

// A node's anycastEndpoint: its tunnels to a VIP's members end on the anycast VIP, and carry overlayd's session
// watchdog unless it is switched off (docs/inventory.md, docs/anycast.md).
internal sealed partial class InventoryReader
{
    private static readonly string[] AnycastKeys = ["vip", "watchdog", "address"];
    private static readonly string[] WatchdogKeys = ["interval", "misses", "backoff", "maxBackoff"];

    private AnycastEndpoint? ReadAnycastEndpoint(YMap m, string who)
    {
        var node = Get(m, "anycastEndpoint");
        if (node is null || node.IsNull) return null;
        var a = Map(node, "anycastEndpoint", AnycastKeys);
        if (a is null) return null;
        var vipNode = Required(a, "vip", $"the anycastEndpoint of {who}");
        string? vip = Str(vipNode, "anycastEndpoint.vip");
        if (vip is not null && !ValueGrammar.IsVipName(vip))
        {
            Error(InventoryCodes.InvalidName, vipNode!.At, $"anycastEndpoint.vip '{vip}' is not a VIP name", "name one of the VIPs under 'vips:' whose members this node reaches");
            vip = null;
        }

        SessionWatchdogConfig? watchdog = SessionWatchdogConfig.Standard;
        bool ok = true;
        var w = Get(a, "watchdog");
        if (w is not null && !w.IsNull)
        {
            if (w.Kind == YKind.Scalar)
            {
                // true: the documented defaults; false: a client that goes without it (lint OVL018 warns unless its tunnels keep alive).
                if (Bool(w, "anycastEndpoint.watchdog") is { } on) watchdog = on ? watchdog : null;
                else ok = false;
            }
            else if (Map(w, "anycastEndpoint.watchdog", WatchdogKeys) is { } wm) watchdog = ReadWatchdog(wm, w, ref ok);
            else ok = false;
        }
        int beforeAddress = _errorCount;
        var address = ReadTunnelAddress(Get(a, "address"), "anycastEndpoint.address", 8);
        if (_errorCount != beforeAddress) ok = false;
        if (vip is null || !ok) return null;
        return new AnycastEndpoint(vip, watchdog, vipNode!.At) { Address = address };
    }

    /// <summary>The watchdog settings, each bounded as overlayd.yaml bounds them, so the rendered file always loads.</summary>
    private SessionWatchdogConfig ReadWatchdog(YMap wm, YNode owner, ref bool ok)
    {
        var d = SessionWatchdogConfig.Standard;
        int before = _errorCount;
        var intervalNode = Get(wm, "interval");
        var interval = Duration(intervalNode, "watchdog.interval");
        var missesNode = Get(wm, "misses");
        int misses = Int(missesNode, "watchdog.misses", int.MinValue, int.MaxValue) ?? d.Misses;
        if (misses is < 1 or > AnycastEndpoint.MaxMisses)
        {
            Error(InventoryCodes.OutOfRange, missesNode!.At, $"watchdog.misses {misses} is out of range 1..{AnycastEndpoint.MaxMisses}",
                "use a few, e.g. 3 (the default): misses × interval is how long a silent session lasts before the reset");
            misses = d.Misses;
        }
        var backoffNode = Get(wm, "backoff");
        var backoff = Duration(backoffNode, "watchdog.backoff");
        var maxNode = Get(wm, "maxBackoff");
        var maxBackoff = Duration(maxNode, "watchdog.maxBackoff");
        // Each value on its own first, then how they relate (only between values that are themselves valid).
        if (interval is { } i && (i < AnycastEndpoint.MinInterval || i > AnycastEndpoint.MaxInterval))
        {
            Error(InventoryCodes.TimerInvalid, intervalNode!.At, $"watchdog.interval {DurationText.Format(i)} is outside {DurationText.Format(AnycastEndpoint.MinInterval)}..{DurationText.Format(AnycastEndpoint.MaxInterval)}",
                "probe every 100ms (the default) or a few hundred ms on slow links");
            interval = null;
        }
        else interval ??= d.Interval;
        if (maxBackoff is { } mb && mb > AnycastEndpoint.MaxBackoffLimit)
        {
            Error(InventoryCodes.TimerInvalid, maxNode!.At, $"watchdog.maxBackoff {DurationText.Format(mb)} is above 1h",
                "use e.g. maxBackoff: 30s (the longest wait between resets while the far end is down)");
            maxBackoff = null;
        }
        else if (maxNode is null) maxBackoff = d.MaxBackoff;
        if (backoffNode is null) backoff = d.Backoff;
        if (interval is { } iv && backoff is { } b && b < iv)
        {
            Error(InventoryCodes.TimerInvalid, (backoffNode ?? intervalNode)!.At, $"watchdog.backoff {DurationText.Format(b)} is shorter than watchdog.interval {DurationText.Format(iv)}",
                "make backoff at least one interval (default 250ms): a reset needs a handshake round trip to show");
            backoff = null;
        }
        if (backoff is { } b2 && maxBackoff is { } m2 && m2 < b2)
            Error(InventoryCodes.TimerInvalid, (maxNode ?? backoffNode ?? owner).At, $"watchdog.maxBackoff {DurationText.Format(m2)} is shorter than watchdog.backoff {DurationText.Format(b2)}",
                "make maxBackoff at least backoff, e.g. maxBackoff: 30s");
        if (_errorCount != before) ok = false;
        return new SessionWatchdogConfig(interval ?? d.Interval, misses, backoff ?? d.Backoff, maxBackoff ?? d.MaxBackoff);
    }

    /// <summary>The VIP exists, the node is not one of its sites, and it has a tunnel to at least one of them.</summary>
    private void CheckAnycastEndpoints(List<Node> nodes, List<Vip> vips, List<Tunnel> tunnels, bool tunnelsComplete)
    {
        foreach (var n in nodes)
        {
            if (n.AnycastEndpoint is not { } a) continue;
            var vip = vips.FirstOrDefault(v => v.Name == a.Vip);
            if (vip is null)
            {
                Error(InventoryCodes.InvalidValue, a.Location, $"node '{n.Name}' has anycastEndpoint.vip '{a.Vip}', which is not a VIP",
                    Suggest(a.Vip, vips.Select(v => v.Name)) ?? "name one of the VIPs under 'vips:' whose members this node reaches");
                continue;
            }
            if (vip.Members.Contains(n.Name))
            {
                Error(InventoryCodes.Conflict, a.Location, $"node '{n.Name}' is a member of VIP '{vip.Name}' and also its anycastEndpoint client",
                    "the sites serving a VIP need no watchdog; remove anycastEndpoint from the member, or remove it from the VIP's members");
                continue;
            }
            if (vip.WireGuard is { } w)
            {
                // The client's tunnel is the anycast one: it needs its own address on the VIP's tunnel network.
                if (a.Address is not { } addr)
                    Error(InventoryCodes.MissingField, a.Location, $"node '{n.Name}' is a client of VIP '{vip.Name}', which has an anycast WireGuard endpoint, but has no anycastEndpoint.address",
                        $"add address: <an address in {w.Address.Network}> (the sites are {w.Address.Address})");
                else if (addr.Length != w.Address.Length || !w.Address.Network.Contains(addr.Address))
                    Error(InventoryCodes.InvalidAddress, a.Location, $"node '{n.Name}' anycastEndpoint.address {addr} is not on VIP '{vip.Name}''s tunnel network {w.Address.Network}", $"pick an address in {w.Address.Network}");
                else if (addr.Address.Equals(w.Address.Address))
                    Error(InventoryCodes.DuplicateValue, a.Location, $"node '{n.Name}' anycastEndpoint.address {addr} is the sites' own address", "give the client another address of the network");
                else if (nodes.FirstOrDefault(o => o != n && o.AnycastEndpoint is { Address: { } other } oa && oa.Vip == vip.Name && other.Address.Equals(addr.Address)) is { } clash
                         && nodes.IndexOf(clash) < nodes.IndexOf(n))
                    Error(InventoryCodes.DuplicateValue, a.Location, $"node '{n.Name}' anycastEndpoint.address {addr.Address} is already '{clash.Name}''s", "every client needs its own address");
                continue;
            }
            if (_brokenWireGuardVips.Contains(vip.Name)) continue;
            if (a.Address is { } stray)
            {
                Error(InventoryCodes.Conflict, a.Location, $"node '{n.Name}' has anycastEndpoint.address {stray}, but VIP '{vip.Name}' has no wireguard block", "remove address, or give the VIP an anycast WireGuard endpoint (vips[].wireguard)");
                continue;
            }
            if (tunnelsComplete && !tunnels.Any(t => t.Involves(n.Name) && vip.Members.Contains(t.PeerOf(n.Name))))
                Error(InventoryCodes.Unreachable, a.Location, $"node '{n.Name}' has anycastEndpoint.vip '{vip.Name}' but no tunnel to any of its members ({string.Join(", ", vip.Members)})",
                    "the topology must give this node a tunnel to the VIP's members (e.g. a shortcut), or remove anycastEndpoint");
        }
    }
}
