using System.Globalization;
using System.Net;
using System.Text;
using Overlay.Frr.Northbound;

namespace Overlay.Lab.Scenarios;

/// <summary>One spoke: its LAN, its tunnels to the primary and secondary hub.</summary>
public sealed record HubSpokeSpoke(LabNode Node, string Lan, IPAddress LanAddress, LabTunnel ToPrimary, LabTunnel ToSecondary)
{
    public IEnumerable<LabTunnel> Tunnels => [ToPrimary, ToSecondary];
}

/// <summary>
/// Two hubs (h1: OSPF cost 10, h2: cost 100) and two spokes (s1, s2); one wireguard-go point-to-point tunnel (own UDP port) per
/// spoke-hub pair over its own veth underlay, AllowedIPs = the permissive gate (10.0.0.0/8 + OSPF multicast).
/// OSPF point-to-point with hello 1 s / dead 3 s and BFD (bfdd, 100 ms x 3) on every tunnel; each spoke announces
/// a LAN /24 (a veth "lan0" inside its namespace, added by <see cref="AddLansAsync"/>) and a loopback /32.
/// So s1 reaches s2's LAN via h1 (cost 30) and, when h1's tunnel breaks, via h2 (cost 210).
/// </summary>
public sealed class HubSpokeTopology
{
    public const string LanInterface = "lan0";
    public const string BfdProfile = "fast";
    /// <summary>The AllowedIPs gate on every tunnel; it is also what overlayd's config says.</summary>
    public static readonly IReadOnlyList<string> Gate = ["10.0.0.0/8", "224.0.0.5/32", "224.0.0.6/32"];

    private HubSpokeTopology(LabTopology topology, LabNode h1, LabNode h2, HubSpokeSpoke s1, HubSpokeSpoke s2, int primaryCost, int secondaryCost)
    {
        Topology = topology; H1 = h1; H2 = h2; S1 = s1; S2 = s2; PrimaryCost = primaryCost; SecondaryCost = secondaryCost;
    }

    public LabTopology Topology { get; }
    public LabNode H1 { get; }
    public LabNode H2 { get; }
    public HubSpokeSpoke S1 { get; }
    public HubSpokeSpoke S2 { get; }
    public int PrimaryCost { get; }
    public int SecondaryCost { get; }
    public IReadOnlyList<HubSpokeSpoke> Spokes => [S1, S2];
    public IReadOnlyList<LabTunnel> Tunnels => [S1.ToPrimary, S1.ToSecondary, S2.ToPrimary, S2.ToSecondary];

    /// <summary>Router id and loopback of each node (also the inventory's overlay v4).</summary>
    public static IPAddress Loopback(LabNode n) => IPAddress.Parse(n.Name switch
    {
        "h1" => "10.10.0.1", "h2" => "10.10.0.2", "s1" => "10.10.1.1", "s2" => "10.10.1.2",
        _ => throw new ArgumentException($"'{n.Name}' is not a hub-spoke node"),
    });

    public static HubSpokeTopology Create(int primaryCost = 10, int secondaryCost = 100)
    {
        var topo = new LabTopology();
        var h1 = topo.AddNode("h1");
        var h2 = topo.AddNode("h2");
        var s1 = topo.AddNode("s1");
        var s2 = topo.AddNode("s2");
        int i = 0;
        LabTunnel Tunnel(LabNode spoke, LabNode hub)
        {
            // Spoke is side A: underlay 192.0.2.(4i+1)/30, tunnel 10.255.0.(2i)/31 (spoke) and .(2i+1) (hub).
            var link = topo.AddLink(spoke, $"192.0.2.{4 * i + 1}/30", hub, $"192.0.2.{4 * i + 2}/30");
            // A node has several tunnels, each its own wireguard-go: one UDP port per tunnel.
            var t = topo.AddTunnel(link, $"10.255.0.{2 * i}/31", $"10.255.0.{2 * i + 1}/31",
                new TunnelOptions { AllowedIpsA = Gate, AllowedIpsB = Gate, ListenPortA = 51820 + i, ListenPortB = 51820 + i });
            i++;
            return t;
        }
        var spoke1 = new HubSpokeSpoke(s1, "10.21.1.0/24", IPAddress.Parse("10.21.1.1"), Tunnel(s1, h1), Tunnel(s1, h2));
        var spoke2 = new HubSpokeSpoke(s2, "10.21.2.0/24", IPAddress.Parse("10.21.2.1"), Tunnel(s2, h1), Tunnel(s2, h2));
        var result = new HubSpokeTopology(topo, h1, h2, spoke1, spoke2, primaryCost, secondaryCost);
        foreach (var n in topo.Nodes) result.ConfigureFrr(n);
        return result;
    }

    public int CostOf(LabTunnel t) => t.B == H1 ? PrimaryCost : SecondaryCost;

    private void ConfigureFrr(LabNode node)
    {
        var tunnels = Tunnels.Where(t => t.A == node || t.B == node).ToList();
        var spoke = Spokes.FirstOrDefault(s => s.Node == node);
        string lo = Loopback(node).ToString();
        node.WithFrr(FrrDaemon.Zebra, $"hostname {node.Name}\ninterface lo\n ip address {lo}/32\n!\n");
        node.WithFrr(FrrDaemon.Bfdd, $"bfd\n profile {BfdProfile}\n  receive-interval 100\n  transmit-interval 100\n  detect-multiplier 3\n !\n!\n");
        var ospf = new StringBuilder();
        foreach (var t in tunnels)
        {
            ospf.Append(CultureInfo.InvariantCulture, $"""
                interface {t.InterfaceOf(node)}
                 ip ospf network point-to-point
                 ip ospf hello-interval 1
                 ip ospf dead-interval 3
                 ip ospf cost {CostOf(t)}
                 ip ospf bfd
                 ip ospf bfd profile {BfdProfile}
                 ip ospf area 0
                !

                """);
        }
        ospf.Append("interface lo\n ip ospf area 0\n!\n");
        if (spoke is not null) ospf.Append(CultureInfo.InvariantCulture, $"interface {LanInterface}\n ip ospf area 0\n!\n");
        ospf.Append(CultureInfo.InvariantCulture, $"""
            router ospf
             ospf router-id {lo}
             passive-interface lo
            {(spoke is null ? "" : " passive-interface " + LanInterface)}
             timers throttle spf 0 50 500
             timers throttle lsa all 0
             timers lsa min-arrival 0
            !

            """);
        node.WithFrr(FrrDaemon.Ospfd, ospf.ToString());
    }

    /// <summary>Each spoke's LAN: a veth pair inside its namespace (both ends up) carrying the LAN's first address.</summary>
    public async Task AddLansAsync(RunningLab lab, CancellationToken ct = default)
    {
        foreach (var s in Spokes)
            (await lab.ExecAsync(s.Node,
                $"ip link add {LanInterface} type veth peer name {LanInterface}p && ip addr add {s.LanAddress}/24 dev {LanInterface} " +
                $"&& ip link set {LanInterface}p up && ip link set {LanInterface} up", ct: ct)).EnsureSuccess();
    }

    /// <summary>Turns BFD on or off for OSPF on every tunnel of every node (off = failover by the dead interval alone).</summary>
    public async Task SetBfdAsync(RunningLab lab, bool on, CancellationToken ct = default)
    {
        foreach (var node in Topology.Nodes)
        {
            var args = new StringBuilder("-c 'configure terminal'");
            foreach (var t in Tunnels.Where(t => t.A == node || t.B == node))
                args.Append(CultureInfo.InvariantCulture, $" -c 'interface {t.InterfaceOf(node)}' -c '{(on ? "" : "no ")}ip ospf bfd'")
                    .Append(on ? $" -c 'ip ospf bfd profile {BfdProfile}'" : "");
            (await lab.ExecAsync(node, $"vtysh -N {node.FrrPathspace} {args}", ct: ct)).EnsureSuccess();
        }
    }

    /// <summary>
    /// The hub-and-spoke inventory of this lab (for overlayd's "who owns this address"): hubs and spokes with their
    /// loopbacks and LANs. Tunnel link addresses come from a pool apart from the lab's, so only the LANs and
    /// loopbacks identify owners. Needs the lab running (public keys).
    /// </summary>
    public string InventoryYaml()
    {
        var sb = new StringBuilder();
        sb.Append("defaults: { linkPool: 10.254.0.0/16 }\n");
        sb.Append("gate: [").Append(string.Join(", ", Gate)).Append("]\n");
        sb.Append("nodes:\n");
        int id = 1;
        foreach (var n in new[] { H1, H2, S1.Node, S2.Node })
        {
            var t = Tunnels.First(t => t.A == n || t.B == n);
            string key = (t.A == n ? t.PublicKeyA : t.PublicKeyB) ?? throw new InvalidOperationException("the lab is not running yet: public keys are unknown");
            var spoke = Spokes.FirstOrDefault(s => s.Node == n);
            sb.Append(CultureInfo.InvariantCulture,
                $"  - {{ name: {n.Name}, id: {id}, role: {(spoke is null ? "hub" : "spoke")}, overlay: {{ v4: {Loopback(n)} }}, " +
                $"{(spoke is null ? "" : $"subnets: [{spoke.Lan}], ")}endpoint: \"{t.Underlay.AddressOf(n)}:{t.Options.ListenPortA}\", publicKey: \"{key}\" }}\n");
            id++;
        }
        sb.Append(CultureInfo.InvariantCulture, $"""
            topology:
              type: hubAndSpoke
              primary: {'{'} node: h1, cost: {PrimaryCost} {'}'}
              secondary: {'{'} node: h2, cost: {SecondaryCost} {'}'}

            """);
        return sb.ToString();
    }

    /// <summary>overlayd.yaml for a spoke: its two tunnels (BFD read), the node's FRR pathspace, no VIPs.</summary>
    public string OverlaydYaml(HubSpokeSpoke spoke, string socketPath, string inventoryPath, string drainFile)
    {
        var node = spoke.Node;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"""
            node: {node.Name}
            api:
              socket: {socketPath}
              mode: "0660"
            metrics:
              listen: 127.0.0.1:9474
            frr:
              pathspace: {node.FrrPathspace}
              vtyDir: /var/run/frr
              grpc: {'{'} host: 127.0.0.1, zebra: {FrrDaemon.Zebra.GrpcPort()}, staticd: {FrrDaemon.Staticd.GrpcPort()}, bfdd: {FrrDaemon.Bfdd.GrpcPort()} {'}'}
            inventory: {inventoryPath}
            interfaces:

            """);
        foreach (var t in spoke.Tunnels)
        {
            var hub = t.PeerOf(node);
            sb.Append(CultureInfo.InvariantCulture, $"""
                  - name: {t.InterfaceOf(node)}
                    peer: {hub.Name}
                    peerPublicKey: "{(t.A == hub ? t.PublicKeyA : t.PublicKeyB)}"
                    listenPort: {t.Options.ListenPortA}
                    keepalive: 0s
                    localAddress: {(t.A == node ? t.AddressA : t.AddressB)}
                    peerAddress: {t.AddressOf(hub)}
                    bfd: true
                    gate: [{string.Join(", ", Gate)}]

                """);
        }
        sb.Append(CultureInfo.InvariantCulture, $"""
            vips: []
            drain:
              file: {drainFile}
              shutdownTimeout: 2s

            """);
        return sb.ToString();
    }
}
