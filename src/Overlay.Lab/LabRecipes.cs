using Overlay.Frr.Northbound;
namespace Overlay.Lab;

/// <summary>Two FRR routers over a wireguard-go tunnel on a veth underlay, as declared by <see cref="LabRecipes.TwoRoutersOverWireGuard"/>.</summary>
public sealed record TwoRouterTopology(LabTopology Topology, LabNode R1, LabNode R2, LabLink Underlay, LabTunnel Tunnel, string Vip);

/// <summary>Ready-made topologies shared by the demo, tests and benchmarks.</summary>
public static class LabRecipes
{
    /// <summary>
    /// bgpd of a VIP speaker: eBGP to one upstream with lab timers (1 s/3 s, no advertisement delay) that exports only
    /// 203.0.113.0/24 host routes, and only those it has as static routes (the VIP mechanism).
    /// </summary>
    public static string VipSpeakerBgp(string routerId, int asn, string neighbor, int neighborAsn) => $"""
        ip prefix-list VIPS seq 5 permit 203.0.113.0/24 ge 32
        route-map VIP-OUT permit 10
         match ip address prefix-list VIPS
        !
        {UpstreamBgp(routerId, asn, neighbor, neighborAsn).TrimEnd().TrimEnd('!').TrimEnd()}
         address-family ipv4 unicast
          redistribute static route-map VIP-OUT
         exit-address-family
        !

        """;

    /// <summary>bgpd of a plain eBGP router toward one neighbor, with the same lab timers.</summary>
    public static string UpstreamBgp(string routerId, int asn, string neighbor, int neighborAsn) => $"""
        router bgp {asn}
         bgp router-id {routerId}
         no bgp ebgp-requires-policy
         timers bgp 1 3
         neighbor {neighbor} remote-as {neighborAsn}
         neighbor {neighbor} timers connect 1
         neighbor {neighbor} advertisement-interval 0
        !

        """;

    /// <summary>
    /// r1 (AS 65001) and r2 (AS 65002): underlay 192.0.2.0/30, tunnel 10.255.0.0/31 (r1 .0, r2 .1) with a permissive
    /// AllowedIPs gate; OSPF point-to-point on the tunnel (hello 1 s, dead 3 s) with BFD (100 ms, bfdd);
    /// eBGP between the tunnel addresses with BFD; r1 originates the VIP 203.0.113.10/32 (static
    /// blackhole, redistributed through a route-map that permits only 203.0.113.0/24 host routes).
    /// Loopbacks 10.0.0.1/32 and 10.0.0.2/32 are carried by OSPF (LSA/SPF throttling off: a lab converges fast).
    /// </summary>
    public static TwoRouterTopology TwoRoutersOverWireGuard(bool bgp = true, bool vip = true)
    {
        var topo = new LabTopology();
        var r1 = topo.AddNode("r1");
        var r2 = topo.AddNode("r2");
        var underlay = topo.AddLink(r1, "192.0.2.1/30", r2, "192.0.2.2/30");
        var tunnel = topo.AddTunnel(underlay, "10.255.0.0/31", "10.255.0.1/31");
        const string Vip = "203.0.113.10/32";
        foreach (var (node, loopback, asn, peerAsn) in new[] { (r1, "10.0.0.1", 65001, 65002), (r2, "10.0.0.2", 65002, 65001) })
        {
            string ifname = tunnel.InterfaceOf(node);
            var peer = tunnel.AddressOf(tunnel.PeerOf(node));
            node.WithFrr(FrrDaemon.Zebra, $"""
                hostname {node.Name}
                interface lo
                 ip address {loopback}/32
                !
                """);
            node.WithFrr(FrrDaemon.Bfdd, """
                bfd
                 profile fast
                  receive-interval 100
                  transmit-interval 100
                  detect-multiplier 3
                 !
                !
                """);
            node.WithFrr(FrrDaemon.Ospfd, $"""
                interface {ifname}
                 ip ospf network point-to-point
                 ip ospf hello-interval 1
                 ip ospf dead-interval 3
                 ip ospf bfd
                 ip ospf bfd profile fast
                 ip ospf area 0
                !
                interface lo
                 ip ospf area 0
                !
                router ospf
                 ospf router-id {loopback}
                 passive-interface lo
                 timers throttle spf 0 50 500
                 timers throttle lsa all 0
                 timers lsa min-arrival 0
                !
                """);
            if (bgp)
            {
                bool originates = vip && node == r1;
                node.WithFrr(FrrDaemon.Bgpd, $"""
                    ip prefix-list VIPS seq 5 permit 203.0.113.0/24 ge 32
                    route-map VIP-OUT permit 10
                     match ip address prefix-list VIPS
                    !
                    router bgp {asn}
                     bgp router-id {loopback}
                     no bgp ebgp-requires-policy
                     timers bgp 1 3
                     neighbor {peer} remote-as {peerAsn}
                     neighbor {peer} timers connect 1
                     neighbor {peer} advertisement-interval 0
                     neighbor {peer} bfd
                     neighbor {peer} bfd profile fast
                     address-family ipv4 unicast
                    {(originates ? "  redistribute static route-map VIP-OUT" : "")}
                     exit-address-family
                    !
                    """);
            }
            if (vip && node == r1) node.WithFrr(FrrDaemon.Staticd, $"ip route {Vip} blackhole\n");
        }
        return new TwoRouterTopology(topo, r1, r2, underlay, tunnel, Vip);
    }
}
