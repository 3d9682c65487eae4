using System.Net;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Core.Config;

/// <summary>overlayd.yaml: everything one node's daemon runs from (docs/overlayd-config.md).</summary>
public sealed record NodeConfig(
    string Node,
    string? Site,
    ApiConfig Api,
    MetricsConfig? Metrics,
    FrrConfig Frr,
    IReadOnlyList<WgInterfaceConfig> Interfaces,
    IReadOnlyDictionary<string, HealthPolicy> Policies,
    IReadOnlyList<VipConfig> Vips,
    IReadOnlyList<OwnedRoute> Routes,
    DrainConfig Drain,
    /// <summary>The rendered inventory (for "who owns this address" in explain); null when not configured.</summary>
    string? Inventory = null)
{
    /// <summary>The node forwards between its tunnels (a hub): overlayd reports it when the kernel's IPv4 forwarding is off.</summary>
    public bool Transit { get; init; }

    public WgInterfaceConfig? FindInterface(string name) => Interfaces.FirstOrDefault(i => i.Name == name);
    public VipConfig? FindVip(string name) => Vips.FirstOrDefault(v => v.Name == name);
    public HealthPolicy PolicyOf(VipConfig vip) => Policies[vip.Policy];

    /// <summary>Field for field, lists and policies by content: what is written and read back again is equal.</summary>
    public bool Equals(NodeConfig? other) =>
        other is not null && Node == other.Node && Site == other.Site && Api == other.Api && Metrics == other.Metrics && Frr == other.Frr &&
        Interfaces.SequenceEqual(other.Interfaces) && Policies.Count == other.Policies.Count &&
        Policies.All(p => other.Policies.TryGetValue(p.Key, out var o) && p.Value == o) &&
        Vips.SequenceEqual(other.Vips) && Routes.SequenceEqual(other.Routes) && Drain == other.Drain && Inventory == other.Inventory && Transit == other.Transit;

    public override int GetHashCode() => HashCode.Combine(Node, Interfaces.Count, Vips.Count, Policies.Count);
}

public sealed record ApiConfig(string Socket, int Mode, string? Group)
{
    public const string DefaultSocket = NodeConfigDefaults.ApiSocket;
    public const int DefaultMode = NodeConfigDefaults.ApiMode;
}

/// <summary>Prometheus listener; the loader accepts loopback addresses only.</summary>
public sealed record MetricsConfig(IPEndPoint Listen);

public sealed record FrrConfig(string Pathspace, string VtyDir, FrrGrpcConfig Grpc)
{
    public static FrrConfig Default => NodeConfigDefaults.Frr;

    /// <summary>vty sockets live in vtyDir[/pathspace]/DAEMON.vty.</summary>
    public string VtyPath(string daemon) =>
        Pathspace.Length == 0 ? Path.Combine(VtyDir, daemon + ".vty") : Path.Combine(VtyDir, Pathspace, daemon + ".vty");
}

/// <summary>FRR 8.4 serves the northbound API per daemon, one port each.</summary>
public sealed record FrrGrpcConfig(string Host, int Zebra, int Staticd, int Bfdd);

public sealed record WgInterfaceConfig(
    string Name,
    string Peer,
    WireGuardKey PeerPublicKey,
    int ListenPort,
    TimeSpan Keepalive,
    /// <summary>This end's interface address with the link's length (10.255.1.1/31).</summary>
    TunnelAddress LocalAddress,
    IPAddress PeerAddress,
    bool Bfd,
    IReadOnlyList<IpPrefix> Gate)
{
    /// <summary>Rx progress is a health signal only where keepalives make traffic flow on an idle link.</summary>
    public bool ExpectsRxProgress => Keepalive > TimeSpan.Zero;

    /// <summary>The far end is an anycast endpoint (a VIP several sites serve with one key): probe through the
    /// tunnel and reset the session when it stops answering (docs/anycast.md). Null: no watchdog.</summary>
    public SessionWatchdogConfig? Watchdog { get; init; }

    public bool Equals(WgInterfaceConfig? other) =>
        other is not null && Name == other.Name && Peer == other.Peer && PeerPublicKey == other.PeerPublicKey && ListenPort == other.ListenPort &&
        Keepalive == other.Keepalive && LocalAddress == other.LocalAddress && PeerAddress.Equals(other.PeerAddress) && Bfd == other.Bfd &&
        Gate.SequenceEqual(other.Gate) && Watchdog == other.Watchdog;

    public override int GetHashCode() => HashCode.Combine(Name, Peer, ListenPort, LocalAddress);
}

/// <summary>
/// The session watchdog of an interface whose peer is an anycast endpoint: an ICMP echo to the interface's
/// <c>peerAddress</c> every <paramref name="Interval"/>; <paramref name="Misses"/> unanswered intervals in a row reset
/// the session; further resets wait <paramref name="Backoff"/>, doubling up to <paramref name="MaxBackoff"/>.
/// </summary>
public sealed record SessionWatchdogConfig(TimeSpan Interval, int Misses, TimeSpan Backoff, TimeSpan MaxBackoff)
{
    /// <summary>100 ms x 3: a reset ~0.3 s after the far end went silent; retries after 0.25, 0.5, 1 … 30 s.</summary>
    public static SessionWatchdogConfig Standard => NodeConfigDefaults.Watchdog;
}

public enum BfdRequirement { Required, Ignored }

public sealed record HealthPolicy(
    string Name,
    TimeSpan Interval,
    TimeSpan FastInterval,
    int Rise,
    int Fall,
    int MinHealthyInterfaces,
    TimeSpan HandshakeMaxAge,
    TimeSpan RxStallAfter,
    BfdRequirement Bfd,
    HoldDown HoldDown,
    Dampening? Dampening,
    RoutingRequirements Require)
{
    /// <summary>overlayd's policy where overlayd.yaml leaves a setting out (<see cref="NodeConfigDefaults.Policy"/>).</summary>
    public static HealthPolicy Default(string name) => NodeConfigDefaults.Policy(name);
}

/// <param name="Advertise">Minimum time a VIP stays advertised before policy may withdraw it.</param>
/// <param name="Withdraw">Minimum time a VIP stays withdrawn before it may be re-advertised.</param>
public sealed record HoldDown(TimeSpan Advertise, TimeSpan Withdraw);

/// <summary>BGP-style flap dampening: each flap adds a penalty that halves every <see cref="HalfLife"/>.</summary>
public sealed record Dampening(TimeSpan HalfLife, double PenaltyPerFlap, double SuppressAbove, double ReuseBelow, double MaxPenalty)
{
    /// <summary>The documented defaults of a dampening block (and of an inventory policy, which dampens unless told otherwise).</summary>
    public static Dampening Standard => NodeConfigDefaults.Dampening;
}

public sealed record RoutingRequirements(int OspfFullNeighbors, IReadOnlyList<IPAddress> BgpEstablished)
{
    public static readonly RoutingRequirements None = new(0, []);
    public bool Any => OspfFullNeighbors > 0 || BgpEstablished.Count > 0;

    public bool Equals(RoutingRequirements? other) =>
        other is not null && OspfFullNeighbors == other.OspfFullNeighbors && BgpEstablished.SequenceEqual(other.BgpEstablished);

    public override int GetHashCode() => HashCode.Combine(OspfFullNeighbors, BgpEstablished.Count);
}

public sealed record VipConfig(string Name, IpPrefix Prefix, string Policy, string Lease, IReadOnlyList<string> Interfaces)
{
    public bool Equals(VipConfig? other) =>
        other is not null && Name == other.Name && Prefix == other.Prefix && Policy == other.Policy && Lease == other.Lease &&
        Interfaces.SequenceEqual(other.Interfaces, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Name, Prefix, Policy, Lease);
}

public sealed record DrainConfig(string? File, TimeSpan ShutdownTimeout)
{
    public static DrainConfig Default => NodeConfigDefaults.Drain;
}
