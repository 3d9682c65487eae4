using System.Net;
using System.Text.Json.Serialization;

namespace Overlay.Core.Model;

/// <summary>
/// BFD session state (RFC 5880 §4.1, in its order): the one enum bfdd's northbound parser produces and the health model,
/// control API and metrics read. There is no "unknown": a state bfdd does not report is read as <see cref="Down"/>, since
/// a session not known to be up is down.
/// </summary>
public enum BfdSessionState { AdminDown, Down, Init, Up }

/// <summary>A BFD diagnostic code (RFC 5880 §4.1); <see cref="Unknown"/> when bfdd reports none or another text.</summary>
public enum BfdDiagnostic
{
    Unknown,
    Ok,
    ControlExpired,
    EchoFailed,
    NeighborDown,
    ForwardingReset,
    PathDown,
    ConcatenatedPathDown,
    AdministrativelyDown,
    ReverseConcatenatedPathDown,
}

/// <summary>
/// A BFD session as bfdd reports it (state data of frr-bfdd). The control API carries peer, interface and state only
/// (GET /v1/peers), so the rest of bfdd's detail is <see cref="JsonIgnoreAttribute"/>: one record, the wire unchanged.
/// </summary>
/// <param name="Interface">Null for a session not bound to an interface (bfdd's <c>*</c>).</param>
/// <param name="State">This end's state (bfdd's local-state).</param>
public sealed record BfdSession(IPAddress Peer, string? Interface, BfdSessionState State)
{
    [JsonIgnore] public string Vrf { get; init; } = "default";
    [JsonIgnore] public bool MultiHop { get; init; }
    /// <summary>The far end's state as last heard; null when bfdd reports none.</summary>
    [JsonIgnore] public BfdSessionState? RemoteState { get; init; }
    [JsonIgnore] public BfdDiagnostic LocalDiagnostic { get; init; }
    [JsonIgnore] public BfdDiagnostic RemoteDiagnostic { get; init; }
    [JsonIgnore] public uint? LocalDiscriminator { get; init; }
    [JsonIgnore] public uint? RemoteDiscriminator { get; init; }
    [JsonIgnore] public TimeSpan? NegotiatedTransmitInterval { get; init; }
    [JsonIgnore] public TimeSpan? NegotiatedReceiveInterval { get; init; }
    [JsonIgnore] public DateTimeOffset? LastUp { get; init; }
    [JsonIgnore] public DateTimeOffset? LastDown { get; init; }
    [JsonIgnore] public uint UpCount { get; init; }
    [JsonIgnore] public uint DownCount { get; init; }

    [JsonIgnore] public bool IsUp => State == BfdSessionState.Up;
}
