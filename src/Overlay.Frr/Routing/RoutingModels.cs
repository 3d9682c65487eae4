using System.Net;
using Overlay.Core.Net;

namespace Overlay.Frr.Routing;

public enum StaticNexthopType
{
    Blackhole,

    /// <summary>Out of an interface, no gateway (FRR nh-type <c>ifindex</c>).</summary>
    Interface,

    /// <summary>Via a gateway address, optionally bound to an interface (ip4, ip6, ip4-ifindex, ip6-ifindex).</summary>
    Gateway,
}

/// <summary>A nexthop of a static route as configured in staticd.</summary>
public sealed record StaticNexthop(StaticNexthopType Type, IPAddress? Gateway = null, string? Interface = null, string Vrf = "default")
{
    public static StaticNexthop Blackhole { get; } = new(StaticNexthopType.Blackhole);

    /// <summary>Out of <paramref name="interfaceName"/>: the route is active only while the interface exists.</summary>
    public static StaticNexthop Via(string interfaceName) => new(StaticNexthopType.Interface, Interface: interfaceName);

    public override string ToString() => Type switch
    {
        StaticNexthopType.Blackhole => "blackhole",
        StaticNexthopType.Interface => $"dev {Interface}",
        _ => Interface is null ? $"via {Gateway}" : $"via {Gateway} dev {Interface}",
    };
}

/// <summary>One (prefix, distance, nexthop) of staticd's configuration.</summary>
public sealed record StaticRoute(IpPrefix Prefix, StaticNexthop Nexthop, int Distance = 1, int TableId = 0)
{
    public override string ToString() => $"{Prefix} {Nexthop} distance {Distance}";
}

/// <summary>A single-hop BFD peer to configure in bfdd.</summary>
/// <param name="TransmitInterval">Desired minimum transmit interval (10 ms .. 60 s).</param>
/// <param name="ReceiveInterval">Required minimum receive interval (10 ms .. 60 s).</param>
public sealed record BfdPeer(
    IPAddress Peer,
    string Interface,
    TimeSpan TransmitInterval,
    TimeSpan ReceiveInterval,
    int DetectMultiplier = 3,
    string Vrf = "default")
{
    public static BfdPeer Create(IPAddress peer, string interfaceName) =>
        new(peer, interfaceName, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300));
}
