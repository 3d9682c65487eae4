using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Events;
using Overlay.Core.Net;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Core.Model;

namespace Overlay.Daemon.Writer;

/// <summary>A change to FRR, the kernel or a WireGuard device. Only the <see cref="ChangeWriter"/> performs them.</summary>
public abstract record Change(ApplyOperation Operation)
{
    /// <summary>The ledger key (see <see cref="LedgerSubject"/>).</summary>
    public abstract LedgerSubject Subject { get; }
}

public sealed record AdvertiseVip(string Vip, VipRoute Route) : Change(ApplyOperation.Advertise)
{
    public override LedgerSubject Subject => new VipSubject(Vip);
}

public sealed record WithdrawVip(string Vip, IpPrefix Prefix) : Change(ApplyOperation.Withdraw)
{
    public override LedgerSubject Subject => new VipSubject(Vip);
}

public sealed record ReplaceKernelRoute(OwnedRoute Route) : Change(ApplyOperation.RouteReplace)
{
    public override LedgerSubject Subject => new RouteSubject(Route.Prefix);
}

public sealed record DeleteKernelRoute(OwnedRoute Route) : Change(ApplyOperation.RouteDelete)
{
    public override LedgerSubject Subject => new RouteSubject(Route.Prefix);
}

/// <summary>Drops a WireGuard peer's session (remove + re-add with identical configuration); the session watchdog's repair.</summary>
public sealed record ResetPeerSession(string Interface, WireGuardKey Peer) : Change(ApplyOperation.PeerReset)
{
    public override LedgerSubject Subject => new PeerSubject(Interface);
}

/// <summary>
/// The single writer: one loop through which every change to FRR and the kernel flows, in order, so two
/// decisions can never race on the router. Each change is applied through a port and its result recorded.
/// </summary>
public sealed class ChangeWriter : BackgroundService
{
    private readonly Channel<(Change Change, TaskCompletionSource<ChangeResult> Done)> _queue =
        Channel.CreateUnbounded<(Change, TaskCompletionSource<ChangeResult>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<LedgerSubject, LedgerEntry> _ledger = new();
    private readonly DaemonPorts _ports;
    private readonly TimeProvider _time;
    private readonly EventTimeline _events;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger<ChangeWriter> _logger;
    /// <summary>Failed applies are retried every pass while FRR is down: one line per cause, repeats counted.</summary>
    private readonly FailureLog _failures;

    public ChangeWriter(DaemonPorts ports, TimeProvider time, EventTimeline events, DaemonMetrics metrics, ILogger<ChangeWriter> logger)
    {
        _ports = ports;
        _time = time;
        _events = events;
        _metrics = metrics;
        _logger = logger;
        _failures = new FailureLog(logger, time);
    }

    public IReadOnlyCollection<LedgerEntry> Ledger => _ledger.Values.OrderBy(r => r.Subject.ToString(), StringComparer.Ordinal).ToList();

    public LedgerEntry? Find(LedgerSubject subject) => _ledger.TryGetValue(subject, out var r) ? r : null;

    /// <summary>Records what is known to be in place without applying anything (e.g. read from FRR at start).</summary>
    public void RecordRunning(LedgerSubject subject, bool present)
    {
        var state = LedgerStates.Of(present);
        _ledger.AddOrUpdate(subject, s => new LedgerEntry(s, state, state, null), (_, r) => r with { Running = state });
    }

    public void Forget(LedgerSubject subject) => _ledger.TryRemove(subject, out _);

    /// <summary>Queues a change and completes when it has been applied (or failed). Never throws for apply errors.</summary>
    public Task<ChangeResult> SubmitAsync(Change change, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<ChangeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var desired = StateAfter(change.Operation);
        _ledger.AddOrUpdate(change.Subject, s => new LedgerEntry(s, desired, LedgerState.Unknown, null), (_, r) => r with { Desired = desired });
        if (!_queue.Writer.TryWrite((change, done)))
            done.SetResult(new ChangeResult(_time.GetUtcNow(), change.Operation, false, "writer stopped", 0));
        return done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (change, done) in _queue.Reader.ReadAllAsync(stoppingToken))
                done.TrySetResult(await ApplyAsync(change, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var item))
                item.Done.TrySetResult(new ChangeResult(_time.GetUtcNow(), item.Change.Operation, false, "writer stopped", 0));
        }
    }

    /// <summary>What the subject is once the change is in place: a reset peer is (again) present.</summary>
    private static LedgerState StateAfter(ApplyOperation op) => op is ApplyOperation.Withdraw or ApplyOperation.RouteDelete ? LedgerState.Absent : LedgerState.Present;

    private async Task<ChangeResult> ApplyAsync(Change change, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        string? error = null;
        try
        {
            switch (change)
            {
                case AdvertiseVip a: await _ports.Advertiser.AdvertiseAsync(a.Route, ct); break;
                case WithdrawVip w: await _ports.Advertiser.WithdrawAsync(w.Prefix, ct); break;
                case ReplaceKernelRoute r: await _ports.KernelRoutes.ReplaceAsync(r.Route, ct); break;
                case DeleteKernelRoute d: await _ports.KernelRoutes.DeleteAsync(d.Route, ct); break;
                case ResetPeerSession r: await _ports.PeerWriter.ResetSessionAsync(r.Interface, r.Peer, ct); break;
                default: throw new InvalidOperationException($"unknown change {change.GetType().Name}");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            error = ex.Message;
            _failures.Failed($"applying {change.Operation} {change.Subject}", ex);
        }
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var result = new ChangeResult(_time.GetUtcNow(), change.Operation, error is null, error, ms);
        bool frr = change.Operation is ApplyOperation.Advertise or ApplyOperation.Withdraw;
        _metrics.ObserveApply(change.Operation, ms / 1000.0, error is null);
        if (error is null)
        {
            _failures.Succeeded($"applying {change.Operation} {change.Subject}");
            Log.ApplyOk(_logger, change.Operation.ToString(), change.Subject.ToString(), ms);
            var running = StateAfter(change.Operation);
            _ledger.AddOrUpdate(change.Subject, s => new LedgerEntry(s, running, running, result), (_, r) => r with { Running = running, LastApply = result });
            _events.Append(EventSource.Writer, change.Subject.ToString(), change.Operation.ToString(), reason: $"applied in {ms:F1} ms");
        }
        else
        {
            _ledger.AddOrUpdate(change.Subject, s => new LedgerEntry(s, LedgerState.Unknown, LedgerState.Unknown, result), (_, r) => r with { LastApply = result });
            // Retried every pass while the cause lasts: counted in one event, so decisions stay on the timeline.
            _events.AppendTransient(EventSource.Writer, change.Subject.ToString(), change.Operation + " failed", reason: (frr ? "FRR: " : change.Operation == ApplyOperation.PeerReset ? "WireGuard: " : "kernel: ") + error);
        }
        return result;
    }
}
