using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Anycast;
using Overlay.Core.Config;
using Overlay.Core.Events;
using Overlay.Daemon.Config;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// The client side of anycast endpoints: for every interface with a <c>watchdog</c> block, an ICMP echo through the
/// tunnel to its <c>peerAddress</c> every interval, fed to a <see cref="SessionWatchdog"/>; the resets it asks for go
/// to the <see cref="ChangeWriter"/> like every other change. Why echoes and not rx counters: the far end only sends
/// on its own when keepalives are on, and those come at most once a second; an echo is answered within a round trip
/// through the session actually in use, so a miss means "this session no longer reaches anyone".
/// After a reset it watches the peer's handshake time, so the timeline shows when the new session came up.
/// Follows reloads: watchdogs are started, updated and stopped as the configuration says.
/// </summary>
public sealed class SessionWatchdogService : BackgroundService
{
    private readonly ConfigStore _config;
    private readonly DaemonPorts _ports;
    private readonly ChangeWriter _writer;
    private readonly EventTimeline _events;
    private readonly DaemonMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionWatchdogService> _logger;
    private readonly Dictionary<string, Running> _running = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Running(WgInterfaceConfig config, CancellationTokenSource stop)
    {
        public WgInterfaceConfig Config { get; } = config;
        public CancellationTokenSource Stop { get; } = stop;
        public Task Loop { get; set; } = Task.CompletedTask;
        public volatile SessionWatchdogConfig Settings = config.Watchdog!;
    }

    public SessionWatchdogService(ConfigStore config, DaemonPorts ports, ChangeWriter writer, EventTimeline events, DaemonMetrics metrics,
        TimeProvider time, ILogger<SessionWatchdogService> logger)
    {
        _config = config;
        _ports = ports;
        _writer = writer;
        _events = events;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _config.Changed += (_, _) => _changed.TrySetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var changed = _changed.Task;
                Reconcile(_config.Current, stoppingToken);
                await changed.WaitAsync(stoppingToken);
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            foreach (var r in _running.Values) r.Stop.Cancel();
            try { await Task.WhenAll(_running.Values.Select(r => r.Loop)); }
            catch (OperationCanceledException) { }
        }
    }

    private void Reconcile(NodeConfig cfg, CancellationToken stoppingToken)
    {
        var wanted = cfg.Interfaces.Where(i => i.Watchdog is not null).ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var (name, r) in _running.ToList())
        {
            // Same peer and target: keep the loop (and its state), take the new settings.
            if (wanted.TryGetValue(name, out var w) && w.PeerPublicKey == r.Config.PeerPublicKey && w.PeerAddress.Equals(r.Config.PeerAddress))
            {
                r.Settings = w.Watchdog!;
                continue;
            }
            r.Stop.Cancel();
            _running.Remove(name);
            _events.Append(EventSource.WireGuard, name, "watchdog stopped", reason: "configuration changed");
        }
        foreach (var (name, iface) in wanted)
        {
            if (_running.ContainsKey(name)) continue;
            var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var run = new Running(iface, stop);
            run.Loop = Task.Run(() => LoopAsync(iface, () => run.Settings, stop.Token), CancellationToken.None);
            _running[name] = run;
        }
    }

    private async Task LoopAsync(WgInterfaceConfig iface, Func<SessionWatchdogConfig> settings, CancellationToken ct)
    {
        string name = iface.Name;
        var watchdog = new SessionWatchdog(settings(), _time);
        _events.Append(EventSource.WireGuard, name, "watchdog started",
            reason: $"echo to {iface.PeerAddress} every {settings().Interval.TotalMilliseconds:0} ms, reset after {settings().Misses} misses");
        ITunnelProbe? probe = null;
        string? probeProblem = null;
        DateTimeOffset? awaitingHandshakeSince = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                watchdog.Update(settings());
                int replies = 0;
                if (probe is not null)
                {
                    try { replies = probe.DrainReplies(); }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException) { probe.Dispose(); probe = null; }
                }
                var step = watchdog.Step(replies > 0);
                if (step.Transition is { } t) Report(name, step, t);
                if (step.Action == SessionWatchdogAction.Reset)
                {
                    // Taken before the reset: a re-added peer with a keepalive handshakes at once, often before the
                    // writer's result is stamped, and that handshake must count as the new one.
                    var submittedAt = _time.GetUtcNow();
                    var result = await _writer.SubmitAsync(new ResetPeerSession(name, iface.PeerPublicKey), ct);
                    _metrics.SessionReset(name, result.Ok);
                    if (result.Ok) awaitingHandshakeSince = submittedAt;
                }
                if (awaitingHandshakeSince is { } since) awaitingHandshakeSince = await WatchHandshakeAsync(iface, since, ct);

                probe ??= OpenProbe(iface, ref probeProblem);
                try { probe?.Send(); }
                catch (SocketException) { probe?.Dispose(); probe = null; } // interface down or re-created: reopen next interval
                await Task.Delay(settings().Interval, _time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            probe?.Dispose();
        }
    }

    private ITunnelProbe? OpenProbe(WgInterfaceConfig iface, ref string? lastProblem)
    {
        try
        {
            var p = _ports.Prober.Open(iface.Name, iface.PeerAddress);
            lastProblem = null;
            return p;
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or ArgumentException)
        {
            // Said once per kind of problem, not every 100 ms (the interface may simply not exist yet).
            if (lastProblem != e.Message)
            {
                Log.ProbeUnavailable(_logger, iface.Name, iface.PeerAddress.ToString(), e.Message);
                _events.Append(EventSource.WireGuard, iface.Name, "watchdog cannot probe", reason: e.Message);
                lastProblem = e.Message;
            }
            return null;
        }
    }

    private void Report(string name, SessionWatchdogStep step, string transition)
    {
        switch (step.Action, step.State)
        {
            case (SessionWatchdogAction.Reset, _):
                Log.SessionReset(_logger, name, transition);
                _events.Append(EventSource.WireGuard, name, $"session reset #{step.Attempt}", reason: transition);
                break;
            case (_, SessionWatchdogState.Up) when transition.StartsWith("recovered", StringComparison.Ordinal):
                Log.SessionRecovered(_logger, name, transition);
                _metrics.SessionRecovered(name);
                _events.Append(EventSource.WireGuard, name, "watchdog recovered", reason: transition);
                break;
            default:
                Log.WatchdogArmed(_logger, name, transition);
                _events.Append(EventSource.WireGuard, name, "watchdog armed", reason: transition);
                break;
        }
    }

    /// <summary>After a reset: the first handshake newer than the reset goes to the timeline with its own time; null once seen.</summary>
    private async Task<DateTimeOffset?> WatchHandshakeAsync(WgInterfaceConfig iface, DateTimeOffset resetAt, CancellationToken ct)
    {
        try
        {
            var state = await _ports.WireGuard.GetInterfaceAsync(iface.Name, ct);
            var peer = state?.Peers.FirstOrDefault(p => p.PublicKey == iface.PeerPublicKey);
            if (peer?.LastHandshake is not { } at || at < resetAt) return resetAt;
            double ms = (at - resetAt).TotalMilliseconds;
            Log.SessionHandshake(_logger, iface.Name, ms);
            _events.Append(EventSource.WireGuard, iface.Name, "handshake completed",
                reason: $"at {at.UtcDateTime:HH:mm:ss.fff}, {ms:0} ms after the reset, endpoint {peer.Endpoint?.ToString() ?? "unknown"}");
            return null;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return resetAt; // the next interval reads again
        }
    }
}
