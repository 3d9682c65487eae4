using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Vip;

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
    private readonly TimeSpan? _watchdog;

    public SystemdService(SdNotify notify, VipService vips, IHostApplicationLifetime lifetime, ILogger<SystemdService> logger)
    {
        _notify = notify;
        _vips = vips;
        _lifetime = lifetime;
        _logger = logger;
        _watchdog = SdNotify.WatchdogInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
            Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId);
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
        if (_watchdog is not { } period) return;
        var half = period / 2;
        Log.WatchdogEnabled(_logger, (long)half.TotalMilliseconds);
        using var timer = new PeriodicTimer(half);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var since = _vips.SinceLastTick;
                if (since < period) Send("WATCHDOG=1");
                else Log.WatchdogSkipped(_logger, since == TimeSpan.MaxValue ? -1 : (long)since.TotalMilliseconds);
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
