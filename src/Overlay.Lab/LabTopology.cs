using System.Net;
using Overlay.Frr.Northbound;

namespace Overlay.Lab;

/// <summary>
/// A lab declared in code: nodes (one network namespace each), veth underlay links, wireguard-go tunnels
/// and FRR daemons. Names are fixed at declaration time (they carry <see cref="RunId"/>), so FRR
/// configuration text can mention interface names before anything exists. Bring it up with
/// <see cref="RunningLab.StartAsync"/>.
/// </summary>
public sealed class LabTopology
{
    private readonly List<LabNode> _nodes = [];
    private readonly List<LabLink> _links = [];
    private readonly List<LabTunnel> _tunnels = [];
    private readonly List<LabNat> _nats = [];

    public LabTopology() : this(LabNames.NewRunId()) { }

    /// <summary>For tests of the sweeper; a run id must be unique on the machine.</summary>
    public LabTopology(string runId)
    {
        if (!LabNames.IsRunId(runId)) throw new ArgumentException($"run id '{runId}' is not 6 lowercase hex digits", nameof(runId));
        RunId = runId;
    }

    public string RunId { get; }
    public IReadOnlyList<LabNode> Nodes => _nodes;
    public IReadOnlyList<LabLink> Links => _links;
    public IReadOnlyList<LabTunnel> Tunnels => _tunnels;
    public IReadOnlyList<LabNat> Nats => _nats;

    public LabNode AddNode(string name)
    {
        LabNames.ValidateNodeName(name);
        if (_nodes.Any(n => n.Name == name)) throw new ArgumentException($"lab node '{name}' is declared twice", nameof(name));
        var node = new LabNode(this, name);
        _nodes.Add(node);
        return node;
    }

    /// <summary>A veth pair between two nodes; addresses are "10.0.0.1/30" style (address and prefix length).</summary>
    public LabLink AddLink(LabNode a, string addressA, LabNode b, string addressB)
    {
        Own(a); Own(b);
        if (a == b) throw new ArgumentException("a link needs two different nodes");
        int i = _links.Count;
        var link = new LabLink(i, a, LabInterfaceAddress.Parse(addressA), LabNames.Interface(RunId, 'v', i, 'a'),
                                  b, LabInterfaceAddress.Parse(addressB), LabNames.Interface(RunId, 'v', i, 'b'));
        _links.Add(link);
        return link;
    }

    /// <summary>
    /// A wireguard-go tunnel between the two ends of <paramref name="underlay"/>: one interface per side,
    /// endpoints at the underlay addresses.
    /// </summary>
    public LabTunnel AddTunnel(LabLink underlay, string addressA, string addressB, TunnelOptions? options = null)
    {
        if (!_links.Contains(underlay)) throw new ArgumentException("the underlay link belongs to another topology", nameof(underlay));
        int i = _tunnels.Count;
        var tunnel = new LabTunnel(i, underlay, options ?? new TunnelOptions(),
            LabInterfaceAddress.Parse(addressA), LabNames.Interface(RunId, 'w', i, 'a'),
            LabInterfaceAddress.Parse(addressB), LabNames.Interface(RunId, 'w', i, 'b'));
        _tunnels.Add(tunnel);
        return tunnel;
    }

    /// <summary>
    /// A wireguard-go tunnel between two nodes that are not on one link (e.g. a spoke behind a NAT router and a hub):
    /// the packets are routed by the nodes in between. <paramref name="endpointOfBForA"/> is where A sends to reach B;
    /// <paramref name="endpointOfAForB"/> where B sends to reach A, null when B cannot know it (A is behind a NAT; B
    /// then waits to be contacted and learns A's public address from A's packets, as WireGuard does).
    /// </summary>
    public LabTunnel AddTunnel(LabNode a, LabNode b, IPAddress endpointOfBForA, IPAddress? endpointOfAForB,
        string addressA, string addressB, TunnelOptions? options = null)
    {
        Own(a); Own(b);
        if (a == b) throw new ArgumentException("a tunnel needs two different nodes");
        options ??= new TunnelOptions();
        if (endpointOfAForB is null && options.EndpointOnB)
            options = options with { EndpointOnB = false };
        var underlay = _links.FirstOrDefault(l => l.A == a || l.B == a)
            ?? throw new ArgumentException($"node '{a.Name}' has no link yet: add its links before its routed tunnels", nameof(a));
        int i = _tunnels.Count;
        var tunnel = new LabTunnel(i, underlay, options, a, b, endpointOfBForA, endpointOfAForB,
            LabInterfaceAddress.Parse(addressA), LabNames.Interface(RunId, 'w', i, 'a'),
            LabInterfaceAddress.Parse(addressB), LabNames.Interface(RunId, 'w', i, 'b'));
        _tunnels.Add(tunnel);
        return tunnel;
    }

    /// <summary>
    /// Makes <paramref name="router"/> a NAT: traffic from <paramref name="inside"/> leaving by <paramref name="outside"/>
    /// is source-NATed (nftables masquerade) to the router's outside address, with the UDP conntrack timeouts of
    /// <paramref name="options"/>; the node at the other end of <paramref name="inside"/> gets its default route via the router.
    /// </summary>
    public LabNat AddNat(LabNode router, LabLink inside, LabLink outside, NatOptions? options = null)
    {
        Own(router);
        if (!_links.Contains(inside) || !_links.Contains(outside)) throw new ArgumentException("the NAT's links belong to another topology");
        if (inside == outside) throw new ArgumentException("a NAT needs two different links (inside and outside)");
        _ = inside.InterfaceOf(router);
        _ = outside.InterfaceOf(router);
        if (_nats.Any(n => n.Router == router)) throw new ArgumentException($"node '{router.Name}' is already a NAT", nameof(router));
        var nat = new LabNat(router, inside, outside, options ?? new NatOptions());
        _nats.Add(nat);
        return nat;
    }

    private void Own(LabNode n)
    {
        if (n.Topology != this) throw new ArgumentException($"node '{n.Name}' belongs to another topology");
    }
}

public sealed class LabNode
{
    private readonly Dictionary<FrrDaemon, string> _frr = [];

    internal LabNode(LabTopology topology, string name)
    {
        Topology = topology;
        Name = name;
        Namespace = LabNames.Namespace(topology.RunId, name);
    }

    public LabTopology Topology { get; }
    public string Name { get; }

    /// <summary>The node's network namespace, also its FRR pathspace (vtysh -N).</summary>
    public string Namespace { get; }
    public string FrrPathspace => Namespace;

    /// <summary>
    /// True (the default): the lab turns on IPv4/IPv6 forwarding in the node's namespace. False: the kernel's default
    /// (off) stays until the node's own configuration (e.g. render's sysctl drop-in) says otherwise.
    /// </summary>
    public bool LabForwarding { get; set; } = true;

    /// <summary>Requested FRR daemons with their configuration text. zebra is implied by any other daemon.</summary>
    public IReadOnlyDictionary<FrrDaemon, string> FrrDaemons => _frr;

    /// <summary>Runs an FRR daemon on this node with this configuration (one file per daemon).</summary>
    public LabNode WithFrr(FrrDaemon daemon, string config = "")
    {
        _frr[daemon] = config;
        if (daemon != FrrDaemon.Zebra) _frr.TryAdd(FrrDaemon.Zebra, "");
        return this;
    }

    public override string ToString() => Name;
}

public static class FrrDaemonInfo
{
    /// <summary>gRPC port of each daemon inside its node (FRR 8.4 serves one port per daemon).</summary>
    public static int GrpcPort(this FrrDaemon d) => d switch
    {
        FrrDaemon.Zebra => 50051,
        FrrDaemon.Staticd => 50052,
        FrrDaemon.Bfdd => 50053,
        FrrDaemon.Ospfd => 50054,
        FrrDaemon.Bgpd => 50055,
        FrrDaemon.Ospf6d => 50056,
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, "no lab gRPC port for this daemon"),
    };

    public static string BinaryPath(this FrrDaemon d) => "/usr/lib/frr/" + d.ToDaemonName();
}

/// <summary>An address on an interface with its prefix length, e.g. 10.0.0.1/30.</summary>
public readonly record struct LabInterfaceAddress(IPAddress Address, int PrefixLength)
{
    public static LabInterfaceAddress Parse(string text)
    {
        int slash = text.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var ip) || !int.TryParse(text.AsSpan(slash + 1), out int len)
            || len < 0 || len > (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            throw new FormatException($"'{text}' is not an interface address: expected ADDRESS/LENGTH such as 10.0.0.1/30");
        return new LabInterfaceAddress(ip, len);
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}

public sealed class LabLink
{
    internal LabLink(int index, LabNode a, LabInterfaceAddress addressA, string interfaceA, LabNode b, LabInterfaceAddress addressB, string interfaceB)
    {
        Index = index; A = a; AddressA = addressA; InterfaceA = interfaceA; B = b; AddressB = addressB; InterfaceB = interfaceB;
    }

    public int Index { get; }
    public LabNode A { get; }
    public LabNode B { get; }
    public LabInterfaceAddress AddressA { get; }
    public LabInterfaceAddress AddressB { get; }
    public string InterfaceA { get; }
    public string InterfaceB { get; }

    public string InterfaceOf(LabNode node) => node == A ? InterfaceA : node == B ? InterfaceB : throw NotOnLink(node);
    public IPAddress AddressOf(LabNode node) => node == A ? AddressA.Address : node == B ? AddressB.Address : throw NotOnLink(node);
    public LabNode PeerOf(LabNode node) => node == A ? B : node == B ? A : throw NotOnLink(node);

    private ArgumentException NotOnLink(LabNode n) => new($"node '{n.Name}' is not on link {Index} ({A.Name}-{B.Name})");
}

public sealed record TunnelOptions
{
    public int ListenPortA { get; init; } = 51820;
    public int ListenPortB { get; init; } = 51820;

    /// <summary>AllowedIPs on each side for its peer. The default is a permissive gate (OSPF multicast passes).</summary>
    public IReadOnlyList<string> AllowedIpsA { get; init; } = ["0.0.0.0/0"];
    public IReadOnlyList<string> AllowedIpsB { get; init; } = ["0.0.0.0/0"];

    /// <summary>Which sides know the other's endpoint; a side without one waits to be contacted.</summary>
    public bool EndpointOnA { get; init; } = true;
    public bool EndpointOnB { get; init; } = true;

    public TimeSpan? PersistentKeepalive { get; init; }
}

public sealed class LabTunnel
{
    internal LabTunnel(int index, LabLink underlay, TunnelOptions options, LabInterfaceAddress addressA, string interfaceA, LabInterfaceAddress addressB, string interfaceB)
        : this(index, underlay, options, underlay.A, underlay.B, underlay.AddressB.Address, underlay.AddressA.Address, addressA, interfaceA, addressB, interfaceB)
    {
    }

    internal LabTunnel(int index, LabLink underlay, TunnelOptions options, LabNode a, LabNode b, IPAddress endpointOfBForA, IPAddress? endpointOfAForB,
        LabInterfaceAddress addressA, string interfaceA, LabInterfaceAddress addressB, string interfaceB)
    {
        Index = index; Underlay = underlay; Options = options; A = a; B = b;
        _endpointOfB = endpointOfBForA; _endpointOfA = endpointOfAForB;
        AddressA = addressA; InterfaceA = interfaceA; AddressB = addressB; InterfaceB = interfaceB;
    }

    private readonly IPAddress _endpointOfB;
    private readonly IPAddress? _endpointOfA;

    public int Index { get; }

    /// <summary>The veth link between A and B; for a routed tunnel (<see cref="IsRouted"/>) the first link of A.</summary>
    public LabLink Underlay { get; }
    public TunnelOptions Options { get; }
    public LabNode A { get; }
    public LabNode B { get; }

    /// <summary>True when A and B are not the two ends of <see cref="Underlay"/> (routers, e.g. a NAT, lie between them).</summary>
    public bool IsRouted => !((Underlay.A == A && Underlay.B == B) || (Underlay.A == B && Underlay.B == A));

    /// <summary>The underlay address <paramref name="side"/> sends to for its peer; null when it cannot know it (the peer is behind a NAT).</summary>
    public IPAddress? EndpointAddressFor(LabNode side) => side == A ? _endpointOfB : side == B ? _endpointOfA : throw NotOnTunnel(side);
    public LabInterfaceAddress AddressA { get; }
    public LabInterfaceAddress AddressB { get; }
    public string InterfaceA { get; }
    public string InterfaceB { get; }

    /// <summary>Public keys, known once the lab is up (private keys stay in the run directory, mode 0600).</summary>
    public string? PublicKeyA { get; internal set; }
    public string? PublicKeyB { get; internal set; }

    public string InterfaceOf(LabNode node) => node == A ? InterfaceA : node == B ? InterfaceB : throw NotOnTunnel(node);
    public IPAddress AddressOf(LabNode node) => node == A ? AddressA.Address : node == B ? AddressB.Address : throw NotOnTunnel(node);
    public LabNode PeerOf(LabNode node) => node == A ? B : node == B ? A : throw NotOnTunnel(node);

    private ArgumentException NotOnTunnel(LabNode n) => new($"node '{n.Name}' is not on tunnel {Index} ({A.Name}-{B.Name})");
}
