using Overlay.Core.Health;
using Overlay.Core.Anycast;

namespace Overlay.Daemon.Anycast;

public sealed record VipStatus(
    string Name,
    string Prefix,
    string Lease,
    bool LeaseHeld,
    VipState State,
    bool Healthy,
    string Reason,
    int HealthyStreak,
    int UnhealthyStreak,
    double Penalty,
    int Flaps,
    DateTimeOffset? Since,
    DateTimeOffset NextEvaluation);

/// <summary>The latest snapshot the VIP loop computed, read by the API and the metrics endpoint.</summary>
public sealed class DaemonState
{
    private volatile Snapshot _current = new([], [], RoutingSnapshot.Empty, [], null);

    public sealed record Snapshot(
        IReadOnlyList<VipStatus> Vips,
        IReadOnlyList<PeerStatus> Peers,
        RoutingSnapshot Routing,
        IReadOnlyList<BfdSession> BfdSessions,
        DateTimeOffset? LastEvaluation);

    public Snapshot Current => _current;

    public void Publish(Snapshot snapshot) => _current = snapshot;
}
