using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Anycast;

namespace Overlay.Daemon.Systemd;

/// <summary>
/// Tells systemd READY=1 once the host (API, VIP loop start-up) is running, STOPPING=1 when shutdown begins,
/// and WATCHDOG=1 at half the watchdog period, but only while the VIP loop is alive: a hung loop must get
/// the process restarted, not kept alive by a timer.
/// </summary>
public sealed class SystemdService : BackgroundService
{
    private readonly SdNotify _notify;
    private readonly VipService _vips;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<SystemdService> _logger;

    public SystemdService(SdNotify notify, VipService vips, IHostApplicationLifetime lifetime, ILogger<SystemdService> logger)
    {
        _notify = notify;
        _vips = vips;
        _lifetime = lifetime;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_notify.Enabled) return;
        _lifetime.ApplicationStopping.Register(() => Send("STOPPING=1"));
        // READY means: health decided, stale routes withdrawn, leases held, API up.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try { await Task.WhenAll(started.Task.WaitAsync(stoppingToken), _vips.Started.WaitAsync(stoppingToken)); }
            catch (OperationCanceledException) { return; }
        }
        Send("READY=1");
        if (_notify.Watchdog is not { } period) return;
        var half = period / 2;
        Log.WatchdogEnabled(_logger, (long)half.TotalMilliseconds);
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
                    await _vips.RequestEvaluationAsync(deadline.Token);
                    Send("WATCHDOG=1");
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.WatchdogSkipped(_logger, (long)half.TotalMilliseconds);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Send(string state)
    {
        try { _notify.Notify(state); }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException) { Log.SdNotifyFailed(_logger, _notify.Socket ?? "", ex); }
    }
}
