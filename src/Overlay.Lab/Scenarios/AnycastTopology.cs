using System.Net;
using Overlay.Frr.Northbound;

namespace Overlay.Lab.Scenarios;

/// <summary>One anycast site: its node, its underlay link to the upstream and its WireGuard interfaces.</summary>
public sealed record AnycastSite(
    int Number,
    LabNode Node,
    LabLink Uplink,
    string AnycastInterface,
    string UpstreamHealthInterface,
    InterfaceAddress HealthAddress,
    InterfaceAddress UpstreamHealthAddress,
    int UpstreamHealthPort,
    int Asn)
{
    public string Name => Node.Name;

    /// <summary>The site's underlay address: the BGP nexthop the upstream installs for the VIP when it prefers this site.</summary>
    public IPAddress UnderlayAddress => Uplink.AddressOf(Node);
}

/// <summary>
/// The anycast lab as declared (names fixed, nothing running yet): upstream router U (AS 65000) with eBGP to
/// two sites over veth; both sites serve the same VIP and run a wireguard-go interface with the SAME private
/// key (the anycast endpoint); client C reaches the VIP through U, so its tunnel lands on the site U prefers
/// (U sets local-preference 200 on site 1's paths).
/// </summary>
/// <remarks>
/// Each site's anycast interface also has U as a second peer over the site's own uplink: that peer (keepalive
/// 1 s, BFD 100 ms x 3) is the health signal overlayd watches. A site that has never seen the client still has a
/// fresh handshake with U, so a standby site advertises the VIP before any client arrives.
/// </remarks>
public sealed record AnycastTopology(
    LabTopology Topology,
    LabNode Upstream,
    LabNode Client,
    LabLink ClientLink,
    AnycastSite Site1,
    AnycastSite Site2,
    string ClientInterface)
{
    public const string Vip = "203.0.113.10/32";
    public static readonly IPAddress VipAddress = IPAddress.Parse("203.0.113.10");
    public const int AnycastPort = 51820;

    /// <summary>
    /// A second exported prefix no overlayd owns: the benchmark adds and removes it over gRPC itself to measure
    /// the bare "staticd change -> upstream kernel" time every withdrawal includes (its baseline).
    /// </summary>
    public const string CalibrationPrefix = "203.0.113.99/32";
    public const int ClientPort = 51830;
    public const int UpstreamAsn = 65000;

    /// <summary>Tunnel addresses behind the anycast endpoint: every site is 10.99.0.1, the client 10.99.0.2.</summary>
    public static readonly InterfaceAddress SiteTunnelAddress = InterfaceAddress.Parse("10.99.0.1/24");
    public static readonly InterfaceAddress ClientTunnelAddress = InterfaceAddress.Parse("10.99.0.2/24");

    /// <summary>The lease TUN overlayd holds for the VIP (machine-unique: TUN names are global to the namespace only, but kept run-scoped for the sweeper).</summary>
    public string LeaseInterface(AnycastSite site) => LabNames.Interface(Topology.RunId, 'w', 70 + site.Number, 'l');

    public IReadOnlyList<AnycastSite> Sites => [Site1, Site2];

    public AnycastSite Site(int number) => number switch
    {
        1 => Site1,
        2 => Site2,
        _ => throw new ArgumentOutOfRangeException(nameof(number), number, "the anycast lab has sites 1 and 2"),
    };

    /// <summary>The site whose underlay address is the nexthop in a route line ("203.0.113.10 via 198.51.100.2 ..."), if any.</summary>
    public AnycastSite? SiteOfRoute(string routeLine) =>
        Sites.FirstOrDefault(s => routeLine.Contains($"via {s.UnderlayAddress} ", StringComparison.Ordinal));

    /// <summary>Declares the topology with a fresh run id.</summary>
    public static AnycastTopology Declare()
    {
        var topo = new LabTopology();
        string run = topo.RunId;
        var u = topo.AddNode("u");
        var c = topo.AddNode("c");
        var s1 = topo.AddNode("s1");
        var s2 = topo.AddNode("s2");
        var clientLink = topo.AddLink(c, "192.0.2.2/30", u, "192.0.2.1/30");
        var up1 = topo.AddLink(s1, "198.51.100.2/30", u, "198.51.100.1/30");
        var up2 = topo.AddLink(s2, "198.51.100.6/30", u, "198.51.100.5/30");
        var site1 = new AnycastSite(1, s1, up1, LabNames.Interface(run, 'w', 1, 's'), LabNames.Interface(run, 'w', 1, 'u'),
            InterfaceAddress.Parse("10.255.1.1/31"), InterfaceAddress.Parse("10.255.1.0/31"), 51821, 65011);
        var site2 = new AnycastSite(2, s2, up2, LabNames.Interface(run, 'w', 2, 's'), LabNames.Interface(run, 'w', 2, 'u'),
            InterfaceAddress.Parse("10.255.2.1/31"), InterfaceAddress.Parse("10.255.2.0/31"), 51822, 65012);
        var any = new AnycastTopology(topo, u, c, clientLink, site1, site2, LabNames.Interface(run, 'w', 0, 'c'));

        u.WithFrr(FrrDaemon.Zebra, "hostname u\n");
        u.WithFrr(FrrDaemon.Bfdd, "bfd\n" + string.Concat(any.Sites.Select(s => BfdPeer(s.HealthAddress.Address, s.UpstreamHealthAddress.Address, s.UpstreamHealthInterface))) + "!\n");
        u.WithFrr(FrrDaemon.Bgpd, $"""
            route-map PREFER-S1 permit 10
             set local-preference 200
            !
            router bgp {UpstreamAsn}
             bgp router-id 192.0.2.1
             no bgp ebgp-requires-policy
             timers bgp 1 3
            {string.Concat(any.Sites.Select(s => $"""
                 neighbor {s.UnderlayAddress} remote-as {s.Asn}
                 neighbor {s.UnderlayAddress} timers connect 1
                 neighbor {s.UnderlayAddress} advertisement-interval 0

                """))}
             address-family ipv4 unicast
              neighbor {site1.UnderlayAddress} route-map PREFER-S1 in
             exit-address-family
            !
            """);
        foreach (var s in any.Sites)
        {
            var upstream = s.Uplink.AddressOf(u);
            s.Node.WithFrr(FrrDaemon.Zebra, $"hostname {s.Name}\n");
            s.Node.WithFrr(FrrDaemon.Staticd, ""); // overlayd configures the VIP route over gRPC
            // State changes logged with microseconds (only a configured log file honours the precision, and bfdd
            // opens it as user frr: it lives in the pathspace's state folder): the benchmark reads when bfdd declared Down.
            s.Node.WithFrr(FrrDaemon.Bfdd, $"log file {BfdStateLog(s.Node)} debugging\nlog timestamp precision 6\ndebug bfd peer\nbfd\n"
                + BfdPeer(s.UpstreamHealthAddress.Address, s.HealthAddress.Address, s.AnycastInterface) + "!\n");
            s.Node.WithFrr(FrrDaemon.Bgpd, $"""
                ip prefix-list VIP seq 5 permit {Vip}
                ip prefix-list VIP seq 10 permit {CalibrationPrefix}
                route-map VIP-ONLY permit 10
                 match ip address prefix-list VIP
                !
                router bgp {s.Asn}
                 bgp router-id {s.UnderlayAddress}
                 no bgp ebgp-requires-policy
                 timers bgp 1 3
                 neighbor {upstream} remote-as {UpstreamAsn}
                 neighbor {upstream} timers connect 1
                 neighbor {upstream} advertisement-interval 0
                 address-family ipv4 unicast
                  redistribute static route-map VIP-ONLY
                 exit-address-family
                !
                """);
        }
        return any;
    }

    /// <summary>The site bfdd's own log file with microsecond timestamps and peer state changes ("debug bfd peer").</summary>
    public static string BfdStateLog(LabNode node) => Path.Combine(LabNames.FrrStateDirectory, node.FrrPathspace, "bfdd-states.log");

    /// <summary>The lab's BFD timers at start (100 ms x 3); the benchmark switches to faster ones at run time.</summary>
    public const int BfdIntervalMs = 100;
    public const int BfdMultiplier = 3;

    /// <summary>The bfdd "peer" command of a site's health session, as configured on the side at <paramref name="local"/>.</summary>
    public static string BfdPeerCommand(IPAddress peer, IPAddress local, string ifname) => $"peer {peer} local-address {local} interface {ifname}";

    private static string BfdPeer(IPAddress peer, IPAddress local, string ifname) => $"""
         {BfdPeerCommand(peer, local, ifname)}
          receive-interval {BfdIntervalMs}
          transmit-interval {BfdIntervalMs}
          detect-multiplier {BfdMultiplier}
         !

        """;
}
