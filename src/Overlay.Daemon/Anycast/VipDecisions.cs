using Microsoft.Extensions.Logging;
using Overlay.Core.Anycast;
using Overlay.Core.Config;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Anycast;

/// <summary>One configured VIP in the loop: its controller, its lease and what the writer last applied.</summary>
internal sealed class VipEntry(VipConfig config, VipController controller)
{
    public VipConfig Config = config;
    public readonly VipController Controller = controller;
    public IVipLease? Lease;
    public DateTimeOffset NextEvaluation;
    public DateTimeOffset? Since;
    public bool? LastFedHealthy;
    /// <summary>What the writer last applied successfully; null before the first apply or read.</summary>
    public bool? Applied;
    public bool LeaseFailing;

    /// <summary>Pending a decision: its interfaces' WireGuard counters are read on every pass.</summary>
    public bool Pending => Controller.State is VipState.PendingAdvertise or VipState.PendingWithdraw or VipState.Starting;

    /// <summary>The advertisement the decisions want in FRR now: never without the TUN its route points at.</summary>
    public bool Wanted => Controller.Advertise && Lease is not null;
}

/// <summary>
/// The VIP decisions: the table of configured VIPs and, per VIP, feeding its <see cref="VipController"/> with the
/// pass's health on the policy's schedule (at once when health flips or a drain changes). Every transition goes to
/// the log, the timeline and the metrics. No I/O: applying what is decided is <see cref="VipUpdater"/>'s.
/// </summary>
internal sealed class VipDecisions(TimeProvider time, ILogger logger, EventTimeline events, DaemonMetrics metrics)
{
    private readonly Dictionary<string, VipEntry> _vips = new(StringComparer.Ordinal);

    public IReadOnlyCollection<VipEntry> Entries => _vips.Values;
    public bool Contains(string vip) => _vips.ContainsKey(vip);
    public VipEntry? Find(string vip) => _vips.GetValueOrDefault(vip);

    public VipEntry Add(NodeConfig cfg, VipConfig vip)
    {
        var entry = new VipEntry(vip, new VipController(vip.Name, cfg.PolicyOf(vip), time));
        _vips[vip.Name] = entry;
        return entry;
    }

    public void Remove(VipEntry entry) => _vips.Remove(entry.Config.Name);

    /// <summary>Each VIP and whether it is pending a decision (what <see cref="ReadFreshness"/> needs).</summary>
    public IEnumerable<(VipConfig Vip, bool Pending)> Freshness() => _vips.Values.Select(e => (e.Config, e.Pending)).ToList();

    /// <summary>The VIPs whose lease is not held now.</summary>
    public IReadOnlySet<string> WithoutLease() => _vips.Values.Where(e => e.Lease is null).Select(e => e.Config.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>When the loop must run again at the latest.</summary>
    public DateTimeOffset NextEvaluation(DateTimeOffset now) => _vips.Count == 0 ? now + TimeSpan.FromSeconds(1) : _vips.Values.Min(e => e.NextEvaluation);

    /// <summary>The first decision, before any route is touched (see <see cref="VipController.Start"/>).</summary>
    public VipDecision Start(VipEntry entry, VipHealth health, bool present, bool drained)
    {
        var d = entry.Controller.Start(health.Healthy, health.Summary, present, drained);
        entry.LastFedHealthy = health.Healthy;
        Record(entry, d);
        return d;
    }

    /// <summary>Kept as the previous process left it; health is judged on the first pass, at once.</summary>
    public VipDecision Adopt(VipEntry entry, string from, bool drained)
    {
        var d = entry.Controller.Adopt(from, drained);
        Record(entry, d);
        entry.NextEvaluation = time.GetUtcNow();
        return d;
    }

    /// <summary>One pass's decision for one VIP, from the pass's evaluation and the drain state.</summary>
    public void Decide(VipEntry entry, VipHealth health, bool drained, string drainReason, DateTimeOffset now)
    {
        VipDecision? d = null;
        if (drained && entry.Controller.State != VipState.Drained) d = entry.Controller.Drain(drainReason);
        else if (!drained && entry.Controller.State == VipState.Drained) d = entry.Controller.Undrain("undrained");
        if (d is not null) Record(entry, d);

        // A change of health is acted on at once; otherwise the controller is fed on its own schedule,
        // so bursts of link events cannot count as several rise/fall evaluations.
        if (now >= entry.NextEvaluation || entry.LastFedHealthy != health.Healthy || d is not null)
        {
            var e = entry.Controller.Evaluate(health.Healthy, health.Summary);
            entry.LastFedHealthy = health.Healthy;
            Record(entry, e);
        }
    }

    private void Record(VipEntry entry, VipDecision d)
    {
        entry.NextEvaluation = d.NextEvaluation;
        foreach (var t in d.Transitions)
        {
            entry.Since = t.Time;
            Log.VipTransition(logger, t.Vip, t.From, t.To, t.Advertise, t.Reason);
            events.Append(EventSource.Vip, t.Vip, "state", t.From.ToString(), t.To.ToString(), t.Reason);
            metrics.VipTransition(t.Vip, t.To);
        }
    }
}
