using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Overlay.Core.Anycast;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Anycast;

namespace Overlay.Daemon.Systemd;

/// <summary>
/// Tells systemd READY=1 once the host (API, VIP loop start-up) is running, STOPPING=1 when shutdown begins, a
/// one-line STATUS= with the VIPs' states, and WATCHDOG=1 at half the watchdog period, but only while the VIP loop is
/// alive: a hung loop must get the process restarted, not kept alive by a timer.
/// </summary>
/// <remarks>
/// The messages go through Microsoft.Extensions.Hosting.Systemd's <see cref="ISystemdNotifier"/> (its
/// <see cref="SystemdNotifier"/> in production). Its <c>UseSystemd()</c> lifetime is not used: it says READY=1 at
/// ApplicationStarted, before the VIP loop has decided health and withdrawn stale routes, which is what READY means
/// here. It has no watchdog (the ping is tied to a completed VIP pass, below) and cannot pass fds (FDSTORE stays with
/// <see cref="SdNotify"/>).
/// </remarks>
internal sealed class SystemdService(ISystemdNotifier notifier, SdNotify sd, VipService vips, DaemonState state,
    IHostApplicationLifetime lifetime, ILogger<SystemdService> logger) : BackgroundService
{
    private readonly FailureLog _failures = new(logger, TimeProvider.System);
    private string? _status;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled) return;
        lifetime.ApplicationStopping.Register(() =>
        {
            Send(ServiceState.Stopping);
            Send(new ServiceState("STATUS=stopping: draining VIPs"));
        });
        // READY means: health decided, stale routes withdrawn, leases held, API up.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try { await Task.WhenAll(started.Task.WaitAsync(stoppingToken), vips.Started.WaitAsync(stoppingToken)); }
            catch (OperationCanceledException) { return; }
        }
        Send(ServiceState.Ready);
        UpdateStatus();
        if (sd.Watchdog is not { } period)
        {
            // No watchdog: the status line follows the VIP loop's snapshot every few seconds (a string compare when idle).
            using var slow = new PeriodicTimer(TimeSpan.FromSeconds(5));
            try { while (await slow.WaitForNextTickAsync(stoppingToken)) UpdateStatus(); }
            catch (OperationCanceledException) { }
            return;
        }
        var half = period / 2;
        Log.WatchdogEnabled(logger, (long)half.TotalMilliseconds);
        using var timer = new PeriodicTimer(half);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Proof of life is a completed pass of the VIP loop (signals read, writer answered), not a timer.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                deadline.CancelAfter(half);
                try
                {
                    await vips.RequestEvaluationAsync(deadline.Token);
                    Send(new ServiceState("WATCHDOG=1"));
                    UpdateStatus();
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.WatchdogSkipped(logger, (long)half.TotalMilliseconds);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>STATUS= (systemctl status): one line, sent only when it changed.</summary>
    private void UpdateStatus()
    {
        var s = Status(state.Current);
        if (s == _status) return;
        _status = s;
        Send(new ServiceState("STATUS=" + s));
    }

    public static string Status(DaemonState.Snapshot snapshot)
    {
        if (snapshot.Vips.Count == 0) return "ready: no VIP configured";
        var byState = snapshot.Vips.GroupBy(v => v.State).OrderBy(g => g.Key)
            .Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        return $"ready: {snapshot.Vips.Count} VIP(s): {string.Join(", ", byState)}";
    }

    private void Send(ServiceState message)
    {
        const string What = "sd_notify";
        try
        {
            notifier.Notify(message);
            _failures.Succeeded(What);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
        {
            // The manager's socket gone (a restart of systemd itself): one line with the cause, repeats counted.
            _failures.Failed(What + " to " + (sd.Socket ?? "NOTIFY_SOCKET"), ex);
        }
    }
}
