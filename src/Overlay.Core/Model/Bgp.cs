using System.Net;
using System.Text.Json.Serialization;

namespace Overlay.Core.Model;

/// <summary>
/// One BGP peer as bgpd lists it in one address family of <c>show bgp summary json</c>: the vty parser fills it, the
/// health model, status events, metrics, control API (GET /v1/peers, <c>routing.bgpSessions</c>) and overlayctl read
/// the same record. <c>neighbor</c>, <c>state</c> and <c>established</c> are the wire's original fields; the rest were
/// added after them, so a client that knows only the first three keeps working.
/// </summary>
/// <param name="Neighbor">
/// The peer as bgpd names it (the summary's key): its address for a numbered peer, its interface name for an unnumbered
/// one (then <see cref="Interface"/> is that name too).
/// </param>
/// <param name="State">bgpd's state text: Idle, Connect, Active, OpenSent, OpenConfirm, Established, ...</param>
public sealed record BgpPeer(string Neighbor, string State)
{
    // Declared first so the wire keeps its original field order (neighbor, state, established).
    public bool Established => string.Equals(State, "Established", StringComparison.OrdinalIgnoreCase);

    /// <summary>The interface of an unnumbered peer (bgpd's <c>idType</c> "interface"); null for a numbered peer.</summary>
    public string? Interface { get; init; }

    /// <summary>The address family section the entry was read from, e.g. <c>ipv4Unicast</c>; the prefix counts are of it.</summary>
    public string Family { get; init; } = "";

    public long? RemoteAs { get; init; }
    public long? LocalAs { get; init; }
    public long PrefixesReceived { get; init; }
    public long? PrefixesSent { get; init; }

    /// <summary>The hostname the peer announced (BGP hostname capability); null when it sent none.</summary>
    public string? Hostname { get; init; }

    /// <summary>Time in the current state (bgpd's peerUptimeMsec). Not on the wire: it changes on every read.</summary>
    [JsonIgnore] public TimeSpan? Uptime { get; init; }

    /// <summary>
    /// The numbered peer's address, what a policy's <c>bgpEstablished</c> names; null for an unnumbered peer, so an
    /// interface whose name happens to parse as an address (IPAddress takes "10") never matches one.
    /// </summary>
    [JsonIgnore]
    public IPAddress? Address => Interface is null && IPAddress.TryParse(Neighbor, out var address) ? address : null;
}
