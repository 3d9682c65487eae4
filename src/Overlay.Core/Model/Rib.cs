using System.Net;
using System.Text.Json.Serialization;
using Overlay.Core.Net;

namespace Overlay.Core.Model;

/// <summary>
/// A nexthop of a zebra RIB entry. The control API carries gateway, interface and active (GET /v1/explain); zebra's
/// other detail is <see cref="JsonIgnoreAttribute"/>, so one record serves the northbound parser, the route explainer
/// and the fleet owners join without changing the wire.
/// </summary>
/// <param name="Active">zebra considers it usable.</param>
public sealed record RibNexthop(IPAddress? Gateway, string? Interface, bool Active)
{
    /// <summary>FRR nh-type: ifindex, ip4, ip6, ip4-ifindex, ip6-ifindex, blackhole; null when not read.</summary>
    [JsonIgnore] public string? Type { get; init; }
    /// <summary>Installed in the kernel (FIB).</summary>
    [JsonIgnore] public bool Fib { get; init; }
    [JsonIgnore] public uint? Weight { get; init; }
}

/// <summary>
/// One route entry of zebra's RIB: a prefix as learned from one protocol. The control API carries the fields of the
/// primary constructor; the rest of zebra's detail is <see cref="JsonIgnoreAttribute"/>.
/// </summary>
/// <param name="Metric">zebra's 32-bit metric, capped at <see cref="int.MaxValue"/> (as the API has always carried it).</param>
/// <param name="Selected">The best entry for the prefix.</param>
/// <param name="Installed">Installed in the kernel.</param>
public sealed record RibEntry(IpPrefix Prefix, string Protocol, int Distance, int Metric, bool Selected, bool Installed, IReadOnlyList<RibNexthop> Nexthops)
{
    /// <summary>e.g. <c>ipv4-unicast</c>.</summary>
    [JsonIgnore] public string AfiSafi { get; init; } = "";
    /// <summary>VRF name, <c>default</c> for the main table.</summary>
    [JsonIgnore] public string Vrf { get; init; } = "default";
    [JsonIgnore] public uint TableId { get; init; }
    [JsonIgnore] public int? Instance { get; init; }
    [JsonIgnore] public uint? Tag { get; init; }
    [JsonIgnore] public bool Failed { get; init; }
    [JsonIgnore] public bool Queued { get; init; }
    [JsonIgnore] public DateTimeOffset? Uptime { get; init; }

    /// <summary>A route the node holds itself (not learned from a neighbour): the node is where the prefix is.</summary>
    [JsonIgnore] public bool IsLocal => Protocol is "connected" or "static" or "kernel" or "local";
}
