using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Core.Health;

/// <summary>Routing-protocol health read from FRR (OSPF and BGP come from the daemons' vty JSON in 8.4).</summary>
/// <param name="BgpSessions">One entry per BGP neighbor, numbered or unnumbered (a neighbor in several families has one state).</param>
public sealed record RoutingSnapshot(IReadOnlyList<OspfNeighbor> OspfNeighbors, IReadOnlyList<BgpPeer> BgpSessions)
{
    public static readonly RoutingSnapshot Empty = new([], []);
}

/// <summary>Everything the health model looks at for one WireGuard interface at one instant.</summary>
/// <param name="Peer">The configured peer's state; null when the interface has no peer with the expected key.</param>
/// <param name="LastRxProgress">When rx bytes were last seen growing (see <see cref="RxProgressTracker"/>).</param>
/// <param name="Bfd">The BFD session to the peer address; null when none is reported.</param>
public sealed record InterfaceObservation(
    string Interface,
    LinkOperState Link,
    WireGuardPeer? Peer,
    DateTimeOffset? LastRxProgress,
    BfdSessionState? Bfd);
