using System.Globalization;
using System.Net;
using System.Text;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Render;
using Overlay.Frr.Northbound;
using Overlay.Linux.WireGuard;

namespace Overlay.Lab.Scenarios;

/// <summary>One spoke-hub tunnel as render names it: each end's interface and /31 address, and the veth underlay it runs over.</summary>
public sealed record HubTunnel(LabNode Spoke, LabNode Hub, LabLink Underlay, string SpokeInterface, string HubInterface,
    IPAddress SpokeAddress, IPAddress HubAddress, int Cost)
{
    public string InterfaceOf(LabNode node) => node == Spoke ? SpokeInterface : node == Hub ? HubInterface : throw NotOn(node);
    public IPAddress AddressOf(LabNode node) => node == Spoke ? SpokeAddress : node == Hub ? HubAddress : throw NotOn(node);
    public LabNode PeerOf(LabNode node) => node == Spoke ? Hub : node == Hub ? Spoke : throw NotOn(node);

    private ArgumentException NotOn(LabNode n) => new($"node '{n.Name}' is not on tunnel {Spoke.Name}-{Hub.Name}");
}

/// <summary>One spoke: its LAN, its tunnels to the primary and secondary hub.</summary>
public sealed record HubSpokeSpoke(LabNode Node, string Lan, IPAddress LanAddress, HubTunnel ToPrimary, HubTunnel ToSecondary)
{
    public IEnumerable<HubTunnel> Tunnels => [ToPrimary, ToSecondary];
}

/// <summary>
/// The hub-and-spoke lab as an inventory: hubs h1 (OSPF cost 10) and h2 (cost 100), spokes s1 and s2 with a LAN /24
/// each, topology hubAndSpoke. Every node's WireGuard, FRR and overlayd configuration is what render makes of this
/// inventory (<see cref="HubLab"/> renders and applies it); nothing about routing is written here.
/// What the lab adds beyond render is only what a real site has before Overlay is installed (see
/// <see cref="PrepareUnderlayAsync"/> and <see cref="AddLansAsync"/>): the underlay (one veth per pair of nodes that
/// have a tunnel, each end carrying its node's underlay address as a /32 with a host route to the other end, so every
/// node has ONE endpoint address as the inventory says), each spoke's LAN interface, and the private key files.
/// So s1 reaches s2's LAN via h1 (cost 20) and, when h1's tunnel breaks, via h2 (cost 200).
/// </summary>
public sealed class HubSpokeTopology
{
    public const string LanInterface = "lan0";

    /// <summary>The AllowedIPs gate of the inventory (every tunnel's AllowedIPs; overlayd's gate).</summary>
    public static readonly IReadOnlyList<string> Gate = ["10.0.0.0/8", "224.0.0.5/32", "224.0.0.6/32"];

    private readonly Dictionary<LabNode, WireGuardPrivateKey> _keys;
    private readonly Dictionary<LabNode, int> _ids;

    private HubSpokeTopology(LabTopology topology, LabNode h1, LabNode h2, HubSpokeSpoke s1, HubSpokeSpoke s2, int primaryCost, int secondaryCost,
        Dictionary<LabNode, WireGuardPrivateKey> keys, Dictionary<LabNode, int> ids, string inventoryYaml, Overlay.Core.Inventories.Inventory inventory)
    {
        Topology = topology; H1 = h1; H2 = h2; S1 = s1; S2 = s2; PrimaryCost = primaryCost; SecondaryCost = secondaryCost;
        _keys = keys; _ids = ids; Inventory = inventory; _inventoryYaml = inventoryYaml;
    }

    private readonly string _inventoryYaml;

    public LabTopology Topology { get; }
    public LabNode H1 { get; }
    public LabNode H2 { get; }
    public HubSpokeSpoke S1 { get; }
    public HubSpokeSpoke S2 { get; }
    public int PrimaryCost { get; }
    public int SecondaryCost { get; }
    public IReadOnlyList<HubSpokeSpoke> Spokes => [S1, S2];
    public IReadOnlyList<HubTunnel> Tunnels => [S1.ToPrimary, S1.ToSecondary, S2.ToPrimary, S2.ToSecondary];
    public IReadOnlyList<LabNode> Hubs => [H1, H2];

    /// <summary>The parsed inventory (what render reads).</summary>
    public Overlay.Core.Inventories.Inventory Inventory { get; }

    /// <summary>Router id and loopback of each node: the inventory's overlay v4.</summary>
    public static IPAddress Loopback(LabNode n) => IPAddress.Parse(n.Name switch
    {
        "h1" => "10.10.0.1", "h2" => "10.10.0.2", "s1" => "10.10.1.1", "s2" => "10.10.1.2",
        _ => throw new ArgumentException($"'{n.Name}' is not a hub-spoke node"),
    });

    /// <summary>The node's underlay address (its endpoint host in the inventory): 192.0.2.ID.</summary>
    public IPAddress UnderlayAddress(LabNode n) => IPAddress.Parse($"192.0.2.{_ids[n]}");

    /// <summary>Where the node's private key lies (the inventory's keyFile for the node; the lab writes it, mode 0600).</summary>
    public static string KeyFile(string runDirectory, LabNode n) => Path.Combine(runDirectory, n.Name, "wg-private.key");

    public static HubSpokeTopology Create(int primaryCost = 10, int secondaryCost = 100)
    {
        var topo = new LabTopology();
        var h1 = topo.AddNode("h1");
        var h2 = topo.AddNode("h2");
        var s1 = topo.AddNode("s1");
        var s2 = topo.AddNode("s2");
        var ids = new Dictionary<LabNode, int> { [h1] = 1, [h2] = 2, [s1] = 11, [s2] = 12 };
        foreach (var n in topo.Nodes)
        {
            // Forwarding is render's business (its sysctl drop-in), not the lab's.
            n.LabForwarding = false;
            // FRR starts empty, as on a node whose integrated frr.conf vtysh applies after the daemons are up.
            foreach (var d in new[] { FrrDaemon.Zebra, FrrDaemon.Staticd, FrrDaemon.Bfdd, FrrDaemon.Ospfd }) n.WithFrr(d, "");
        }
        LabLink Link(LabNode a, LabNode b) => topo.AddLink(a, $"192.0.2.{ids[a]}/32", b, $"192.0.2.{ids[b]}/32");
        var links = new Dictionary<(LabNode, LabNode), LabLink>
        {
            [(s1, h1)] = Link(s1, h1), [(s1, h2)] = Link(s1, h2), [(s2, h1)] = Link(s2, h1), [(s2, h2)] = Link(s2, h2),
            // The hub-hub tunnel the topology type adds.
            [(h1, h2)] = Link(h1, h2),
        };
        var keys = topo.Nodes.ToDictionary(n => n, _ => WireGuardPrivateKey.Generate());
        string runDirectory = LabNames.RunDirectory(topo.RunId);
        var lans = new Dictionary<LabNode, string> { [s1] = "10.21.1.0/24", [s2] = "10.21.2.0/24" };
        string yaml = InventoryYaml(topo, ids, keys, lans, runDirectory, primaryCost, secondaryCost);
        var parsed = InventoryParser.Parse(yaml, "hub-lab.yaml");
        var inventory = parsed.Inventory ?? throw new LabException($"the hub lab's inventory does not parse:\n{string.Join('\n', parsed.Diagnostics)}\n{yaml}");

        HubTunnel Tunnel(LabNode spoke, LabNode hub)
        {
            var t = inventory.TunnelsOf(spoke.Name).Single(t => t.PeerOf(spoke.Name) == hub.Name);
            var (sn, hn) = (inventory.GetNode(spoke.Name), inventory.GetNode(hub.Name));
            return new HubTunnel(spoke, hub, links[(spoke, hub)], Renderer.InterfaceName(sn, hn), Renderer.InterfaceName(hn, sn),
                t.AddressOf(spoke.Name), t.AddressOf(hub.Name), t.Cost);
        }
        var spoke1 = new HubSpokeSpoke(s1, lans[s1], IPAddress.Parse("10.21.1.1"), Tunnel(s1, h1), Tunnel(s1, h2));
        var spoke2 = new HubSpokeSpoke(s2, lans[s2], IPAddress.Parse("10.21.2.1"), Tunnel(s2, h1), Tunnel(s2, h2));
        return new HubSpokeTopology(topo, h1, h2, spoke1, spoke2, primaryCost, secondaryCost, keys, ids, yaml, inventory);
    }

    /// <summary>
    /// Interface names must be unique on the machine (wireguard-go's UAPI sockets share /var/run/wireguard), so each
    /// node's short name is its lab name plus three base-36 digits of the run id: "wg-s1k3f-h1k3f".
    /// </summary>
    internal static string Short(LabTopology topo, LabNode n)
    {
        int v = Convert.ToInt32(topo.RunId, 16) % (36 * 36 * 36);
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        return n.Name + Digits[v / 1296] + Digits[v / 36 % 36] + Digits[v % 36];
    }

    private static string InventoryYaml(LabTopology topo, Dictionary<LabNode, int> ids, Dictionary<LabNode, WireGuardPrivateKey> keys,
        Dictionary<LabNode, string> lans, string runDirectory, int primaryCost, int secondaryCost)
    {
        var sb = new StringBuilder();
        sb.Append("# The hub lab's inventory (src/Overlay.Lab/Scenarios/HubSpokeTopology.cs). Everything not written here is render's default.\n");
        sb.Append("gate: [").Append(string.Join(", ", Gate)).Append("]\n");
        sb.Append("nodes:\n");
        foreach (var n in topo.Nodes)
        {
            string key = WireGuardKeys.PublicKeyOf(keys[n]).ToBase64();
            bool hub = !lans.ContainsKey(n);
            sb.Append(CultureInfo.InvariantCulture,
                $"  - {{ name: {n.Name}, id: {ids[n]}, short: {Short(topo, n)}, role: {(hub ? "hub" : "spoke")}, overlay: {{ v4: {Loopback(n)} }}, " +
                $"{(hub ? "" : $"subnets: [{lans[n]}], ")}endpoint: \"192.0.2.{ids[n]}:51820\", publicKey: \"{key}\", keyFile: {KeyFile(runDirectory, n)} }}\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"""
            topology:
              type: hubAndSpoke
              primary: {'{'} node: h1, cost: {primaryCost} {'}'}
              secondary: {'{'} node: h2, cost: {secondaryCost} {'}'}

            """);
        return sb.ToString();
    }

    /// <summary>
    /// The inventory file each node is rendered from. The lab runs every node on one machine, so the only per-node
    /// differences are where things live on that shared file system: the FRR pathspace, overlayd's socket and drain
    /// file (and, when the renderer knows the key, the inventory path overlayd reads owners from). Routing, timers and
    /// keys are the same text for all.
    /// </summary>
    public string InventoryYamlFor(LabNode node, string nodeDirectory, string? inventoryPath)
    {
        var sb = new StringBuilder(_inventoryYaml);
        sb.Append(CultureInfo.InvariantCulture, $"frr: {{ pathspace: {node.FrrPathspace} }}\n");
        sb.Append(CultureInfo.InvariantCulture, $"daemon: {{ socket: {Path.Combine(nodeDirectory, "overlayd.sock")}, drainFile: {Path.Combine(nodeDirectory, "drain")}, shutdownTimeout: 2s");
        if (inventoryPath is not null) sb.Append(CultureInfo.InvariantCulture, $", inventory: {inventoryPath}");
        sb.Append(" }\n");
        return sb.ToString();
    }

    /// <summary>The inventory as an operator keeps it (no lab paths): what overlayd reads for "who owns this address".</summary>
    public string InventoryYaml() => _inventoryYaml;

    /// <summary>Writes each node's private key file (0600, before any content).</summary>
    public void WriteKeyFiles(string runDirectory)
    {
        foreach (var (n, key) in _keys)
        {
            string path = KeyFile(runDirectory, n);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "", Encoding.ASCII);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllText(path, key.RevealBase64() + "\n", Encoding.ASCII);
        }
    }

    /// <summary>
    /// The underlay a site has before Overlay: each veth end carries its node's underlay address as a /32 with the node
    /// at the other end as its peer (so a node has one address for all its peers, and a host route to each).
    /// </summary>
    public async Task PrepareUnderlayAsync(RunningLab lab, CancellationToken ct = default)
    {
        foreach (var link in Topology.Links)
            foreach (var n in new[] { link.A, link.B })
            {
                // "peer": the host route belongs to the address, so it comes back when a cut veth is set up again.
                string self = $"{UnderlayAddress(n)}/32", dev = link.InterfaceOf(n);
                (await lab.ExecAsync(n, $"ip addr del {self} dev {dev} && ip addr add {self} peer {UnderlayAddress(link.PeerOf(n))}/32 dev {dev}", ct: ct)
                    .ConfigureAwait(false)).EnsureSuccess();
            }
    }

    /// <summary>Each spoke's LAN: a veth pair inside its namespace (both ends up) carrying the LAN's first address.</summary>
    public async Task AddLansAsync(RunningLab lab, CancellationToken ct = default)
    {
        foreach (var s in Spokes)
            (await lab.ExecAsync(s.Node,
                $"ip link add {LanInterface} type veth peer name {LanInterface}p && ip addr add {s.LanAddress}/24 dev {LanInterface} " +
                $"&& ip link set {LanInterface}p up && ip link set {LanInterface} up", ct: ct)).EnsureSuccess();
    }

    /// <summary>
    /// An experiment, not a deployment: turns BFD off (or back on) for OSPF on every tunnel of every node through vtysh,
    /// to measure failover by the dead interval alone against the rendered configuration.
    /// </summary>
    public async Task SetBfdAsync(RunningLab lab, bool on, CancellationToken ct = default)
    {
        foreach (var node in Topology.Nodes)
        {
            var args = new StringBuilder("-c 'configure terminal'");
            foreach (var ifname in TunnelInterfaces(node))
                args.Append(CultureInfo.InvariantCulture, $" -c 'interface {ifname}' -c '{(on ? "" : "no ")}ip ospf bfd'")
                    .Append(on ? " -c 'ip ospf bfd profile overlay'" : "");
            (await lab.ExecAsync(node, $"vtysh -N {node.FrrPathspace} {args}", ct: ct)).EnsureSuccess();
        }
    }

    /// <summary>Every tunnel interface render gives the node (including the hub-hub tunnel).</summary>
    public IReadOnlyList<string> TunnelInterfaces(LabNode node)
    {
        var self = Inventory.GetNode(node.Name);
        return [.. Inventory.TunnelsOf(node.Name).Select(t => Renderer.InterfaceName(self, Inventory.GetNode(t.PeerOf(node.Name))))];
    }
}
