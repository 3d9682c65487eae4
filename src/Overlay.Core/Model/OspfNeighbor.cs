using System.Net;
using System.Text.Json.Serialization;

namespace Overlay.Core.Model;

/// <summary>
/// One OSPFv2 adjacency as ospfd reports it (<c>show ip ospf neighbor json</c>): the vty parser fills every field, the
/// health model and control API read the same record. The API carries router id, address, interface and state
/// (GET /v1/peers); the rest of ospfd's detail is <see cref="JsonIgnoreAttribute"/>, so the wire is unchanged.
/// </summary>
/// <param name="RouterId">The neighbor's router id (the JSON key).</param>
/// <param name="Address">The neighbor's interface address; <see cref="IPAddress.Any"/> when ospfd does not report it.</param>
/// <param name="Interface">Local interface name (without FRR's ":address" suffix); empty when ospfd does not report it.</param>
public sealed record OspfNeighbor(IPAddress RouterId, IPAddress Address, string Interface, OspfNeighborState State)
{
    /// <summary>ospfd's state text as given, e.g. <c>Full/DR</c>.</summary>
    [JsonIgnore] public string StateText { get; init; } = "";
    /// <summary>DR, Backup, DROther; null when not reported.</summary>
    [JsonIgnore] public string? Role { get; init; }
    [JsonIgnore] public int? Priority { get; init; }
    [JsonIgnore] public TimeSpan? Uptime { get; init; }
    /// <summary>Time until the neighbor is declared dead.</summary>
    [JsonIgnore] public TimeSpan? DeadTimerDue { get; init; }

    [JsonIgnore] public bool IsFull => State == OspfNeighborState.Full;
}
