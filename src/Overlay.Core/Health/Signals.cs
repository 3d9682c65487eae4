using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Core.Health;

public sealed record BgpSession(IPAddress Neighbor, string State)
{
    public bool Established => string.Equals(State, "Established", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Routing-protocol health read from FRR (OSPF and BGP come from the daemons' vty JSON in 8.4).</summary>
public sealed record RoutingSnapshot(IReadOnlyList<OspfNeighbor> OspfNeighbors, IReadOnlyList<BgpSession> BgpSessions)
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
