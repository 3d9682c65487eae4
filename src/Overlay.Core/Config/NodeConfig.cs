using System.Net;
using Overlay.Core.Net;

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
    IReadOnlyList<OwnedRouteConfig> Routes,
    DrainConfig Drain,
    /// <summary>The rendered inventory (for "who owns this address" in explain); null when not configured.</summary>
    string? Inventory = null)
{
    /// <summary>The node forwards between its tunnels (a hub): overlayd reports it when the kernel's IPv4 forwarding is off.</summary>
    public bool Transit { get; init; }

    public WgInterfaceConfig? FindInterface(string name) => Interfaces.FirstOrDefault(i => i.Name == name);
    public VipConfig? FindVip(string name) => Vips.FirstOrDefault(v => v.Name == name);
    public HealthPolicy PolicyOf(VipConfig vip) => Policies[vip.Policy];
}

public sealed record ApiConfig(string Socket, int Mode, string? Group)
{
    public const string DefaultSocket = "/run/overlay/overlayd.sock";
    public const int DefaultMode = 0b110_110_000; // 0660
}

/// <summary>Prometheus listener; the loader accepts loopback addresses only.</summary>
public sealed record MetricsConfig(IPEndPoint Listen);

public sealed record FrrConfig(string Pathspace, string VtyDir, FrrGrpcConfig Grpc)
{
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
    IpPrefix LocalAddress,
    IPAddress PeerAddress,
    bool Bfd,
    IReadOnlyList<IpPrefix> Gate)
{
    /// <summary>Rx progress is a health signal only where keepalives make traffic flow on an idle link.</summary>
    public bool ExpectsRxProgress => Keepalive > TimeSpan.Zero;

    /// <summary>The far end is an anycast endpoint (a VIP several sites serve with one key): probe through the
    /// tunnel and reset the session when it stops answering (docs/anycast.md). Null: no watchdog.</summary>
    public SessionWatchdogConfig? Watchdog { get; init; }
}

/// <summary>
/// The session watchdog of an interface whose peer is an anycast endpoint: an ICMP echo to the interface's
/// <c>peerAddress</c> every <paramref name="Interval"/>; <paramref name="Misses"/> unanswered intervals in a row reset
/// the session; further resets wait <paramref name="Backoff"/>, doubling up to <paramref name="MaxBackoff"/>.
/// </summary>
public sealed record SessionWatchdogConfig(TimeSpan Interval, int Misses, TimeSpan Backoff, TimeSpan MaxBackoff)
{
    /// <summary>100 ms x 3: a reset ~0.3 s after the far end went silent; retries after 0.25, 0.5, 1 … 30 s.</summary>
    public static readonly SessionWatchdogConfig Standard = new(TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30));
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
    public static HealthPolicy Default(string name) => new(
        name, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), 3, 2, 1,
        TimeSpan.FromSeconds(180), TimeSpan.FromSeconds(60), BfdRequirement.Required,
        new HoldDown(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2)), null, RoutingRequirements.None);
}

/// <param name="Advertise">Minimum time a VIP stays advertised before policy may withdraw it.</param>
/// <param name="Withdraw">Minimum time a VIP stays withdrawn before it may be re-advertised.</param>
public sealed record HoldDown(TimeSpan Advertise, TimeSpan Withdraw);

/// <summary>BGP-style flap dampening: each flap adds a penalty that halves every <see cref="HalfLife"/>.</summary>
public sealed record Dampening(TimeSpan HalfLife, double PenaltyPerFlap, double SuppressAbove, double ReuseBelow, double MaxPenalty)
{
    /// <summary>The documented defaults of a dampening block (and of an inventory policy, which dampens unless told otherwise).</summary>
    public static readonly Dampening Standard = new(TimeSpan.FromSeconds(60), 1000, 2500, 800, 6000);
}

public sealed record RoutingRequirements(int OspfFullNeighbors, IReadOnlyList<IPAddress> BgpEstablished)
{
    public static readonly RoutingRequirements None = new(0, []);
    public bool Any => OspfFullNeighbors > 0 || BgpEstablished.Count > 0;
}

public sealed record VipConfig(string Name, IpPrefix Prefix, string Policy, string Lease, IReadOnlyList<string> Interfaces);

/// <summary>A kernel route overlayd owns (protocol "overlay").</summary>
public sealed record OwnedRouteConfig(IpPrefix Prefix, string Dev, int Metric);

public sealed record DrainConfig(string? File, TimeSpan ShutdownTimeout)
{
    public static readonly DrainConfig Default = new(null, TimeSpan.FromSeconds(5));
}
