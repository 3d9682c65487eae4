using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Frr.Vty;

/// <summary>
/// One address-family section of <c>show bgp summary json</c>, e.g. <c>ipv4Unicast</c>. Its peers are the shared
/// <see cref="BgpPeer"/> model, each knowing its family.
/// </summary>
public sealed record BgpFamilySummary(string Family, string? RouterId, long? As, string? Vrf, IReadOnlyList<BgpPeer> Peers);

public sealed record BgpSummary(IReadOnlyList<BgpFamilySummary> Families)
{
    public BgpFamilySummary? Ipv4Unicast => Families.FirstOrDefault(f => f.Family == "ipv4Unicast");

    public BgpFamilySummary? Ipv6Unicast => Families.FirstOrDefault(f => f.Family == "ipv6Unicast");

    /// <summary>Every peer over all families, once per (family, peer).</summary>
    public IEnumerable<BgpPeer> AllPeers => Families.SelectMany(f => f.Peers);
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
