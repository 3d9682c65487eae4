using Overlay.Core.Net;
using Overlay.Core.Config;

namespace Overlay.Core.Anycast;

/// <summary>
/// States of one VIP. Advertised and PendingWithdraw mean "route wanted in FRR"; all others mean "withdrawn".
/// </summary>
public enum VipState
{
    /// <summary>Before the first decision.</summary>
    Starting,
    Withdrawn,
    /// <summary>Healthy, counting up to rise (or waiting out the withdraw hold-down).</summary>
    PendingAdvertise,
    Advertised,
    /// <summary>Unhealthy, counting up to fall (or waiting out the advertise hold-down); still advertised.</summary>
    PendingWithdraw,
    /// <summary>Withdrawn by flap dampening until the penalty decays below reuseBelow.</summary>
    Suppressed,
    /// <summary>Withdrawn by the operator until undrained.</summary>
    Drained,
}

public sealed record VipTransition(DateTimeOffset Time, string Vip, VipState From, VipState To, bool Advertise, string Reason);

/// <param name="Advertise">The desired advertisement after this step.</param>
/// <param name="NextEvaluation">When the scheduler should evaluate this VIP again (fast while a change is pending).</param>
public sealed record VipDecision(VipState State, bool Advertise, DateTimeOffset NextEvaluation, double Penalty, IReadOnlyList<VipTransition> Transitions);

/// <summary>
/// The per-VIP decision: rise/fall counting, hold-downs, exponentially decaying flap dampening and drain.
/// Pure apart from reading the clock through <see cref="TimeProvider"/>; it never performs I/O, it only says
/// what the advertisement should be and when to look again.
/// </summary>
public sealed class VipController
{
    private readonly string _vip;
    private readonly TimeProvider _time;
    private HealthPolicy _policy;
    private int _healthyStreak;
    private int _unhealthyStreak;
    private DateTimeOffset _advertisementChangedAt = DateTimeOffset.MinValue;
    private double _penalty;
    private DateTimeOffset _penaltyAt;
    private bool _lastHealthy;

    public VipController(string vip, HealthPolicy policy, TimeProvider time)
    {
        _vip = vip;
        _policy = policy;
        _time = time;
        _penaltyAt = time.GetUtcNow();
    }

    public string Vip => _vip;
    public VipState State { get; private set; } = VipState.Starting;
    public bool Advertise => State is VipState.Advertised or VipState.PendingWithdraw;
    public int HealthyStreak => _healthyStreak;
    public int UnhealthyStreak => _unhealthyStreak;
    public HealthPolicy Policy => _policy;
    public double Penalty => DecayedPenalty(_time.GetUtcNow());
    public int Flaps { get; private set; }

    /// <summary>A reload may change the policy; counters and penalty carry over.</summary>
    public void UpdatePolicy(HealthPolicy policy) => _policy = policy;

    /// <summary>
    /// The first decision, made before any route is touched. A VIP that is healthy and already advertised is
    /// adopted as Advertised (a restart must not flap it); an unhealthy one is withdrawn at once (no fall
    /// counting: its route must be gone before the TUN lease re-activates it).
    /// </summary>
    public VipDecision Start(bool healthy, string reason, bool runningAdvertised, bool drained)
    {
        var now = _time.GetUtcNow();
        var transitions = new List<VipTransition>();
        _lastHealthy = healthy;
        _healthyStreak = healthy ? 1 : 0;
        _unhealthyStreak = healthy ? 0 : 1;
        if (drained) Move(VipState.Drained, now, "drained at start", transitions);
        else if (!healthy) Move(VipState.Withdrawn, now, $"unhealthy at start: {reason}", transitions);
        else if (runningAdvertised)
        {
            _healthyStreak = _policy.Rise;
            Move(VipState.Advertised, now, $"healthy and already advertised: adopted ({reason})", transitions);
        }
        else if (_policy.Rise <= 1) Move(VipState.Advertised, now, $"healthy at start: {reason}", transitions);
        else Move(VipState.PendingAdvertise, now, $"healthy 1/{_policy.Rise}: {reason}", transitions);
        // Adoption and a start without a route are not changes the hold-downs should delay.
        _advertisementChangedAt = DateTimeOffset.MinValue;
        return Decide(now, transitions);
    }

    /// <summary>
    /// The first decision for a VIP whose lease was handed over by the previous overlayd process while FRR still
    /// has its route: it starts Advertised (no withdraw, no re-commit), with empty streaks and no hold-down, so the
    /// next <see cref="Evaluate"/> (which the caller runs at once) judges health afresh: an unhealthy VIP is withdrawn
    /// after <c>fall</c> evaluations, like any advertised one. A drained node withdraws at once.
    /// </summary>
    public VipDecision Adopt(string reason, bool drained)
    {
        var now = _time.GetUtcNow();
        var transitions = new List<VipTransition>();
        _healthyStreak = 0;
        _unhealthyStreak = 0;
        _lastHealthy = true;
        if (drained) Move(VipState.Drained, now, "drained at start", transitions);
        else Move(VipState.Advertised, now, $"lease handed over, route in FRR: adopted as advertised ({reason})", transitions);
        _advertisementChangedAt = DateTimeOffset.MinValue;
        var d = Decide(now, transitions);
        // Health is re-evaluated at once, not after an interval.
        return d with { NextEvaluation = now };
    }

    public VipDecision Evaluate(bool healthy, string reason)
    {
        var now = _time.GetUtcNow();
        if (State == VipState.Starting) return Start(healthy, reason, runningAdvertised: false, drained: false);
        var transitions = new List<VipTransition>();
        bool wasHealthy = _lastHealthy;
        _lastHealthy = healthy;
        if (healthy) { _healthyStreak++; _unhealthyStreak = 0; }
        else { _unhealthyStreak++; _healthyStreak = 0; }

        switch (State)
        {
            case VipState.Drained:
                break;
            case VipState.Withdrawn:
            case VipState.PendingAdvertise:
                if (!healthy)
                {
                    if (State == VipState.PendingAdvertise) Move(VipState.Withdrawn, now, $"unhealthy before rise: {reason}", transitions);
                }
                else TryAdvertise(now, reason, transitions);
                break;
            case VipState.Advertised:
            case VipState.PendingWithdraw:
                if (healthy)
                {
                    if (State == VipState.PendingWithdraw) Move(VipState.Advertised, now, $"recovered before fall: {reason}", transitions);
                }
                else TryWithdraw(now, reason, transitions);
                break;
            case VipState.Suppressed:
                // Health flapping while suppressed keeps accruing penalty, as withdrawals do in BGP dampening.
                if (wasHealthy && !healthy) AddPenalty(now);
                if (DecayedPenalty(now) < ReuseBelow)
                {
                    Move(VipState.Withdrawn, now, $"penalty {DecayedPenalty(now):F0} decayed below reuse {ReuseBelow:F0}", transitions);
                    if (healthy) TryAdvertise(now, reason, transitions);
                }
                break;
        }
        return Decide(now, transitions);
    }

    /// <summary>Withdraws at once (hold-downs do not apply to the operator) and stays withdrawn until <see cref="Undrain"/>.</summary>
    public VipDecision Drain(string reason)
    {
        var now = _time.GetUtcNow();
        var transitions = new List<VipTransition>();
        if (State != VipState.Drained) Move(VipState.Drained, now, reason, transitions);
        return Decide(now, transitions);
    }

    /// <summary>Leaves Drained; the VIP must then rise again from zero before it is advertised.</summary>
    public VipDecision Undrain(string reason)
    {
        var now = _time.GetUtcNow();
        var transitions = new List<VipTransition>();
        if (State == VipState.Drained)
        {
            _healthyStreak = 0;
            Move(VipState.Withdrawn, now, reason, transitions);
        }
        return Decide(now, transitions);
    }

    private void TryAdvertise(DateTimeOffset now, string reason, List<VipTransition> transitions)
    {
        if (_policy.Dampening is { } d && DecayedPenalty(now) > d.SuppressAbove)
        {
            Move(VipState.Suppressed, now, $"flap penalty {DecayedPenalty(now):F0} above {d.SuppressAbove:F0}", transitions);
            return;
        }
        if (_healthyStreak < _policy.Rise)
        {
            if (State != VipState.PendingAdvertise) Move(VipState.PendingAdvertise, now, $"healthy {_healthyStreak}/{_policy.Rise}: {reason}", transitions);
            return;
        }
        var holdEnd = _advertisementChangedAt == DateTimeOffset.MinValue ? now : _advertisementChangedAt + _policy.HoldDown.Withdraw;
        if (now < holdEnd)
        {
            if (State != VipState.PendingAdvertise) Move(VipState.PendingAdvertise, now, $"healthy, withdraw hold-down until {holdEnd:HH:mm:ss.fff}", transitions);
            return;
        }
        Move(VipState.Advertised, now, $"healthy {_healthyStreak}/{_policy.Rise}: {reason}", transitions);
    }

    private void TryWithdraw(DateTimeOffset now, string reason, List<VipTransition> transitions)
    {
        var holdEnd = _advertisementChangedAt == DateTimeOffset.MinValue ? now : _advertisementChangedAt + _policy.HoldDown.Advertise;
        if (_unhealthyStreak < _policy.Fall || now < holdEnd)
        {
            if (State != VipState.PendingWithdraw)
                Move(VipState.PendingWithdraw, now, _unhealthyStreak < _policy.Fall
                    ? $"unhealthy {_unhealthyStreak}/{_policy.Fall}: {reason}"
                    : $"unhealthy, advertise hold-down until {holdEnd:HH:mm:ss.fff}: {reason}", transitions);
            return;
        }
        Flaps++;
        if (_policy.Dampening is { } d)
        {
            AddPenalty(now);
            if (_penalty > d.SuppressAbove)
            {
                Move(VipState.Suppressed, now, $"unhealthy {_unhealthyStreak}/{_policy.Fall}: {reason}; flap penalty {_penalty:F0} above {d.SuppressAbove:F0}", transitions);
                return;
            }
        }
        Move(VipState.Withdrawn, now, $"unhealthy {_unhealthyStreak}/{_policy.Fall}: {reason}", transitions);
    }

    private void Move(VipState to, DateTimeOffset now, string reason, List<VipTransition> transitions)
    {
        bool wasAdvertised = Advertise;
        var from = State;
        State = to;
        if (wasAdvertised != Advertise) _advertisementChangedAt = now;
        transitions.Add(new VipTransition(now, _vip, from, to, Advertise, reason));
    }

    private VipDecision Decide(DateTimeOffset now, List<VipTransition> transitions)
    {
        var next = now + _policy.Interval;
        switch (State)
        {
            case VipState.PendingAdvertise:
            case VipState.PendingWithdraw:
                next = now + _policy.FastInterval;
                var hold = State == VipState.PendingAdvertise ? _policy.HoldDown.Withdraw : _policy.HoldDown.Advertise;
                if (_advertisementChangedAt != DateTimeOffset.MinValue && _advertisementChangedAt + hold > now && _advertisementChangedAt + hold < next)
                    next = _advertisementChangedAt + hold;
                break;
            case VipState.Suppressed when _policy.Dampening is { } d:
                var reuseAt = _penaltyAt + d.HalfLife * Math.Log2(Math.Max(_penalty, d.ReuseBelow) / d.ReuseBelow);
                // One millisecond past the exact crossing, so the penalty is strictly below reuse when we look.
                reuseAt += TimeSpan.FromMilliseconds(1);
                if (reuseAt < next) next = reuseAt;
                break;
        }
        return new VipDecision(State, Advertise, next, DecayedPenalty(now), transitions);
    }

    private void AddPenalty(DateTimeOffset now)
    {
        if (_policy.Dampening is not { } d) return;
        _penalty = Math.Min(DecayedPenalty(now) + d.PenaltyPerFlap, d.MaxPenalty);
        _penaltyAt = now;
    }

    private double ReuseBelow => _policy.Dampening?.ReuseBelow ?? double.MaxValue;

    private double DecayedPenalty(DateTimeOffset now)
    {
        if (_penalty == 0 || _policy.Dampening is not { } d) return _penalty;
        var elapsed = (now - _penaltyAt).TotalMilliseconds;
        return elapsed <= 0 ? _penalty : _penalty * Math.Pow(2, -elapsed / d.HalfLife.TotalMilliseconds);
    }

    public override string ToString() =>
        $"{_vip}: {State} (healthy streak {_healthyStreak}, unhealthy streak {_unhealthyStreak}, penalty {Penalty:F0}, last {(_lastHealthy ? "healthy" : "unhealthy")}, interval {DurationText.Format(_policy.Interval)})";
}
