using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Frr.Vty;

/// <summary>A BGP peer as listed in one address family of <c>show bgp summary json</c>.</summary>
/// <param name="Peer">Neighbor address, or interface name for unnumbered peers.</param>
/// <param name="State">FRR's state text: Idle, Connect, Active, OpenSent, OpenConfirm, Established, ...</param>
/// <param name="Uptime">Time in the current state (FRR's peerUptimeMsec).</param>
public sealed record BgpPeerSummary(
    string Peer,
    long? RemoteAs,
    long? LocalAs,
    string State,
    TimeSpan? Uptime,
    long PrefixesReceived,
    long? PrefixesSent,
    string? Hostname)
{
    public bool IsEstablished => State == "Established";
}

/// <summary>One address-family section of <c>show bgp summary json</c>, e.g. <c>ipv4Unicast</c>.</summary>
public sealed record BgpFamilySummary(string Family, string? RouterId, long? As, string? Vrf, IReadOnlyList<BgpPeerSummary> Peers);

public sealed record BgpSummary(IReadOnlyList<BgpFamilySummary> Families)
{
    public BgpFamilySummary? Ipv4Unicast => Families.FirstOrDefault(f => f.Family == "ipv4Unicast");

    public BgpFamilySummary? Ipv6Unicast => Families.FirstOrDefault(f => f.Family == "ipv6Unicast");

    /// <summary>Every peer over all families, once per (family, peer).</summary>
    public IEnumerable<(string Family, BgpPeerSummary Peer)> AllPeers =>
        Families.SelectMany(f => f.Peers.Select(p => (f.Family, p)));
}

/// <summary>A nexthop of a BGP path.</summary>
/// <param name="Scope">IPv6 only: global or link-local.</param>
/// <param name="Used">The nexthop used for forwarding.</param>
public sealed record BgpNexthop(IPAddress? Address, string? Afi, string? Scope, bool Accessible, bool Used, string? Hostname);

/// <summary>One path of a BGP prefix.</summary>
/// <param name="AsPath">AS path as FRR prints it ("Local" for a locally originated path).</param>
/// <param name="Origin">IGP, EGP or incomplete.</param>
/// <param name="PeerId">The peer the path was learned from ("0.0.0.0" / "::" for local).</param>
public sealed record BgpPath(
    string AsPath,
    string? Origin,
    bool Valid,
    bool Best,
    string? SelectionReason,
    long? Metric,
    long? LocalPreference,
    IReadOnlyList<BgpNexthop> Nexthops,
    string? PeerId,
    string? PeerRouterId,
    string? PeerType,
    DateTimeOffset? LastUpdate);

/// <summary>A prefix in the BGP table with all its paths.</summary>
public sealed record BgpRoute(IpPrefix Prefix, IReadOnlyList<BgpPath> Paths)
{
    public BgpPath? BestPath => Paths.FirstOrDefault(p => p.Best);
}
