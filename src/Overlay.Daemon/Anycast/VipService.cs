using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Core.Config;
using Overlay.Core.Anycast;
using Overlay.Core.Model;
using Overlay.Daemon.Config;
using Overlay.Daemon.Handoff;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// The VIP loop: gathers signals through the ports, evaluates health, feeds each VIP's controller on its
/// policy interval (fast while a change is pending, at once when health flips or a drain changes), and
/// sends the desired advertisement to the <see cref="ChangeWriter"/>. It never writes to FRR or the kernel itself.
/// </summary>
public sealed class VipService : BackgroundService
{
    private readonly ConfigStore _config;
    private readonly DaemonPorts _ports;
    private readonly ChangeWriter _writer;
    private readonly DaemonState _state;
    private readonly DrainState _drain;
    private readonly EventTimeline _events;
    private readonly DaemonMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<VipService> _logger;
    private readonly LeaseFdStore _fdStore;
    private readonly ExitIntent _exit;
    /// <summary>Reads retried every pass: one line per cause and recovery, repeats counted (issue #13: FRR down flooded the log).</summary>
    private readonly FailureLog _failures;
    private readonly Dictionary<string, Entry> _vips = new(StringComparer.Ordinal);
    private readonly RxProgressTracker _rx = new();
    private readonly Dictionary<string, bool> _interfaceHealth = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _protocolStates = new(StringComparer.Ordinal);
    /// <summary>The peer endpoint last seen per interface, to put roaming (NAT rebinding) on the timeline.</summary>
    private readonly Dictionary<string, string?> _endpoints = new(StringComparer.Ordinal);
    private readonly Lock _tickLock = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _tickDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _tickRunning;
    private volatile bool _stopRequested;
    private NodeConfig? _applied;
    private RoutingSnapshot? _routing;
    private volatile bool _routesDirty;
    private DateTimeOffset _routesReconciledAt;
    private static readonly TimeSpan RouteReconcileInterval = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How often FRR's VIP routes are compared with what was applied. A restarted staticd comes back with only
    /// its own file's configuration; one small CONFIG Get a second re-applies within the 2 s target.
    /// </summary>
    private static readonly TimeSpan FrrVerifyInterval = TimeSpan.FromSeconds(1);
    private DateTimeOffset _frrVerifiedAt;
    private DateTimeOffset _routingAt;
    private static readonly TimeSpan RoutingPollInterval = TimeSpan.FromSeconds(5);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>The last WireGuard read of each interface (see <see cref="WireGuardReadAges"/>).</summary>
    private readonly Dictionary<string, (DateTimeOffset At, WireGuardPeerState? Peer)> _wgReads = new(StringComparer.Ordinal);
    /// <summary>Interfaces with a link event since their last WireGuard read: read again on the next pass.</summary>
    private readonly ConcurrentDictionary<string, bool> _wgStale = new(StringComparer.Ordinal);
    /// <summary>The longest a WireGuard read is reused: status and metrics show counters at most this old.</summary>
    private static readonly TimeSpan WireGuardReadMaxAge = TimeSpan.FromSeconds(5);

    private sealed class Entry(VipConfig config, VipController controller)
    {
        public VipConfig Config = config;
        public readonly VipController Controller = controller;
        public IVipLease? Lease;
        public DateTimeOffset NextEvaluation;
        public DateTimeOffset? Since;
        public bool? LastFedHealthy;
        public VipHealth? Health;
        /// <summary>What the writer last applied successfully; null before the first apply or read.</summary>
        public bool? Applied;
        public bool LeaseFailing;
    }

    public VipService(ConfigStore config, DaemonPorts ports, ChangeWriter writer, DaemonState state, DrainState drain,
        EventTimeline events, DaemonMetrics metrics, TimeProvider time, ILogger<VipService> logger, LeaseFdStore fdStore, ExitIntent exit)
    {
        _fdStore = fdStore;
        _exit = exit;
        _config = config;
        _ports = ports;
        _writer = writer;
        _state = state;
        _drain = drain;
        _events = events;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _failures = new FailureLog(logger, time);
        _config.Changed += (_, _) => Wake();
    }

    /// <summary>Completes once start-up has decided every VIP and made FRR match (systemd READY=1 waits for it).</summary>
    public Task Started => _started.Task;

    public void Wake()
    {
        lock (_tickLock) _wake.TrySetResult();
    }

    /// <summary>Wakes the loop and completes after the next full pass (including the writer's applies).</summary>
    public async Task RequestEvaluationAsync(CancellationToken cancellationToken)
    {
        Task done;
        bool running;
        lock (_tickLock) { done = _tickDone.Task; running = _tickRunning; }
        Wake();
        await done.WaitAsync(cancellationToken);
        // A pass already under way may have read the state before the caller changed it: wait for a fresh one.
        if (running)
        {
            lock (_tickLock) done = _tickDone.Task;
            Wake();
            await done.WaitAsync(cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cfg = _config.Current;
        Log.ConfigLoaded(_logger, _config.Path);
        Log.Starting(_logger, cfg.Node, cfg.Vips.Count, cfg.Interfaces.Count);
        await StartupAsync(cfg, stoppingToken);
        _ = WatchLinksAsync(stoppingToken);
        _ = WatchRoutesAsync(stoppingToken);
        while (!_stopRequested && !_exit.HandedOver && !stoppingToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            var next = _vips.Count == 0 ? now + TimeSpan.FromSeconds(1) : _vips.Values.Min(e => e.NextEvaluation);
            var delay = next - now;
            Task wake;
            lock (_tickLock) wake = _wake.Task;
            if (delay > TimeSpan.Zero && !wake.IsCompleted)
            {
                using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var sleep = Task.Delay(delay, _time, cancelDelay.Token);
                await Task.WhenAny(sleep, wake);
                cancelDelay.Cancel();
                if (stoppingToken.IsCancellationRequested) break;
            }
            if (wake.IsCompleted)
                lock (_tickLock)
                    if (_wake.Task.IsCompleted) _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await TickAsync(stoppingToken);
        }
        if (_exit.HandedOver) await HandOverAsync();
        else if (_stopRequested) await ShutdownAsync(stoppingToken);
    }

    /// <summary>The leases held now, for the hand-off to the next process (name, VIP prefix, TUN fd).</summary>
    public IReadOnlyList<IVipLease> HeldLeases() =>
        [.. _vips.Values.Select(e => e.Lease).OfType<IVipLease>().Where(l => l.Handle is { IsInvalid: false, IsClosed: false })];

    /// <summary>
    /// The next process (or the service manager's fd store) holds the lease fds now: nothing is withdrawn, nothing is
    /// written; our own fds are closed with the process.
    /// </summary>
    private Task HandOverAsync()
    {
        Log.HandoffExit(_logger, _exit.HandOverReason ?? "handed over");
        _events.Append(EventSource.Daemon, "overlayd", "handed over", reason: _exit.HandOverReason);
        return Task.CompletedTask;
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

    // ------------------------------------------------------------------ start

    /// <summary>
    /// Decide health first and remove the routes of unhealthy or drained VIPs BEFORE creating any TUN lease:
    /// a configured static route re-activates as soon as a TUN of its nexthop's name appears. What is
    /// already right is adopted, so a restart does not flap a healthy VIP.
    /// </summary>
    private async Task StartupAsync(NodeConfig cfg, CancellationToken ct)
    {
        _applied = cfg;
        UpdateDrainFile(cfg);
        var now = _time.GetUtcNow();
        var obs = await ObserveAsync(cfg, ct);
        IReadOnlyList<VipRoute>? running = null;
        try { running = await _ports.Advertiser.ListAsync(ct); _failures.Succeeded("reading FRR VIP routes"); }
        catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading FRR VIP routes", ex); }

        var inherited = _ports.Leases.Inherited;
        var plan = inherited.Count == 0 ? null
            : LeaseAdoption.Plan(cfg.Vips, inherited, running?.Select(r => (r.Prefix, r.LeaseInterface)).ToList());
        if (plan is not null) Log.LeasesInherited(_logger, inherited.Count, _ports.Leases.InheritedFrom, string.Join(", ", inherited));
        foreach (var vip in cfg.Vips)
        {
            var entry = NewEntry(cfg, vip);
            var health = EvaluateVip(cfg, vip, obs);
            if (plan?.Vips[vip.Name] == AdoptionAction.AdoptAdvertised)
            {
                // The previous process advertised it through this very TUN: keep it as it is (no withdraw, no
                // re-commit) and judge health on the first pass, at once.
                var adopted = entry.Controller.Adopt($"from {_ports.Leases.InheritedFrom}", _drain.IsDrained(vip.Name));
                entry.Health = health;
                Record(entry, adopted);
                _writer.RecordRunning(Subject(vip), present: true);
                entry.Applied = true;
                entry.NextEvaluation = now;
                if (!adopted.Advertise) await ApplyAsync(entry, false, ct); // drained: the operator's word wins
                continue;
            }
            bool present = running?.Any(r => r.Prefix == vip.Prefix) ?? false;
            var d = entry.Controller.Start(health.Healthy, health.Summary, present, _drain.IsDrained(vip.Name));
            entry.Health = health;
            entry.LastFedHealthy = health.Healthy;
            Record(entry, d);
            if (running is not null) { _writer.RecordRunning(Subject(vip), present); entry.Applied = present; }
            if (!d.Advertise && (present || running is null))
            {
                Log.StartupWithdraw(_logger, vip.Name, vip.Prefix.ToString());
                await ApplyAsync(entry, false, ct);
            }
            else if (d.Advertise && present) Log.StartupAdopt(_logger, vip.Name);
        }
        foreach (var orphan in running?.Where(r => cfg.Vips.All(v => v.Prefix != r.Prefix)) ?? [])
        {
            Log.OrphanWithdraw(_logger, orphan.Prefix.ToString(), orphan.LeaseInterface);
            await _writer.SubmitAsync(new WithdrawVip("(orphan) " + orphan.Prefix, orphan.Prefix), ct);
        }
        foreach (var name in plan?.Release ?? [])
        {
            // Its route (if any) was withdrawn above as an orphan; closing the fd deletes the TUN.
            await _ports.Leases.ReleaseInheritedAsync(name);
            _fdStore.Remove(name);
            Log.InheritedLeaseReleased(_logger, name);
            _events.Append(EventSource.Daemon, name, "lease", "handed over", "released", "no configured VIP uses it");
        }
        foreach (var entry in _vips.Values) await EnsureLeaseAsync(entry, ct);
        foreach (var entry in _vips.Values)
            if (entry.Controller.Advertise && entry.Applied != true && entry.Lease is not null) await ApplyAsync(entry, true, ct);
        await ReconcileKernelRoutesAsync(null, cfg, ct);
        Publish(cfg, obs, now);
        CompleteTick();
        _started.TrySetResult();
        Log.Ready(_logger);
    }

    private Entry NewEntry(NodeConfig cfg, VipConfig vip)
    {
        var entry = new Entry(vip, new VipController(vip.Name, cfg.PolicyOf(vip), _time));
        _vips[vip.Name] = entry;
        return entry;
    }

    // ------------------------------------------------------------------ loop

    private async Task TickAsync(CancellationToken ct)
    {
        lock (_tickLock) _tickRunning = true;
        var cfg = _config.Current;
        if (!ReferenceEquals(cfg, _applied)) await ApplyConfigAsync(cfg, ct);
        UpdateDrainFile(cfg);
        var now = _time.GetUtcNow();
        if (_routesDirty || now - _routesReconciledAt >= RouteReconcileInterval)
        {
            _routesDirty = false;
            await ReconcileKernelRoutesAsync(null, cfg, ct);
        }
        var obs = await ObserveAsync(cfg, ct);
        if (_vips.Count > 0 && now - _frrVerifiedAt >= FrrVerifyInterval) await VerifyFrrRoutesAsync(ct);
        foreach (var entry in _vips.Values.ToList())
        {
            var vip = entry.Config;
            if (entry.Lease is null && !_stopRequested) await EnsureLeaseAsync(entry, ct);
            var health = EvaluateVip(cfg, vip, obs);
            if (entry.Lease is null)
                health = health with
                {
                    Healthy = false,
                    Reasons = [.. health.Reasons, new HealthReason(HealthReasonCode.LinkDown, vip.Lease, "TUN lease not held")],
                };
            entry.Health = health;

            bool drained = _drain.IsDrained(vip.Name);
            VipDecision? d = null;
            if (drained && entry.Controller.State != VipState.Drained) d = entry.Controller.Drain(_drain.Reason(vip.Name));
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
            bool want = entry.Controller.Advertise && entry.Lease is not null;
            if (entry.Applied != want)
            {
                var ok = await ApplyAsync(entry, want, ct);
                if (!ok) entry.NextEvaluation = Min(entry.NextEvaluation, now + cfg.PolicyOf(vip).FastInterval);
            }
        }
        Publish(cfg, obs, now);
        CompleteTick();
    }

    /// <summary>
    /// FRR can lose (or gain) a VIP route behind overlayd's back: staticd restarted from its own file, zebra
    /// restarted, an operator's vtysh. Where FRR differs from what was applied, forget the applied state so
    /// this tick's apply step makes FRR match the decision again. An unreadable FRR changes nothing.
    /// </summary>
    private async Task VerifyFrrRoutesAsync(CancellationToken ct)
    {
        _frrVerifiedAt = _time.GetUtcNow();
        IReadOnlyList<VipRoute> running;
        try { running = await _ports.Advertiser.ListAsync(ct); _failures.Succeeded("reading FRR VIP routes"); }
        catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading FRR VIP routes", ex); return; }
        foreach (var entry in _vips.Values)
        {
            var vip = entry.Config;
            bool present = running.Any(r => r.Prefix == vip.Prefix && r.LeaseInterface == vip.Lease);
            _writer.RecordRunning(Subject(vip), present);
            if (entry.Applied is not bool applied || applied == present) continue;
            string Word(bool b) => b ? "present" : "absent";
            Log.FrrRouteDrift(_logger, vip.Name, Word(present), Word(applied));
            _events.Append(EventSource.Vip, vip.Name, "frr-route", Word(applied), Word(present), "FRR's configuration differs from what was applied; re-applying");
            entry.Applied = present;
        }
    }

    private void CompleteTick()
    {
        TaskCompletionSource done;
        lock (_tickLock)
        {
            done = _tickDone;
            _tickDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _tickRunning = false;
        }
        done.TrySetResult();
    }

    private async Task<bool> ApplyAsync(Entry entry, bool advertise, CancellationToken ct)
    {
        Change change = advertise
            ? new AdvertiseVip(entry.Config.Name, new VipRoute(entry.Config.Prefix, entry.Config.Lease))
            : new WithdrawVip(entry.Config.Name, entry.Config.Prefix);
        var result = await _writer.SubmitAsync(change, ct);
        if (result.Ok) entry.Applied = advertise;
        return result.Ok;
    }

    private void Record(Entry entry, VipDecision d)
    {
        entry.NextEvaluation = d.NextEvaluation;
        foreach (var t in d.Transitions)
        {
            entry.Since = t.Time;
            Log.VipTransition(_logger, t.Vip, t.From, t.To, t.Advertise, t.Reason);
            _events.Append(EventSource.Vip, t.Vip, "state", t.From.ToString(), t.To.ToString(), t.Reason);
            _metrics.VipTransition(t.Vip, t.To);
        }
    }

    private void UpdateDrainFile(NodeConfig cfg)
    {
        bool present = cfg.Drain.File is { } f && File.Exists(f);
        // The file's mtime is when the operator drained, also across a restart (read once, when it appears).
        DateTimeOffset? since = present && !_drain.FilePresent ? FileMtime(cfg.Drain.File!) : null;
        if (_drain.SetFile(present, since))
        {
            Log.DrainChanged(_logger, present ? $"drain file {cfg.Drain.File} appeared" : $"drain file {cfg.Drain.File} removed");
            _events.Append(EventSource.Operator, cfg.Drain.File ?? "drain file", "drain file", present ? "absent" : "present", present ? "present" : "absent");
        }
    }

    private static DateTimeOffset? FileMtime(string path)
    {
        // A file gone since File.Exists reads as 1601-01-01: no start then (the next pass sees it absent).
        try { var t = File.GetLastWriteTimeUtc(path); return t.Year <= 1601 ? null : new DateTimeOffset(t, TimeSpan.Zero); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }

    private async Task EnsureLeaseAsync(Entry entry, CancellationToken ct)
    {
        try
        {
            var lease = await _ports.Leases.AcquireAsync(entry.Config.Lease, entry.Config.Prefix, ct);
            entry.Lease = lease;
            entry.LeaseFailing = false;
            if (lease.Adopted)
            {
                Log.LeaseAdopted(_logger, entry.Config.Lease, entry.Config.Prefix.ToString());
                _events.Append(EventSource.Daemon, entry.Config.Lease, "lease", "handed over", "held");
            }
            else
            {
                Log.LeaseAcquired(_logger, entry.Config.Lease, entry.Config.Prefix.ToString());
                _events.Append(EventSource.Daemon, entry.Config.Lease, "lease", "absent", "held");
            }
            _fdStore.Store(lease);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // Retried every pass; said once per outage so the log stays readable.
            if (!entry.LeaseFailing) Log.LeaseFailed(_logger, entry.Config.Lease, entry.Config.Name, FailureLog.Cause(ex), FailureLog.StackWorthy(ex));
            entry.LeaseFailing = true;
        }
    }

    private async Task ReleaseLeaseAsync(Entry entry)
    {
        if (entry.Lease is not { } lease) return;
        entry.Lease = null;
        // Released on purpose (drained stop, VIP removed): the service manager must not keep the TUN alive.
        _fdStore.Remove(lease.Name);
        await lease.DisposeAsync();
        Log.LeaseReleased(_logger, lease.Name);
        _events.Append(EventSource.Daemon, lease.Name, "lease", "held", "released");
    }

    // ------------------------------------------------------------------ reload

    private async Task ApplyConfigAsync(NodeConfig cfg, CancellationToken ct)
    {
        var old = _applied!;
        _applied = cfg;
        foreach (var entry in _vips.Values.ToList())
        {
            var next = cfg.FindVip(entry.Config.Name);
            if (next is not null && next.Prefix == entry.Config.Prefix && next.Lease == entry.Config.Lease)
            {
                entry.Config = next;
                entry.Controller.UpdatePolicy(cfg.PolicyOf(next));
                continue;
            }
            // Removed, or its prefix/lease changed: withdraw the old route and let it start afresh.
            await ApplyAsync(entry, false, ct);
            await ReleaseLeaseAsync(entry);
            _writer.Forget(Subject(entry.Config));
            _vips.Remove(entry.Config.Name);
            _events.Append(EventSource.Config, entry.Config.Name, "vip removed", reason: next is null ? "no longer configured" : "prefix or lease changed");
        }
        var now = _time.GetUtcNow();
        foreach (var vip in cfg.Vips.Where(v => !_vips.ContainsKey(v.Name)))
        {
            // As at start: make sure no route for it exists before its TUN appears, then let the next pass
            // make the first decision (the controller is still Starting).
            var entry = NewEntry(cfg, vip);
            entry.NextEvaluation = now;
            _events.Append(EventSource.Config, vip.Name, "vip added");
            await ApplyAsync(entry, false, ct);
            await EnsureLeaseAsync(entry, ct);
        }
        await ReconcileKernelRoutesAsync(old, cfg, ct);
    }

    /// <summary>
    /// Makes overlayd's kernel routes match the config: missing ones added, stale ones removed. Runs at start,
    /// on reload, after link events (a link going down takes its routes with it) and every
    /// <see cref="RouteReconcileInterval"/>.
    /// </summary>
    private async Task ReconcileKernelRoutesAsync(NodeConfig? old, NodeConfig cfg, CancellationToken ct)
    {
        _routesReconciledAt = _time.GetUtcNow();
        var desired = cfg.Routes.Select(r => new OwnedRoute(r.Prefix, r.Dev, r.Metric)).ToList();
        List<OwnedRoute> stale, missing;
        try
        {
            var owned = await _ports.KernelRoutes.ListOwnedAsync(ct);
            _failures.Succeeded("reading owned kernel routes");
            stale = owned.Where(o => !desired.Contains(o)).ToList();
            missing = desired.Where(d => !owned.Contains(d)).ToList();
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // Without a listing, replace everything (idempotent) and remove what the previous config owned.
            _failures.Failed("reading owned kernel routes", ex);
            stale = old?.Routes.Select(r => new OwnedRoute(r.Prefix, r.Dev, r.Metric)).Where(r => !desired.Contains(r)).ToList() ?? [];
            missing = desired;
        }
        foreach (var r in stale) await _writer.SubmitAsync(new DeleteKernelRoute(r), ct);
        foreach (var r in missing) await _writer.SubmitAsync(new ReplaceKernelRoute(r), ct);
        foreach (var r in desired.Except(missing)) _writer.RecordRunning("route:" + r.Prefix, present: true);
    }

    // ------------------------------------------------------------------ shutdown

    private async Task ShutdownAsync(CancellationToken ct)
    {
        await TickAsync(ct); // every VIP is drained now: withdrawals go through the writer
        var cfg = _config.Current;
        var prefixes = _vips.Values.Select(e => e.Config.Prefix).ToList();
        var sw = Stopwatch.StartNew();
        Log.DrainWaiting(_logger, DurationText.Format(cfg.Drain.ShutdownTimeout), string.Join(", ", prefixes));
        var deadline = _time.GetUtcNow() + cfg.Drain.ShutdownTimeout;
        var remaining = prefixes;
        while (remaining.Count > 0 && _time.GetUtcNow() < deadline && !ct.IsCancellationRequested)
        {
            var still = new List<IpPrefix>();
            foreach (var p in remaining)
            {
                try { if (await _ports.UpstreamProbe.UpstreamHasPathAsync(p, ct)) still.Add(p); _failures.Succeeded("reading upstream path for " + p); }
                catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading upstream path for " + p, ex); still.Add(p); }
            }
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
        foreach (var entry in _vips.Values) await ReleaseLeaseAsync(entry);
    }

    // ------------------------------------------------------------------ signals

    private sealed record Observation(
        Dictionary<string, InterfaceObservation> Interfaces,
        Dictionary<string, WireGuardPeerState?> Peers,
        RoutingSnapshot? Routing,
        IReadOnlyList<BfdSession>? Bfd,
        DateTimeOffset Time);

    private async Task<Observation> ObserveAsync(NodeConfig cfg, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        IReadOnlyList<BfdSession>? bfd = null;
        if (cfg.Interfaces.Any(i => i.Bfd))
        {
            try { bfd = await _ports.Bfd.GetSessionsAsync(ct); _failures.Succeeded("reading BFD sessions"); }
            catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading BFD sessions", ex); }
        }
        // OSPF/BGP come from vty commands that run on the daemons' main loops: read them every pass only when
        // a policy gates on them, otherwise (for status and metrics) at most every RoutingPollInterval.
        var routing = _routing;
        bool gated = cfg.Policies.Values.Any(p => p.Require.Any);
        if (gated || routing is null || now - _routingAt >= RoutingPollInterval)
        {
            routing = null;
            try { routing = await _ports.Routing.GetAsync(ct); _failures.Succeeded("reading OSPF/BGP state"); }
            catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading OSPF/BGP state", ex); }
            _routing = routing;
            _routingAt = now;
        }

        var result = new Dictionary<string, InterfaceObservation>(StringComparer.Ordinal);
        var peers = new Dictionary<string, WireGuardPeerState?>(StringComparer.Ordinal);
        var readAges = WireGuardReadAges(cfg);
        var bfdByPeer = new Dictionary<System.Net.IPAddress, BfdSessionState>();
        foreach (var b in bfd ?? []) bfdByPeer.TryAdd(b.Peer, b.State);
        foreach (var iface in cfg.Interfaces)
        {
            var link = LinkOperState.Unknown;
            try { link = await _ports.Links.GetOperStateAsync(iface.Name, ct); _failures.Succeeded("reading link " + iface.Name); }
            catch (Exception ex) when (!ct.IsCancellationRequested) { _failures.Failed("reading link " + iface.Name, ex); }
            WireGuardPeerState? peer = null;
            if (_wgReads.TryGetValue(iface.Name, out var cached) && !_wgStale.ContainsKey(iface.Name)
                && now - cached.At < readAges.GetValueOrDefault(iface.Name, WireGuardReadMaxAge))
                peer = cached.Peer;
            else
            {
                _wgStale.TryRemove(iface.Name, out _);
                try
                {
                    var wg = await _ports.WireGuard.GetInterfaceAsync(iface.Name, ct);
                    peer = wg?.Peers.FirstOrDefault(p => p.PublicKey == iface.PeerPublicKey);
                    _wgReads[iface.Name] = (now, peer);
                    _failures.Succeeded("reading WireGuard " + iface.Name);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    _wgReads.Remove(iface.Name);
                    _failures.Failed("reading WireGuard " + iface.Name, ex);
                }
            }
            DateTimeOffset? progress = peer is null ? null : _rx.Observe(iface.Name, peer.RxBytes, now);
            if (peer is null) _rx.Forget(iface.Name);
            BfdSessionState? bfdState = bfdByPeer.TryGetValue(iface.PeerAddress, out var st) ? st : null;
            result[iface.Name] = new InterfaceObservation(iface.Name, link, peer, progress, bfdState);
            peers[iface.Name] = peer;
        }
        return new Observation(result, peers, routing, bfd, now);
    }

    /// <summary>
    /// WireGuard's counters feed the slow signals: handshake age (judged against minutes) and rx progress (against
    /// tens of seconds). Reading every interface's device on every pass is a UAPI round trip each, which at a few
    /// hundred interfaces is most of the daemon's idle CPU. The fast signals come from elsewhere (link state from
    /// netlink events, BFD from bfdd). So an interface is read again when its last read is older than a twelfth of
    /// the shortest such threshold of the policies that use it (at least their interval, at most
    /// <see cref="WireGuardReadMaxAge"/>), after a link event on it, and on every pass while a VIP it gates is
    /// pending a decision, so that a decision is always confirmed on fresh counters.
    /// </summary>
    private Dictionary<string, TimeSpan> WireGuardReadAges(NodeConfig cfg)
    {
        var ages = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var e in _vips.Values)
        {
            bool pending = e.Controller.State is VipState.PendingAdvertise or VipState.PendingWithdraw or VipState.Starting;
            var policy = cfg.PolicyOf(e.Config);
            foreach (var name in e.Config.Interfaces)
            {
                if (cfg.FindInterface(name) is not { } iface) continue;
                var slowest = iface.ExpectsRxProgress ? Min(policy.RxStallAfter, policy.HandshakeMaxAge) : policy.HandshakeMaxAge;
                var age = pending ? TimeSpan.Zero : Min(WireGuardReadMaxAge, slowest / 12 < policy.Interval ? policy.Interval : slowest / 12);
                ages[name] = ages.TryGetValue(name, out var other) ? Min(age, other) : age;
            }
        }
        return ages;
    }

    private static VipHealth EvaluateVip(NodeConfig cfg, VipConfig vip, Observation obs)
    {
        var policy = cfg.PolicyOf(vip);
        var verdicts = new Dictionary<string, InterfaceVerdict>(StringComparer.Ordinal);
        foreach (var name in vip.Interfaces)
            if (cfg.FindInterface(name) is { } iface && obs.Interfaces.TryGetValue(name, out var o))
                verdicts[name] = HealthModel.EvaluateInterface(iface, policy, o, obs.Time);
        return HealthModel.EvaluateVip(vip, policy, verdicts, obs.Routing);
    }

    private void Publish(NodeConfig cfg, Observation obs, DateTimeOffset now)
    {
        var peers = new List<PeerStatus>();
        foreach (var iface in cfg.Interfaces)
        {
            // An interface shared by VIPs is shown under the policy of the first VIP that uses it; one no VIP uses
            // (a hub's tunnels) under the config's "default" policy when it defines one.
            var policy = cfg.Vips.FirstOrDefault(v => v.Interfaces.Contains(iface.Name)) is { } v ? cfg.PolicyOf(v)
                : cfg.Policies.TryGetValue("default", out var configured) ? configured : HealthPolicy.Default("default");
            var o = obs.Interfaces[iface.Name];
            EndpointSeen(iface, o.Peer);
            var verdict = HealthModel.EvaluateInterface(iface, policy, o, obs.Time);
            bool known = _interfaceHealth.TryGetValue(iface.Name, out var was);
            if (!known || was != verdict.Healthy)
            {
                _interfaceHealth[iface.Name] = verdict.Healthy;
                Log.InterfaceHealthChanged(_logger, iface.Name, verdict.Healthy ? "healthy" : "unhealthy", verdict.Summary);
                _events.Append(EventSource.Health, iface.Name, "health", known ? (was ? "healthy" : "unhealthy") : null,
                    verdict.Healthy ? "healthy" : "unhealthy", verdict.Summary);
            }
            var p = o.Peer;
            peers.Add(new PeerStatus(iface.Name, iface.Peer, iface.PeerPublicKey.ToBase64(), o.Link, verdict.Healthy,
                verdict.Reasons.Select(r => r.Message).ToList(), p?.LastHandshake, verdict.HandshakeAge?.TotalSeconds,
                p?.RxBytes ?? 0, p?.TxBytes ?? 0, o.LastRxProgress, o.Bfd, p?.Endpoint));
        }
        if (obs.Bfd is { } bfd)
            Changed(EventSource.Bfd, "bfd ", bfd.Select(b => ($"bfd {b.Peer}", b.State.ToString())));
        if (obs.Routing is { } routing)
        {
            Changed(EventSource.Routing, "ospf ", routing.OspfNeighbors.Select(n => ($"ospf {n.RouterId} on {n.Interface}", n.State.ToString())));
            Changed(EventSource.Routing, "bgp ", routing.BgpSessions.Select(b => ($"bgp {b.Neighbor}", b.State)));
        }
        var vips = _vips.Values.OrderBy(e => e.Config.Name, StringComparer.Ordinal).Select(e => new VipStatus(
            e.Config.Name, e.Config.Prefix.ToString(), e.Config.Lease, e.Lease is not null, e.Controller.State,
            e.Health?.Healthy ?? false, e.Health?.Summary ?? "", e.Controller.HealthyStreak, e.Controller.UnhealthyStreak,
            e.Controller.Penalty, e.Controller.Flaps, e.Since, e.NextEvaluation)).ToList();
        _state.Publish(new DaemonState.Snapshot(vips, peers, obs.Routing ?? RoutingSnapshot.Empty, obs.Bfd ?? [], now));
    }

    /// <summary>
    /// Puts a change of the peer's endpoint on the timeline: WireGuard roams to wherever the peer's last authenticated
    /// packet came from, so a new address or port means the peer moved or its NAT mapping changed (rebinding). The
    /// first read of an interface only sets the baseline; an endpoint that becomes unknown (peer or interface gone) is
    /// forgotten without an event, as the health events already say why.
    /// </summary>
    private void EndpointSeen(WgInterfaceConfig iface, WireGuardPeerState? peer)
    {
        if (peer is null) { _endpoints.Remove(iface.Name); return; }
        bool known = _endpoints.TryGetValue(iface.Name, out var old);
        _endpoints[iface.Name] = peer.Endpoint;
        if (!known || old == peer.Endpoint || peer.Endpoint is null) return;
        Log.PeerEndpointChanged(_logger, iface.Name, iface.Peer, peer.Endpoint, old ?? "none");
        _events.Append(EventSource.WireGuard, iface.Name, "endpoint", old, peer.Endpoint,
            old is null ? $"{iface.Peer} made contact" : $"{iface.Peer} roamed (NAT rebinding or a new address)");
    }

    /// <summary>Puts protocol state changes (BFD, OSPF, BGP) on the timeline, so failovers can be read in order.</summary>
    /// <remarks>
    /// One call per kind (<paramref name="kind"/> is the subjects' common prefix) with everything read of that kind: a
    /// session or neighbor that is no longer listed (OSPF deletes a dead neighbor, and its BFD session with it) goes on
    /// the timeline as "absent", not silently.
    /// </remarks>
    private void Changed(EventSource source, string kind, IEnumerable<(string Subject, string State)> observed)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (subject, state) in observed)
        {
            seen.Add(subject);
            if (_protocolStates.TryGetValue(subject, out var old) && old == state) continue;
            _protocolStates[subject] = state;
            _events.Append(source, subject, "state", old, state);
        }
        foreach (var gone in _protocolStates.Keys.Where(k => k.StartsWith(kind, StringComparison.Ordinal) && !seen.Contains(k)).ToList())
        {
            _events.Append(source, gone, "state", _protocolStates[gone], "absent");
            _protocolStates.Remove(gone);
        }
    }

    private async Task WatchLinksAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var change in _ports.Links.WatchAsync(ct))
            {
                _events.Append(EventSource.Link, change.Interface, "oper state", null, change.State.ToString());
                _wgStale[change.Interface] = true;
                _routesDirty = true;
                Wake();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { Log.SignalReadFailed(_logger, "link events", FailureLog.Cause(ex), FailureLog.StackWorthy(ex)); }
    }

    /// <summary>
    /// A route event for a prefix overlayd owns (ours deleted, or a foreign route put on its key) starts a
    /// reconcile at once instead of at the next periodic pass.
    /// </summary>
    private async Task WatchRoutesAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var change in _ports.KernelRoutes.WatchRoutesAsync(ct))
            {
                var routes = _config.Current.Routes;
                if (change.Prefix is { } p ? !routes.Any(r => r.Prefix == p) : routes.Count == 0) continue;
                _routesDirty = true;
                Wake();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { Log.SignalReadFailed(_logger, "route events", FailureLog.Cause(ex), FailureLog.StackWorthy(ex)); }
    }

    public static string Subject(VipConfig vip) => "vip:" + vip.Name;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
