using System.Net;
using System.Runtime.CompilerServices;
using Overlay.Core.Diagnostics;
using Overlay.Core.Net;
using Overlay.Core.Config;

namespace Overlay.Core.Inventories;

// The validated inventory. Every list is sorted (nodes by name, VIPs by name, prefixes by IpPrefix
// order) so whatever is computed from it is deterministic. Locations point at the YAML that
// produced each element, for lint and explain.

public enum NodeRole
{
    Hub,
    Spoke,
    Edge,
}

public enum TopologyKind
{
    FullMesh,
    HubAndSpoke,
    /// <summary>No tunnels between nodes: the only WireGuard interfaces are anycast endpoints (<c>vips[].wireguard</c>).</summary>
    None,
}

public enum TunnelKind
{
    /// <summary>Between two nodes of a full mesh.</summary>
    Mesh,
    /// <summary>A spoke (or edge) to a hub.</summary>
    HubSpoke,
    /// <summary>Primary hub to secondary hub.</summary>
    HubHub,
    /// <summary>An explicit spoke-to-spoke shortcut.</summary>
    Shortcut,
}


/// <summary>An underlay address a peer can send to: a host name or IP literal and a UDP port.</summary>
public sealed record UnderlayEndpoint(string Host, int Port)
{
    /// <summary>host:port, with IPv6 literals in brackets, as WireGuard's Endpoint wants it.</summary>
    public override string ToString() => $"{HostText}:{Port}";

    /// <summary>The host as it precedes ":port": IPv6 literals in brackets.</summary>
    public string HostText => Host.Contains(':') ? $"[{Host}]" : Host;
}

public sealed record AnnouncedSubnet(IpPrefix Prefix, SourceLocation Location);

public sealed record BgpUpstream(IPAddress Neighbor, long RemoteAsn, SourceLocation Location);

public sealed record Node(
    string Name,
    /// <summary>Stable numeric id (1..4095): link addresses and listen ports derive from it, so adding a node renumbers nothing.</summary>
    int Id,
    /// <summary>Short alias (1..5 chars) used in interface names; "n&lt;id&gt;" unless given.</summary>
    string Short,
    string? Site,
    NodeRole Role,
    IPAddress? OverlayV4,
    IPAddress? OverlayV6,
    IReadOnlyList<AnnouncedSubnet> Subnets,
    /// <summary>Where peers can reach this node; null when it is behind NAT or only dials out.</summary>
    UnderlayEndpoint? Endpoint,
    bool BehindNat,
    WireGuardKey PublicKey,
    /// <summary>Path of the private key ON the node. Only the path is known; the key is never read.</summary>
    string KeyFile,
    /// <summary>Base listen port; the interface toward peer P listens on ListenPort + P.Id.</summary>
    int ListenPort,
    long? Asn,
    IReadOnlyList<BgpUpstream> Upstreams,
    SourceLocation Location)
{
    /// <summary>The UDP timeout of the NAT in front of the node (resolved: node, site, defaults, standard); null when it is not behind NAT.</summary>
    public NatUdpTimeout? NatUdpTimeout { get; init; }

    /// <summary>Its tunnels to the members of this VIP end on the anycast VIP (docs/inventory.md); null when none do.</summary>
    public AnycastEndpoint? AnycastEndpoint { get; init; }
}

public sealed record HubRef(string Node, int Cost, SourceLocation Location);

public sealed record Shortcut(string A, string B, int Cost, SourceLocation Location);

public sealed record Topology(
    TopologyKind Kind,
    HubRef? Primary,
    HubRef? Secondary,
    /// <summary>OSPF cost of the primary–secondary hub tunnel.</summary>
    int HubLinkCost,
    IReadOnlyList<Shortcut> Shortcuts,
    SourceLocation Location);

public sealed record Vip(string Name, IpPrefix Prefix, IReadOnlyList<string> Members, string Policy, SourceLocation Location)
{
    /// <summary>The TUN interface overlayd holds open for this VIP ("ovl-" + name, at most 15 chars).</summary>
    public string LeaseInterface => "ovl-" + Name;

    /// <summary>The anycast WireGuard endpoint the members serve on the VIP (<c>vips[].wireguard</c>); null when none.</summary>
    public AnycastWireGuard? WireGuard { get; init; }
}

public sealed record InventoryDefaults(
    int ListenPort,
    TimeSpan Keepalive,
    int OspfCost,
    TimeSpan OspfHello,
    TimeSpan OspfDead,
    TimeSpan BfdMinRx,
    TimeSpan BfdMinTx,
    int BfdMultiplier,
    /// <summary>Pool carved into one /31 per tunnel.</summary>
    IpPrefix LinkPool,
    /// <summary>Default private key path on every node.</summary>
    string KeyFile)
{
    public static readonly InventoryDefaults Standard = new(
        51820,
        TimeSpan.FromSeconds(25),
        10,
        TimeSpan.FromSeconds(1),
        TimeSpan.FromSeconds(3),
        TimeSpan.FromMilliseconds(100),
        TimeSpan.FromMilliseconds(100),
        3,
        IpPrefix.Parse("10.255.0.0/16"),
        "/etc/overlay/wg-private.key");

    /// <summary>True when the inventory wrote <c>defaults.keepalive</c>: then it is used as written for every NAT tunnel; otherwise each NAT tunnel's keepalive is derived from its NAT's UDP timeout.</summary>
    public bool KeepaliveGiven { get; init; }

    /// <summary><c>defaults.natUdpTimeout</c> when written (with its location).</summary>
    public NatUdpTimeout? NatUdpTimeout { get; init; }
    /// <summary>OSPF SPF and LSA throttling rendered into every frr.conf (defaults.ospf.throttle).</summary>
    public OspfThrottle OspfThrottle { get; init; } = OspfThrottle.Standard;

    /// <summary>Reverse-path filtering rendered for nodes with several tunnels (defaults.rpFilter).</summary>
    public RpFilterMode RpFilter { get; init; } = RpFilterMode.Loose;

    /// <summary>eBGP timers toward upstreams (defaults.bgp).</summary>
    public BgpTimers Bgp { get; init; } = BgpTimers.Standard;
}

/// <summary>
/// FRR's <c>timers bgp KEEPALIVE HOLD</c>, <c>neighbor X timers connect N</c> and <c>neighbor X advertisement-interval N</c>
/// toward every upstream. The defaults are FRR's "datacenter" profile (3 s / 9 s, connect 10 s, MRAI 0): a withdrawn VIP
/// leaves at once, and a silent upstream is noticed within 9 s instead of "traditional"'s 180 s.
/// </summary>
public sealed record BgpTimers(TimeSpan Keepalive, TimeSpan Hold, TimeSpan ConnectRetry, TimeSpan AdvertisementInterval)
{
    public static readonly BgpTimers Standard = new(
        TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(10), TimeSpan.Zero);
}

/// <summary>
/// FRR's <c>timers throttle spf DELAY HOLD MAX</c>, <c>timers throttle lsa all LSA</c> and <c>timers lsa min-arrival</c>.
/// FRR's own defaults (hold 1 s, max 10 s, LSAs throttled 5 s, min-arrival 1 s) make a failover wait for the
/// previous change's hold-down; an overlay of a few dozen routers recomputes SPF in microseconds, so it can afford
/// to react at once.
/// </summary>
public sealed record OspfThrottle(TimeSpan SpfDelay, TimeSpan SpfHold, TimeSpan SpfMaxHold, TimeSpan LsaAll, TimeSpan LsaMinArrival)
{
    public static readonly OspfThrottle Standard = new(
        TimeSpan.Zero, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>net.ipv4.conf.*.rp_filter: 0 off, 1 strict, 2 loose.</summary>
public enum RpFilterMode
{
    Off = 0,
    Strict = 1,
    Loose = 2,
}

public sealed record FrrSettings(string Pathspace, string VtyDir, string GrpcHost, int ZebraPort, int StaticdPort, int BfddPort)
{
    public static readonly FrrSettings Standard = new("", NodeConfigDefaults.FrrVtyDir, NodeConfigDefaults.FrrGrpcHost,
        NodeConfigDefaults.ZebraPort, NodeConfigDefaults.StaticdPort, NodeConfigDefaults.BfddPort);
}

public sealed record DaemonSettings(string ApiSocket, string ApiMode, string? ApiGroup, string MetricsListen, string DrainFile, TimeSpan ShutdownTimeout)
{
    public static readonly DaemonSettings Standard = new(
        NodeConfigDefaults.ApiSocket, NodeConfigYaml.ModeText(NodeConfigDefaults.ApiMode), null, NodeConfigDefaults.MetricsListen.ToString(), NodeConfigDefaults.RenderedDrainFile, NodeConfigDefaults.ShutdownTimeout);

    /// <summary>Where the inventory lies on the node (daemon.inventory), written into overlayd.yaml for explain's owners; null: not rendered.</summary>
    public string? Inventory { get; init; }
}

/// <summary>
/// One point-to-point WireGuard tunnel. A is the node with the smaller id and takes the even
/// address of <see cref="Link"/>. Tunnels are sorted by (A.Id, B.Id).
/// </summary>
public sealed record Tunnel(
    string A,
    string B,
    TunnelKind Kind,
    /// <summary>OSPF cost, the same at both ends.</summary>
    int Cost,
    IpPrefix Link,
    IPAddress AddressA,
    IPAddress AddressB,
    /// <summary>True when either end is behind NAT: both ends send PersistentKeepalive.</summary>
    bool Keepalive)
{
    public bool Involves(string node) => A == node || B == node;
    public string PeerOf(string node) => node == A ? B : node == B ? A : throw new ArgumentException($"{node} is not an end of {A}–{B}", nameof(node));
    public IPAddress AddressOf(string node) => node == A ? AddressA : node == B ? AddressB : throw new ArgumentException($"{node} is not an end of {A}–{B}", nameof(node));
}

public sealed record Inventory(
    string File,
    IReadOnlyList<Node> Nodes,
    Topology Topology,
    IReadOnlyList<Vip> Vips,
    /// <summary>The same records overlayd runs (docs/overlayd-config.md); render writes them out unchanged.</summary>
    IReadOnlyList<HealthPolicy> Policies,
    /// <summary>The permissive AllowedIPs summary on every tunnel.</summary>
    IReadOnlyList<IpPrefix> Gate,
    InventoryDefaults Defaults,
    FrrSettings Frr,
    DaemonSettings Daemon,
    IReadOnlyList<Tunnel> Tunnels)
{
    /// <summary>Where the gate list is written; <see cref="SourceLocation.None"/> for an inventory not read from a file.</summary>
    public SourceLocation GateLocation { get; init; } = SourceLocation.None;

    public Node? FindNode(string name) => Lookups.Nodes.GetValueOrDefault(name);
    public Node GetNode(string name) => FindNode(name) ?? throw new KeyNotFoundException($"no node '{name}' in the inventory");
    public HealthPolicy? FindPolicy(string name) => Policies.FirstOrDefault(p => p.Name == name);
    /// <summary>The node's tunnels, in <see cref="Tunnels"/> order.</summary>
    public IReadOnlyList<Tunnel> TunnelsOf(string node) => Lookups.Tunnels.TryGetValue(node, out var l) ? l : [];
    /// <summary>The VIPs the node is a member of, in <see cref="Vips"/> order.</summary>
    public IReadOnlyList<Vip> VipsOf(string node) => Lookups.Vips.TryGetValue(node, out var l) ? l : [];

    // Built on first use, once per instance, so render and lint stay linear on a 1000-node mesh
    // (half a million tunnels). Kept outside the record's fields: a 'with' copy gets its own index,
    // and equality stays that of the positional members.
    private static readonly ConditionalWeakTable<Inventory, InventoryIndex> Indexes = new();

    private InventoryIndex Lookups => Indexes.GetValue(this, static inv => new InventoryIndex(inv));

    private sealed class InventoryIndex
    {
        public Dictionary<string, Node> Nodes { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<Tunnel>> Tunnels { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<Vip>> Vips { get; } = new(StringComparer.Ordinal);

        public InventoryIndex(Inventory inv)
        {
            foreach (var n in inv.Nodes) Nodes.TryAdd(n.Name, n); // the first of a duplicated name, as a scan would find
            foreach (var t in inv.Tunnels)
            {
                Add(Tunnels, t.A, t);
                if (t.B != t.A) Add(Tunnels, t.B, t);
            }
            foreach (var v in inv.Vips)
                foreach (var member in v.Members.Distinct(StringComparer.Ordinal))
                    Add(Vips, member, v);
        }

        private static void Add<T>(Dictionary<string, List<T>> map, string key, T item)
        {
            if (!map.TryGetValue(key, out var list)) map[key] = list = [];
            list.Add(item);
        }
    }
}
