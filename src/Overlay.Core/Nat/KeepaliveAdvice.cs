using System.Net;
using System.Net.Sockets;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Nat;

/// <summary>
/// The persistent keepalive of a tunnel, from data: a tunnel with an end behind NAT keeps that NAT's UDP mapping alive
/// with a keepalive below the NAT's idle timeout. Pure; render, lint and the inventory's policy checks all ask here, so
/// they agree (docs/nat.md).
/// </summary>
public static class KeepaliveAdvice
{
    /// <summary>
    /// The keepalive is this fraction of the NAT timeout, rounded down to whole seconds (WireGuard counts seconds): 25 s
    /// for the standard 30 s, WireGuard's own advice. Both ends send it and any packet either way refreshes the mapping,
    /// so the mapping sees a packet at least every keepalive; the remaining sixth absorbs timer slack and delay.
    /// </summary>
    public const double Fraction = 5.0 / 6.0;

    /// <summary>The keepalive for a NAT with this UDP timeout: floor(timeout × 5/6), at least 1 s.</summary>
    public static TimeSpan ForNatTimeout(TimeSpan natTimeout) =>
        TimeSpan.FromSeconds(Math.Max(1, (long)Math.Floor(natTimeout.TotalSeconds * Fraction)));

    /// <summary>
    /// The keepalive of the tunnel between <paramref name="a"/> and <paramref name="b"/> (zero when neither is behind NAT):
    /// defaults.keepalive where the inventory wrote it, otherwise derived from the shorter NAT timeout of its ends.
    /// </summary>
    public static TimeSpan For(Node a, Node b, InventoryDefaults defaults)
    {
        if (!a.BehindNat && !b.BehindNat) return TimeSpan.Zero;
        if (defaults.KeepaliveGiven) return defaults.Keepalive;
        return ForNatTimeout(ShorterNatTimeout(a, b));
    }

    /// <summary>The keepalive render writes for <paramref name="tunnel"/> (zero when the tunnel sends none).</summary>
    public static TimeSpan For(Inventory inventory, Tunnel tunnel) =>
        tunnel.Keepalive ? For(inventory.GetNode(tunnel.A), inventory.GetNode(tunnel.B), inventory.Defaults) : TimeSpan.Zero;

    /// <summary>The NAT timeout that bounds a tunnel: the shorter of its NATed ends' (a node without one is the standard 30 s).</summary>
    public static TimeSpan ShorterNatTimeout(Node a, Node b)
    {
        TimeSpan Of(Node n) => n.NatUdpTimeout?.Value ?? NatUdpTimeout.Standard;
        return (a.BehindNat, b.BehindNat) switch
        {
            (true, true) => Of(a) < Of(b) ? Of(a) : Of(b),
            (true, false) => Of(a),
            _ => Of(b),
        };
    }

    /// <summary>One line saying why a NATed node's tunnels send the keepalive they do (for lint and docs).</summary>
    public static string Explain(Node node, InventoryDefaults defaults)
    {
        var nat = node.NatUdpTimeout ?? new NatUdpTimeout(NatUdpTimeout.Standard, NatTimeoutSource.Standard, SourceLocation.None);
        string timeout = $"its NAT's UDP timeout is {DurationText.Format(nat.Value)} ({nat.Describe(node.Site)})";
        return defaults.KeepaliveGiven
            ? $"'{node.Name}' is behind NAT; {timeout}; keepalive {DurationText.Format(defaults.Keepalive)} as defaults.keepalive says"
            : $"'{node.Name}' is behind NAT; {timeout}; keepalive {DurationText.Format(ForNatTimeout(nat.Value))} (5/6 of it, whole seconds)";
    }
}

/// <summary>
/// The bytes one idle keepalive costs on the wire. A WireGuard keepalive is a transport-data message with an empty
/// payload: type and reserved bytes (4), receiver index (4), counter (8) and the Poly1305 tag of the empty payload (16),
/// 32 bytes; then the UDP header (8) and the IP header (20 for IPv4, 40 for IPv6, no options). Link-layer framing
/// (Ethernet: 14 header + 4 FCS, plus 20 of preamble and gap) comes on top and is not counted.
/// </summary>
public static class KeepalivePacket
{
    public const int WireGuardBytes = 4 + 4 + 8 + 16;
    public const int UdpHeaderBytes = 8;
    public const int IPv4HeaderBytes = 20;
    public const int IPv6HeaderBytes = 40;

    public static int IpBytes(AddressFamily underlay) =>
        WireGuardBytes + UdpHeaderBytes + (underlay == AddressFamily.InterNetworkV6 ? IPv6HeaderBytes : IPv4HeaderBytes);
}

/// <summary>A node's share of the keepalive traffic: what it sends (it receives as much from its peers).</summary>
public sealed record NodeKeepaliveTraffic(string Node, bool BehindNat, int KeepaliveTunnels, TimeSpan? ShortestKeepalive, double PacketsPerSecond, double BytesPerSecond, string? Explanation);

/// <summary>The keepalive traffic an inventory implies when every tunnel is idle (the worst case: a tunnel carrying traffic sends no keepalives).</summary>
public sealed record KeepaliveTrafficReport(
    IReadOnlyList<NodeKeepaliveTraffic> Nodes,
    int Tunnels,
    int KeepaliveTunnels,
    double FleetPacketsPerSecond,
    double FleetBytesPerSecond,
    /// <summary>The same fleet if every tunnel sent a keepalive of defaults.keepalive (the "keepalive everywhere" habit), for comparison.</summary>
    double EverywherePacketsPerSecond,
    double EverywhereBytesPerSecond)
{
    public const string Assumptions =
        "idle tunnels, as WireGuard sends a keepalive only when nothing else was sent for the interval; both ends sending; " +
        "bytes at the IP layer: 32-byte WireGuard keepalive + 8 UDP + 20 IPv4 (40 IPv6) = 60 (80) bytes, link framing not counted; " +
        "underlay family from the endpoint (host names counted as IPv4)";

    public static KeepaliveTrafficReport Compute(Inventory inventory)
    {
        var perNode = new Dictionary<string, (int Tunnels, TimeSpan? Shortest, double Pps, double Bps)>(StringComparer.Ordinal);
        double fleetPps = 0, fleetBps = 0, allPps = 0, allBps = 0;
        int withKeepalive = 0;
        var d = inventory.Defaults;
        foreach (var t in inventory.Tunnels)
        {
            var (a, b) = (inventory.GetNode(t.A), inventory.GetNode(t.B));
            int bytes = KeepalivePacket.IpBytes(UnderlayFamily(a, b));
            if (d.Keepalive > TimeSpan.Zero)
            {
                allPps += 2 / d.Keepalive.TotalSeconds;
                allBps += 2 * bytes / d.Keepalive.TotalSeconds;
            }
            var k = KeepaliveAdvice.For(inventory, t);
            if (k <= TimeSpan.Zero) continue;
            withKeepalive++;
            double pps = 1 / k.TotalSeconds;
            foreach (var end in new[] { t.A, t.B })
            {
                var cur = perNode.GetValueOrDefault(end);
                perNode[end] = (cur.Tunnels + 1, cur.Shortest is { } s && s < k ? s : k, cur.Pps + pps, cur.Bps + pps * bytes);
            }
            fleetPps += 2 * pps;
            fleetBps += 2 * pps * bytes;
        }
        var nodes = inventory.Nodes
            .Where(n => perNode.ContainsKey(n.Name))
            .Select(n =>
            {
                var x = perNode[n.Name];
                return new NodeKeepaliveTraffic(n.Name, n.BehindNat, x.Tunnels, x.Shortest, x.Pps, x.Bps, n.BehindNat ? KeepaliveAdvice.Explain(n, d) : null);
            })
            .OrderByDescending(n => n.PacketsPerSecond).ThenBy(n => n.Node, StringComparer.Ordinal)
            .ToList();
        return new KeepaliveTrafficReport(nodes, inventory.Tunnels.Count, withKeepalive, fleetPps, fleetBps, allPps, allBps);
    }

    /// <summary>The underlay family of a tunnel: that of the endpoint it is dialled at (an IPv6 literal), else IPv4.</summary>
    private static AddressFamily UnderlayFamily(Node a, Node b)
    {
        var host = (a.Endpoint ?? b.Endpoint)?.Host;
        return host is not null && IPAddress.TryParse(host, out var ip) ? ip.AddressFamily : AddressFamily.InterNetwork;
    }
}
