using System.Net;
using Overlay.Core.Inventories;

namespace Overlay.Core.Render;

/// <summary>
/// frr.conf for FRR 8.4: OSPF point-to-point on every tunnel with BFD; the node's overlay address and
/// subnets enabled by <c>network</c> statements on passive interfaces, so they are intra-area routes (an
/// external route waits for ospfd's fixed 1 s external recalculation after every SPF); SPF/LSA throttling
/// from the inventory; VIPs redistributed from static routes (overlayd installs them via a TUN lease, so
/// they exist only while overlayd holds the lease), and eBGP to upstreams that lets nothing but this
/// node's VIPs out.
/// </summary>
internal static class FrrRenderer
{
    public const string BfdProfile = "overlay";
    public const string VipList = "OVERLAY-VIPS";
    public const string VipList6 = "OVERLAY-VIPS6";
    public const string VipMap = "OVERLAY-VIPS";
    public const string UpstreamIn = "OVERLAY-UPSTREAM-IN";

    public static void Render(Utf8Out o, InventoryText text, NodeText self, List<NodeLink> links)
    {
        var inventory = text.Inventory;
        var node = self.Node;
        var d = inventory.Defaults;
        var vips = inventory.VipsOf(node.Name).OrderBy(v => v.Prefix).ToList();
        var vip4 = vips.Where(v => !v.Prefix.IsIPv6).ToList();
        var vip6 = vips.Where(v => v.Prefix.IsIPv6).ToList();
        // OSPFv2 carries IPv4 only: the loopback, the IPv4 subnets and each tunnel's /31 are OSPF networks.
        var networks = new List<string> { $"{node.OverlayV4}/32" };
        networks.AddRange(node.Subnets.Where(s => !s.Prefix.IsIPv6).Select(s => s.Prefix.ToString()));
        networks.AddRange(links.Select(l => l.Tunnel.Link.ToString()));
        var throttle = d.OspfThrottle;

        o.Line($"! {Renderer.Header}");
        o.Line("frr version 8.4");
        o.Line("frr defaults traditional");
        o.Line($"hostname {node.Name}");
        o.Line("service integrated-vtysh-config");
        o.Line("!");

        PrefixList(o, "ip", VipList, [.. vip4.Select(v => v.Prefix.ToString())]);
        if (vip6.Count > 0) PrefixList(o, "ipv6", VipList6, [.. vip6.Select(v => v.Prefix.ToString())]);
        o.Line("!");

        PermitPrefixList(o, VipMap, 10, "ip", VipList);
        if (vip6.Count > 0) PermitPrefixList(o, VipMap, 20, "ipv6", VipList6);
        if (node.Upstreams.Count > 0)
        {
            // Edges announce VIPs upstream and learn nothing back: their underlay routing is not FRR's business.
            o.Line($"route-map {UpstreamIn} deny 10");
            o.Line(Exit);
        }
        o.Line("!");

        o.Line("interface lo");
        o.Line($" ip address {node.OverlayV4}/32");
        if (node.OverlayV6 is { } lo6) o.Line($" ipv6 address {lo6}/128");
        EndStanza(o);
        foreach (var link in links)
        {
            o.Line($"interface {link.Interface}");
            o.Line($" description {link.Peer.Name} ({WireGuardRenderer.Kind(link.Tunnel.Kind)})");
            o.Line(" ip ospf network point-to-point");
            // Every other interface is passive (passive-interface default): only tunnels speak OSPF.
            o.Line(" no ip ospf passive");
            o.Line($" ip ospf cost {link.Tunnel.Cost}");
            o.Line($" ip ospf hello-interval {text.OspfHello}");
            o.Line($" ip ospf dead-interval {text.OspfDead}");
            o.Line(" ip ospf bfd");
            o.Line($" ip ospf bfd profile {BfdProfile}");
            EndStanza(o);
        }

        o.Line("router ospf");
        o.Line($" ospf router-id {node.OverlayV4}");
        o.Line($" timers throttle spf {Ms(throttle.SpfDelay)} {Ms(throttle.SpfHold)} {Ms(throttle.SpfMaxHold)}");
        o.Line($" timers throttle lsa all {Ms(throttle.LsaAll)}");
        o.Line($" timers lsa min-arrival {Ms(throttle.LsaMinArrival)}");
        // Subnets are found by address, not by interface name (the inventory does not know the LAN's name).
        o.Line(" passive-interface default");
        foreach (var n in networks) o.Line($" network {n} area 0.0.0.0");
        o.Line($" redistribute static route-map {VipMap}");
        EndStanza(o);

        if (node.Upstreams.Count > 0)
        {
            var bgp = d.Bgp;
            o.Line($"router bgp {node.Asn}");
            o.Line($" bgp router-id {node.OverlayV4}");
            o.Line(" no bgp default ipv4-unicast");
            o.Line($" timers bgp {(long)bgp.Keepalive.TotalSeconds} {(long)bgp.Hold.TotalSeconds}");
            foreach (var u in node.Upstreams)
            {
                Neighbor(o, " ", u.Neighbor, "remote-as", u.RemoteAsn);
                Neighbor(o, " ", u.Neighbor, "timers connect", (long)bgp.ConnectRetry.TotalSeconds);
                Neighbor(o, " ", u.Neighbor, "advertisement-interval", (long)bgp.AdvertisementInterval.TotalSeconds);
            }
            foreach (var (af, v6Family) in new[] { ("ipv4", false), ("ipv6", true) })
            {
                var neighbors = node.Upstreams.Where(u => (u.Neighbor.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) == v6Family).ToList();
                if (neighbors.Count == 0) continue;
                o.Line(" !");
                o.Line($" address-family {af} unicast");
                o.Line($"  redistribute static route-map {VipMap}");
                foreach (var u in neighbors)
                    foreach (var setting in AddressFamilyNeighbor)
                        o.Line($"  neighbor {u.Neighbor} {setting}");
                o.Line(" exit-address-family");
            }
            EndStanza(o);
        }

        o.Line("bfd");
        o.Line($" profile {BfdProfile}");
        o.Line($"  detect-multiplier {d.BfdMultiplier}");
        o.Line($"  receive-interval {(long)d.BfdMinRx.TotalMilliseconds}");
        o.Line($"  transmit-interval {(long)d.BfdMinTx.TotalMilliseconds}");
        o.Line(" exit");
        foreach (var link in links) BfdPeer(o, link.PeerAddress, local: null, link.Interface);
        // A member's health peer on its anycast interface (which carries two addresses, hence local-address).
        foreach (var ai in AnycastEndpoints.InterfacesOf(inventory, node).Where(a => a.Member))
        {
            var h = ai.WireGuard.HealthOf(node.Name)!;
            BfdPeer(o, h.PeerAddress, h.Address.Address, ai.Name);
        }
        EndStanza(o);
        o.Line("end");
    }

    private const string Exit = "exit";

    /// <summary>What every upstream gets in its address family: VIPs out, nothing in.</summary>
    private static readonly string[] AddressFamilyNeighbor =
        ["activate", $"route-map {UpstreamIn} in", $"route-map {VipMap} out"];

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>Closes a top-level stanza: FRR's own <c>show running-config</c> ends each with "exit" and "!".</summary>
    private static void EndStanza(Utf8Out o)
    {
        o.Line(Exit);
        o.Line("!");
    }

    private static void Neighbor(Utf8Out o, string indent, IPAddress neighbor, string setting, long value) =>
        o.Line($"{indent}neighbor {neighbor} {setting} {value}");

    /// <summary>A BFD peer on <paramref name="iface"/> with the overlay profile; <paramref name="local"/> where the interface has two addresses.</summary>
    private static void BfdPeer(Utf8Out o, IPAddress peer, IPAddress? local, string iface)
    {
        if (local is null) o.Line($" peer {peer} interface {iface}");
        else o.Line($" peer {peer} local-address {local} interface {iface}");
        o.Line($"  profile {BfdProfile}");
        o.Line(" exit");
    }

    private static void PermitPrefixList(Utf8Out o, string routeMap, int seq, string family, string prefixList)
    {
        o.Line($"route-map {routeMap} permit {seq}");
        o.Line($" match {family} address prefix-list {prefixList}");
        o.Line(Exit);
    }

    private static void PrefixList(Utf8Out o, string family, string name, List<string> prefixes)
    {
        if (prefixes.Count == 0)
        {
            o.Line($"{family} prefix-list {name} seq 5 deny any");
            return;
        }
        for (int i = 0; i < prefixes.Count; i++)
            o.Line($"{family} prefix-list {name} seq {(i + 1) * 5} permit {prefixes[i]}");
    }
}
