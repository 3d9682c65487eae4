using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Anycast;
using Overlay.Core.Config;
using Overlay.Core.Events;
using Overlay.Core.Net;
using Overlay.Daemon.Config;
using Overlay.Daemon.Handoff;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// The VIP loop. Each pass: <see cref="SignalReader"/> reads the signals, <see cref="HealthEvaluation"/> judges them
/// once, <see cref="VipDecisions"/> feeds each VIP's controller, <see cref="VipUpdater"/> sends what is wanted to the
/// <see cref="ChangeWriter"/>, and <see cref="StatusPublisher"/> publishes the same evaluation. This class owns the
/// order: start-up, passes on <see cref="PassScheduler"/>'s schedule, reloads, the drain at shutdown, the hand-off.
/// It never writes to FRR or the kernel itself.
/// </summary>
public sealed class VipService : BackgroundService
{
    private readonly ConfigStore _config;
    private readonly DaemonPorts _ports;
    private readonly DrainState _drain;
    private readonly EventTimeline _events;
    private readonly TimeProvider _time;
    private readonly ILogger<VipService> _logger;
    private readonly ExitIntent _exit;
    private readonly PassScheduler _scheduler;
    private readonly SignalReader _signals;
    private readonly VipDecisions _vips;
    private readonly VipUpdater _updater;
    private readonly StatusPublisher _status;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopRequested;
    private NodeConfig? _applied;
    private long _passes, _evaluations;

    public VipService(ConfigStore config, DaemonPorts ports, ChangeWriter writer, DaemonState state, DrainState drain,
        EventTimeline events, DaemonMetrics metrics, TimeProvider time, ILogger<VipService> logger, LeaseFdStore fdStore, ExitIntent exit)
    {
        _config = config;
        _ports = ports;
        _drain = drain;
        _events = events;
        _time = time;
        _logger = logger;
        _exit = exit;
        // The parts log under this class's name, as the loop did before it was split.
        _scheduler = new PassScheduler(time);
        _signals = new SignalReader(ports, config, drain, events, time, logger, Wake);
        _vips = new VipDecisions(time, logger, events, metrics);
        _updater = new VipUpdater(writer, _signals, ports.Leases, fdStore, events, logger);
        _status = new StatusPublisher(state, events, logger);
        _config.Changed += (_, _) => Wake();
    }

    /// <summary>Completes once start-up has decided every VIP and made FRR match (systemd READY=1 waits for it).</summary>
    public Task Started => _started.Task;

    /// <summary>Passes run and health evaluations made (start-up counts as one of each): one evaluation per pass.</summary>
    internal (long Passes, long Evaluations) Counts => (Interlocked.Read(ref _passes), Interlocked.Read(ref _evaluations));

    public void Wake() => _scheduler.Wake();

    /// <summary>Wakes the loop and completes after the next full pass (including the writer's applies).</summary>
    public Task RequestEvaluationAsync(CancellationToken cancellationToken) => _scheduler.NextPassAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cfg = _config.Current;
        Log.ConfigLoaded(_logger, _config.Path);
        Log.Starting(_logger, cfg.Node, cfg.Vips.Count, cfg.Interfaces.Count);
        await StartupAsync(cfg, stoppingToken);
        _signals.Watch(stoppingToken);
        while (!_stopRequested && !_exit.HandedOver && !stoppingToken.IsCancellationRequested)
        {
            if (!await _scheduler.WaitAsync(_vips.NextEvaluation(_time.GetUtcNow()), stoppingToken)) break;
            await PassAsync(stoppingToken);
        }
        if (_exit.HandedOver) HandOver();
        else if (_stopRequested) await ShutdownAsync(stoppingToken);
    }

    /// <summary>The leases held now, for the hand-off to the next process (name, VIP prefix, TUN fd).</summary>
    public IReadOnlyList<IVipLease> HeldLeases() =>
        [.. _vips.Entries.Select(e => e.Lease).OfType<IVipLease>().Where(l => l.Handle is { IsInvalid: false, IsClosed: false })];

    /// <summary>
    /// The next process (or the service manager's fd store) holds the lease fds now: nothing is withdrawn, nothing is
    /// written; our own fds are closed with the process.
    /// </summary>
    private void HandOver()
    {
        Log.HandoffExit(_logger, _exit.HandOverReason ?? "handed over");
        _events.Append(EventSource.Daemon, "overlayd", "handed over", reason: _exit.HandOverReason);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_exit.HandedOver) Log.Stopping(_logger); // a hand-off says so itself (HandoffExit)
        _stopRequested = true;
        // Handing over is not a drain: marking every VIP drained would let a pass under way withdraw them.
        if (!_exit.HandedOver) _drain.BeginShutdown();
        Wake();
        if (ExecuteTask is { } running)
        {
            var budget = _config.Current.Drain.ShutdownTimeout + TimeSpan.FromSeconds(2);
            try { await running.WaitAsync(budget, cancellationToken); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { }
        }
        await base.StopAsync(cancellationToken);
        Log.Stopped(_logger);
    }

    private PassEvaluation Evaluate(NodeConfig cfg, SignalSnapshot signals, IReadOnlySet<string> withoutLease)
    {
        Interlocked.Increment(ref _evaluations);
        return HealthEvaluation.Evaluate(cfg, signals, withoutLease);
    }

    /// <summary>
    /// Decide health first and remove the routes of unhealthy or drained VIPs BEFORE creating any TUN lease:
    /// a configured static route re-activates as soon as a TUN of its nexthop's name appears. What is
    /// already right is adopted, so a restart does not flap a healthy VIP.
    /// </summary>
    private async Task StartupAsync(NodeConfig cfg, CancellationToken ct)
    {
        _applied = cfg;
        Interlocked.Increment(ref _passes);
        _signals.ReadDrainFile(cfg);
        var now = _time.GetUtcNow();
        foreach (var vip in cfg.Vips) _vips.Add(cfg, vip);
        var signals = await _signals.ReadAsync(cfg, _vips.Freshness(), ct);
        var running = await _signals.ReadFrrRoutesAsync(ct);
        // No lease is held yet, and none is meant to be: judged on the interfaces alone.
        var evaluation = Evaluate(cfg, signals, new HashSet<string>());

        var inherited = _ports.Leases.Inherited;
        var plan = inherited.Count == 0 ? null
            : LeaseAdoption.Plan(cfg.Vips, inherited, running?.Select(r => (r.Prefix, r.LeaseInterface)).ToList());
        if (plan is not null) Log.LeasesInherited(_logger, inherited.Count, _ports.Leases.InheritedFrom, string.Join(", ", inherited));
        foreach (var vip in cfg.Vips)
        {
            var entry = _vips.Find(vip.Name)!;
            bool drained = _drain.IsDrained(vip.Name);
            if (plan?.Vips[vip.Name] == AdoptionAction.AdoptAdvertised)
            {
                // The previous process advertised it through this very TUN: keep it as it is (no withdraw, no
                // re-commit) and judge health on the first pass, at once.
                var adopted = _vips.Adopt(entry, $"from {_ports.Leases.InheritedFrom}", drained);
                _updater.RecordRunning(entry, present: true);
                entry.Applied = true;
                if (!adopted.Advertise) await _updater.ApplyAsync(entry, false, ct); // drained: the operator's word wins
                continue;
            }
            bool present = running?.Any(r => r.Prefix == vip.Prefix) ?? false;
            var d = _vips.Start(entry, evaluation.Vips[vip.Name], present, drained);
            if (running is not null) { _updater.RecordRunning(entry, present); entry.Applied = present; }
            if (!d.Advertise && (present || running is null))
            {
                Log.StartupWithdraw(_logger, vip.Name, vip.Prefix.ToString());
                await _updater.ApplyAsync(entry, false, ct);
            }
            else if (d.Advertise && present) Log.StartupAdopt(_logger, vip.Name);
        }
        foreach (var orphan in running?.Where(r => cfg.Vips.All(v => v.Prefix != r.Prefix)) ?? [])
        {
            Log.OrphanWithdraw(_logger, orphan.Prefix.ToString(), orphan.LeaseInterface);
            await _updater.WithdrawOrphanAsync(orphan, ct);
        }
        // Their routes (if any) were withdrawn above as orphans.
        foreach (var name in plan?.Release ?? []) await _updater.ReleaseInheritedAsync(name);
        foreach (var entry in _vips.Entries) await _updater.EnsureLeaseAsync(entry, ct);
        foreach (var entry in _vips.Entries)
            if (entry.Controller.Advertise && entry.Applied != true && entry.Lease is not null) await _updater.ApplyAsync(entry, true, ct);
        await _updater.ReconcileKernelRoutesAsync(null, cfg, ct);
        _status.Publish(cfg, evaluation, _vips.Entries, now);
        _scheduler.PassCompleted();
        _started.TrySetResult();
        Log.Ready(_logger);
    }

    /// <summary>One pass: reload, read, evaluate once, decide and apply per VIP, publish.</summary>
    private async Task PassAsync(CancellationToken ct)
    {
        _scheduler.PassStarting();
        Interlocked.Increment(ref _passes);
        var cfg = _config.Current;
        if (!ReferenceEquals(cfg, _applied)) await ReloadAsync(cfg, ct);
        _signals.ReadDrainFile(cfg);
        var now = _time.GetUtcNow();
        if (_signals.KernelRoutesDue()) await _updater.ReconcileKernelRoutesAsync(null, cfg, ct);
        var signals = await _signals.ReadAsync(cfg, _vips.Freshness(), ct);
        if (_vips.Entries.Count > 0 && await _signals.ReadFrrRoutesIfDueAsync(ct) is { } frr) _updater.CheckDrift(_vips.Entries, frr);
        if (!_stopRequested)
            foreach (var entry in _vips.Entries.Where(e => e.Lease is null).ToList()) await _updater.EnsureLeaseAsync(entry, ct);
        var evaluation = Evaluate(cfg, signals, _vips.WithoutLease());
        foreach (var entry in _vips.Entries.ToList())
        {
            var name = entry.Config.Name;
            _vips.Decide(entry, evaluation.Vips[name], _drain.IsDrained(name), _drain.Reason(name), now);
            if (entry.Applied != entry.Wanted && !await _updater.ApplyAsync(entry, entry.Wanted, ct))
                entry.NextEvaluation = Min(entry.NextEvaluation, now + cfg.PolicyOf(entry.Config).FastInterval);
        }
        _status.Publish(cfg, evaluation, _vips.Entries, now);
        _scheduler.PassCompleted();
    }

    /// <summary>A reload: VIPs removed or re-keyed are withdrawn and released, new ones start afresh, kernel routes follow.</summary>
    private async Task ReloadAsync(NodeConfig cfg, CancellationToken ct)
    {
        var old = _applied!;
        _applied = cfg;
        foreach (var entry in _vips.Entries.ToList())
        {
            var next = cfg.FindVip(entry.Config.Name);
            if (next is not null && next.Prefix == entry.Config.Prefix && next.Lease == entry.Config.Lease)
            {
                entry.Config = next;
                entry.Controller.UpdatePolicy(cfg.PolicyOf(next));
                continue;
            }
            // Removed, or its prefix/lease changed: withdraw the old route and let it start afresh.
            await _updater.ApplyAsync(entry, false, ct);
            await _updater.ReleaseLeaseAsync(entry);
            _updater.Forget(entry);
            _vips.Remove(entry);
            _events.Append(EventSource.Config, entry.Config.Name, "vip removed", reason: next is null ? "no longer configured" : "prefix or lease changed");
        }
        var now = _time.GetUtcNow();
        foreach (var vip in cfg.Vips.Where(v => !_vips.Contains(v.Name)))
        {
            // As at start: make sure no route for it exists before its TUN appears, then let the next pass
            // make the first decision (the controller is still Starting).
            var entry = _vips.Add(cfg, vip);
            entry.NextEvaluation = now;
            _events.Append(EventSource.Config, vip.Name, "vip added");
            await _updater.ApplyAsync(entry, false, ct);
            await _updater.EnsureLeaseAsync(entry, ct);
        }
        await _updater.ReconcileKernelRoutesAsync(old, cfg, ct);
    }

    /// <summary>Every VIP is drained now: one pass withdraws them through the writer, then the upstream is waited for.</summary>
    private async Task ShutdownAsync(CancellationToken ct)
    {
        await PassAsync(ct);
        var cfg = _config.Current;
        var prefixes = _vips.Entries.Select(e => e.Config.Prefix).ToList();
        var sw = Stopwatch.StartNew();
        Log.DrainWaiting(_logger, DurationText.Format(cfg.Drain.ShutdownTimeout), string.Join(", ", prefixes));
        var deadline = _time.GetUtcNow() + cfg.Drain.ShutdownTimeout;
        var remaining = prefixes;
        while (remaining.Count > 0 && _time.GetUtcNow() < deadline && !ct.IsCancellationRequested)
        {
            var still = new List<IpPrefix>();
            foreach (var p in remaining)
                if (await _signals.UpstreamHasPathAsync(p, ct)) still.Add(p);
            remaining = still;
            if (remaining.Count > 0)
            {
                try { await Task.Delay(TimeSpan.FromMilliseconds(50), _time, ct); }
                catch (OperationCanceledException) { break; }
            }
        }
        if (remaining.Count == 0) Log.DrainComplete(_logger, sw.ElapsedMilliseconds);
        else Log.DrainTimeout(_logger, string.Join(", ", remaining));
        _events.Append(EventSource.Daemon, "overlayd", "drained for shutdown", reason: remaining.Count == 0 ? $"upstream clear after {sw.ElapsedMilliseconds} ms" : "timeout");
        foreach (var entry in _vips.Entries) await _updater.ReleaseLeaseAsync(entry);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
