using Overlay.Core.Anycast;
using Overlay.Core.Events;
using Overlay.Core.Health;

namespace Overlay.Core.Api;

// The control API's requests and answers (docs/control-api.md lists them, generated from this contract). overlayd
// serializes and overlayctl deserializes these records, both through ControlApiJson's source-generated context only.
// Domain records the answers carry as they are (ExplainResult, OverlayEvent, BfdSession, RoutingSnapshot, NodeFinding)
// stay in their own namespaces; the context names each one, so a change of their shape changes the wire and is caught
// by the contract's tests.

/// <summary>Every non-2xx answer: what was wrong, and what to do instead.</summary>
public sealed record ApiError(string Error, string Fix);

/// <summary>The optional body of POST /v1/drain and /v1/undrain: one VIP, or all VIPs when absent.</summary>
public sealed record DrainRequest(string? Vip);

/// <summary>Why VIPs are drained: the operator (all, or the VIPs listed), the drain file, or shutdown.</summary>
public sealed record DrainSnapshot(bool All, bool File, bool ShuttingDown, IReadOnlyList<string> Vips);

/// <summary>One VIP as status shows it: the decision, and desired vs running vs last apply.</summary>
public sealed record VipView(
    string Name, string Prefix, string Lease, bool LeaseHeld, VipState State, bool Healthy, string Reason,
    int HealthyStreak, int UnhealthyStreak, double Penalty, int Flaps, DateTimeOffset? Since, DateTimeOffset NextEvaluation,
    bool Drained, string Desired, string Running, ApplyResult? LastApply);

/// <summary>One WireGuard interface's peer: link, handshake, transfer, BFD and the health verdict with its reasons.</summary>
public sealed record PeerStatus(
    string Interface,
    string Peer,
    string PublicKey,
    LinkOperState Link,
    bool Healthy,
    IReadOnlyList<string> Reasons,
    DateTimeOffset? LastHandshake,
    double? HandshakeAgeSeconds,
    long RxBytes,
    long TxBytes,
    DateTimeOffset? LastRxProgress,
    BfdSessionState? Bfd,
    string? Endpoint);

public enum ApplyOperation { Advertise, Withdraw, RouteReplace, RouteDelete, PeerReset }

/// <summary>What the daemon's writer did last for one subject.</summary>
public sealed record ApplyResult(DateTimeOffset Time, ApplyOperation Operation, bool Ok, string? Error, double DurationMs);

/// <summary>
/// Desired vs running vs last apply for one subject. Running is what we last know to be in place:
/// "present"/"absent" after a successful apply or a read at start, "unknown" before either.
/// </summary>
public sealed record ApplyRecord(string Subject, string Desired, string Running, ApplyResult? LastApply);

/// <summary>GET /v1/status.</summary>
public sealed record StatusResponse(
    string Node, string? Site, int ConfigGeneration, DateTimeOffset? LastEvaluation, DrainSnapshot Drain,
    IReadOnlyList<VipView> Vips, IReadOnlyList<PeerStatus> Peers, IReadOnlyList<ApplyRecord> Routes, int Pid = 0)
{
    /// <summary>Problems of the node itself (e.g. a transit node that does not forward).</summary>
    public IReadOnlyList<NodeFinding> Findings { get; init; } = [];

    /// <summary>overlayd.yaml's transit flag.</summary>
    public bool Transit { get; init; }
}

/// <summary>GET /v1/peers.</summary>
public sealed record PeersResponse(IReadOnlyList<PeerStatus> Peers, IReadOnlyList<BfdSession> Bfd, RoutingSnapshot Routing);

/// <summary>GET /v1/vips, and the answer of POST /v1/drain and /v1/undrain (after the loop acted).</summary>
public sealed record VipsResponse(DrainSnapshot Drain, IReadOnlyList<VipView> Vips);

/// <summary>GET /v1/events: the page after ?since=, the last sequence number, and whether the ring dropped some.</summary>
public sealed record EventsResponse(long LastSeq, bool Missed, IReadOnlyList<OverlayEvent> Events);

/// <summary>POST /v1/restart: the new process's pid once it is ready, or why this one stayed.</summary>
public sealed record HandoffResult(bool Ok, int? NewPid, double ElapsedMs, string? Error);
