using System.Globalization;
using System.Net;
using System.Text;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Linux.WireGuard;

namespace Overlay.Lab.Scenarios;

/// <summary>One anycast site: its node, its underlay link to the upstream and its WireGuard interfaces.</summary>
public sealed record AnycastSite(
    int Number,
    LabNode Node,
    LabLink Uplink,
    string AnycastInterface,
    string UpstreamHealthInterface,
    LabInterfaceAddress HealthAddress,
    LabInterfaceAddress UpstreamHealthAddress,
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
/// <para>
/// The sites and the client are overlay nodes of an inventory (<see cref="InventoryYaml"/>, the design of
/// examples/anycast-wireguard.yaml: topology none, VIP web with a <c>wireguard</c> block, the client's
/// <c>anycastEndpoint</c>); <see cref="AnycastLab"/> renders every one of them and applies render's files (WireGuard,
/// frr.conf, overlayd.yaml). Nothing about their WireGuard, routing or overlayd is written here.
/// </para>
/// <para>
/// What the lab adds beyond render is what a site has before Overlay: the underlay (veths, addresses, default routes
/// to U), the key files, the nft rules of examples/nftables/anycast-wireguard-site.nft, and U itself: U is the
/// provider's router, not an overlay node, so its bgpd, bfdd and health WireGuard interfaces are written here from the
/// same values the inventory gives the sites (their upstreams, ASNs, endpoints and health peers). For measurement only,
/// the sites' bfdd starts with a microsecond state log, and their VIP prefix-list gets one calibration prefix.
/// </para>
/// <para>
/// Each site's anycast interface also has U as a second peer over the site's own uplink: that peer (keepalive
/// 1 s, BFD 100 ms x 3) is the health signal overlayd watches. A site that has never seen the client still has a
/// fresh handshake with U, so a standby site advertises the VIP before any client arrives.
/// </para>
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
    /// the bare "staticd change -> upstream kernel" time every withdrawal includes (its baseline). Render's prefix-list
    /// holds only the VIP; the lab adds this one line to it on the sites (measurement, not deployment).
    /// </summary>
    public const string CalibrationPrefix = "203.0.113.99/32";
    public const int ClientPort = 51830;
    public const int UpstreamAsn = 65000;

    /// <summary>Tunnel addresses behind the anycast endpoint: every site is 10.99.0.1, the client 10.99.0.2.</summary>
    public static readonly LabInterfaceAddress SiteTunnelAddress = LabInterfaceAddress.Parse("10.99.0.1/24");
    public static readonly LabInterfaceAddress ClientTunnelAddress = LabInterfaceAddress.Parse("10.99.0.2/24");

    /// <summary>The VIP's name in the inventory (its lease TUN ovl-web lives in each site's namespace).</summary>
    public string VipName => "web";

    /// <summary>The lease TUN overlayd holds for the VIP: render's ovl-NAME.</summary>
    public string LeaseInterface(AnycastSite site) => "ovl-" + VipName;

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
        // Render names the anycast interface wg-SHORT-pPORT; shorts carry the run id, so names are machine-unique.
        string Anycast(LabNode n) => $"wg-{HubSpokeTopology.Short(topo, n)}-p{AnycastPort}";
        var site1 = new AnycastSite(1, s1, up1, Anycast(s1), LabNames.Interface(run, 'w', 1, 'u'),
            LabInterfaceAddress.Parse("10.255.1.1/31"), LabInterfaceAddress.Parse("10.255.1.0/31"), 51821, 65011);
        var site2 = new AnycastSite(2, s2, up2, Anycast(s2), LabNames.Interface(run, 'w', 2, 'u'),
            LabInterfaceAddress.Parse("10.255.2.1/31"), LabInterfaceAddress.Parse("10.255.2.0/31"), 51822, 65012);
        var any = new AnycastTopology(topo, u, c, clientLink, site1, site2, Anycast(c));

        // U: the provider's router, written here (not an overlay node).
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
        // Overlay nodes: FRR starts empty (render's frr.conf is applied with vtysh), except for the sites' bfdd state
        // log with microsecond timestamps, which the benchmark reads (only a configured log file honours the precision,
        // and bfdd opens it as user frr: it lives in the pathspace's state folder).
        foreach (var s in any.Sites)
        {
            foreach (var d in new[] { FrrDaemon.Zebra, FrrDaemon.Staticd, FrrDaemon.Ospfd, FrrDaemon.Bgpd }) s.Node.WithFrr(d, "");
            s.Node.WithFrr(FrrDaemon.Bfdd, $"log file {BfdStateLog(s.Node)} debugging\nlog timestamp precision 6\ndebug bfd peer\n");
        }
        foreach (var d in new[] { FrrDaemon.Zebra, FrrDaemon.Staticd, FrrDaemon.Bfdd, FrrDaemon.Ospfd }) c.WithFrr(d, "");
        return any;
    }

    // ---------------------------------------------------------------- the inventory

    private readonly Dictionary<string, WireGuardPrivateKey> _keys = new[] { "anycast", "c", "s1", "s2", "u1", "u2" }
        .ToDictionary(k => k, _ => WireGuardPrivateKey.Generate(), StringComparer.Ordinal);

    /// <summary>The public key of one of the lab's key pairs: "anycast" (the VIP's, shared by the sites), "c", "s1", "s2" (nodes), "u1", "u2" (U's health interfaces).</summary>
    public string PublicKey(string name) => WireGuardKeys.PublicKeyOf(_keys[name]).ToBase64();

    /// <summary>Where a key pair's private half lies: the inventory's keyFile (nodes, the VIP) or U's own (lab).</summary>
    public string KeyFile(string name) => Path.Combine(LabNames.RunDirectory(Topology.RunId), "keys", name + ".key");

    /// <summary>Writes every private key file (0600, before any content): what an operator puts on the machines.</summary>
    public void WriteKeyFiles()
    {
        foreach (var (name, key) in _keys)
        {
            string path = KeyFile(name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "", Encoding.ASCII);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllText(path, key.RevealBase64() + "\n", Encoding.ASCII);
        }
    }

    /// <summary>
    /// The lab's inventory: sites s1/s2 and client c, topology none, VIP web served on an anycast WireGuard endpoint with
    /// U as each site's health peer; the policy and timers the lab measures with. Everything not written is render's default.
    /// </summary>
    public string InventoryYaml(bool clientWatchdog = true)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("# The anycast lab's inventory (src/Overlay.Lab/Scenarios/AnycastTopology.cs); the design of examples/anycast-wireguard.yaml.\n");
        sb.Append(inv, $"""
            defaults:
              bfd: {'{'} minRx: {BfdIntervalMs}ms, minTx: {BfdIntervalMs}ms, multiplier: {BfdMultiplier} {'}'}
              bgp: {'{'} keepalive: 1s, hold: 3s, connectRetry: 1s, advertisementInterval: 0s {'}'}
            gate: [10.0.0.0/8]
            policies:
              anycast:
                interval: 100ms
                fastInterval: 50ms
                rise: 3
                fall: 1
                minHealthyInterfaces: 1
                handshakeMaxAge: 180s
                rxStallAfter: 3s
                bfd: required
                holdDown: {'{'} advertise: 0s, withdraw: 0s {'}'}
                dampening: false
            nodes:

            """);
        foreach (var s in Sites)
            sb.Append(inv, $"  - {{ name: {s.Name}, id: {s.Number}, short: {HubSpokeTopology.Short(Topology, s.Node)}, role: edge, overlay: {{ v4: 10.10.0.{s.Number} }}, " +
                $"endpoint: \"{s.UnderlayAddress}:{AnycastPort}\", publicKey: \"{PublicKey(s.Name)}\", keyFile: {KeyFile(s.Name)}, " +
                $"asn: {s.Asn}, upstreams: [{{ neighbor: {s.Uplink.AddressOf(Upstream)}, remoteAsn: {UpstreamAsn} }}] }}\n");
        sb.Append(inv, $"  - {{ name: {Client.Name}, id: 3, short: {HubSpokeTopology.Short(Topology, Client)}, overlay: {{ v4: 10.10.0.3 }}, publicKey: \"{PublicKey("c")}\", " +
            $"keyFile: {KeyFile("c")}, listenPort: {ClientPort}, anycastEndpoint: {{ vip: {VipName}, address: {ClientTunnelAddress}, watchdog: {(clientWatchdog ? "true" : "false")} }} }}\n");
        sb.Append(inv, $"""
            topology: {'{'} type: none {'}'}
            vips:
              - name: {VipName}
                prefix: {Vip}
                members: [{Site1.Name}, {Site2.Name}]
                policy: anycast
                wireguard:
                  port: {AnycastPort}
                  publicKey: "{PublicKey("anycast")}"
                  keyFile: {KeyFile("anycast")}
                  address: {SiteTunnelAddress}
                  health:

            """);
        foreach (var s in Sites)
            sb.Append(inv, $"        - {{ member: {s.Name}, name: u, publicKey: \"{PublicKey("u" + s.Number)}\", endpoint: \"{s.Uplink.AddressOf(Upstream)}:{s.UpstreamHealthPort}\", " +
                $"address: {s.HealthAddress}, peerAddress: {s.UpstreamHealthAddress.Address}, keepalive: 1s }}\n");
        return sb.ToString();
    }

    /// <summary>
    /// The inventory file a node is rendered from: <see cref="InventoryYaml"/> plus where things live on the lab's one
    /// shared file system (FRR pathspace, overlayd's socket and drain file). Routing, timers and keys are the same for all.
    /// </summary>
    public string InventoryYamlFor(LabNode node, string nodeDirectory, bool clientWatchdog = true) =>
        InventoryYaml(clientWatchdog)
        + $"frr: {{ pathspace: {node.FrrPathspace} }}\n"
        + $"daemon: {{ socket: {Path.Combine(nodeDirectory, "overlayd.sock")}, drainFile: {Path.Combine(nodeDirectory, "drain")}, shutdownTimeout: 2s }}\n";

    /// <summary>The nodes render configures (U is not one).</summary>
    public IReadOnlyList<LabNode> OverlayNodes => [Site1.Node, Site2.Node, Client];

    // ---------------------------------------------------------------- BFD

    /// <summary>The site bfdd's own log file with microsecond timestamps and peer state changes ("debug bfd peer").</summary>
    public static string BfdStateLog(LabNode node) => Path.Combine(LabNames.FrrStateDirectory, node.FrrPathspace, "bfdd-states.log");

    /// <summary>The lab's BFD timers at start (100 ms x 3: the inventory's defaults.bfd); the benchmark switches to faster ones at run time.</summary>
    public const int BfdIntervalMs = 100;
    public const int BfdMultiplier = 3;

    /// <summary>The bfdd "peer" command of a site's health session, as configured on the side at <paramref name="local"/> (render writes the same on the sites).</summary>
    public static string BfdPeerCommand(IPAddress peer, IPAddress local, string ifname) => $"peer {peer} local-address {local} interface {ifname}";

    private static string BfdPeer(IPAddress peer, IPAddress local, string ifname) => $"""
         {BfdPeerCommand(peer, local, ifname)}
          receive-interval {BfdIntervalMs}
          transmit-interval {BfdIntervalMs}
          detect-multiplier {BfdMultiplier}
         !

        """;
}
