using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Events;
using Overlay.Core.Config;
using Overlay.Daemon.Api;
using Overlay.Daemon.Config;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Transit;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Writer;
using Microsoft.Extensions.Hosting.Systemd;
using Log = Overlay.Daemon.Logging.Log;
using Serilog;

namespace Overlay.Daemon.Hosting;

public sealed record DaemonOptions(
    string ConfigPath,
    NodeConfig Config,
    DaemonPorts Ports,
    TimeProvider Time,
    Serilog.ILogger Logger,
    SdNotify Notify,
    int EventCapacity = 10_000)
{
    /// <summary>
    /// Where READY=1, STOPPING=1, STATUS= and WATCHDOG=1 go: Microsoft.Extensions.Hosting.Systemd's
    /// <see cref="SystemdNotifier"/> (NOTIFY_SOCKET) unless a test gives its own. FDSTORE goes through <see cref="Notify"/>.
    /// </summary>
    public ISystemdNotifier? Systemd { get; init; }

    /// <summary>Where the kernel's forwarding switches are read (default: /proc/sys of overlayd's namespace).</summary>
    public IForwardingSource? Forwarding { get; init; }
}

/// <summary>Composes overlayd: the writer, the VIP loop, systemd notification, the control API and metrics.</summary>
public static class DaemonHost
{
    public static WebApplication Build(DaemonOptions o)
    {
        // RFC 9112 lets a server accept a bare LF as a line end; the control API does not (issue #13: only requests it
        // fully understood are acted on). Kestrel reads this switch when its options are created, below.
        AppContext.SetSwitch("Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators", true);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Serilog.Extensions.Hosting: the host's ILoggerFactory is Serilog's, writing through the logger Program built
        // (the same pipeline logs before the host exists; Program disposes it, so the host must not).
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(o.Logger, dispose: false);

        var cfg = o.Config;
        // SIGTERM drains: allow the drain wait plus margin before the host gives up on stopping services.
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = cfg.Drain.ShutdownTimeout + TimeSpan.FromSeconds(5));
        // Anything ASP.NET Core serializes on its own resolves through the contract's generated context, not reflection.
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.TypeInfoResolverChain.Insert(0, ControlApiJson.Default));
        builder.Services.AddSingleton(o.Time);
        builder.Services.AddSingleton(o.Ports);
        builder.Services.AddSingleton(o.Notify);
        builder.Services.AddSingleton(o.Systemd ?? new SystemdNotifier());
        builder.Services.AddSingleton(sp => new EventTimeline(o.EventCapacity, o.Time));
        builder.Services.AddSingleton<DaemonMetrics>();
        builder.Services.AddSingleton<DaemonState>();
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddSingleton(sp => new ConfigStore(o.ConfigPath, cfg, sp.GetRequiredService<ILogger<ConfigStore>>(),
            sp.GetRequiredService<EventTimeline>(), sp.GetRequiredService<DaemonMetrics>()));
        builder.Services.AddSingleton<ChangeWriter>();
        builder.Services.AddSingleton<Handoff.ExitIntent>();
        builder.Services.AddSingleton<LeaseFdStore>();
        builder.Services.AddSingleton<Handoff.HandoffService>();
        builder.Services.AddSingleton<VipService>();
        builder.Services.AddSingleton<SessionWatchdogService>();
        builder.Services.AddSingleton(o.Forwarding ?? new ProcSysForwardingSource());
        builder.Services.AddSingleton<NodeFindings>();
        builder.Services.AddSingleton<ForwardingService>();
        builder.Services.AddSingleton<ApiContext>();
        // Start order = registration order; stop order is the reverse, so the VIP loop drains through the
        // writer before the writer stops.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ChangeWriter>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VipService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionWatchdogService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ForwardingService>());
        builder.Services.AddHostedService<SystemdService>();

        // Bound here, with its final mode and group before anyone can reach it (see UnixSocketFile); Kestrel serves the handle.
        var apiSocket = UnixSocketFile.BindListening(cfg.Api.Socket, cfg.Api.Mode, cfg.Api.Group);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenHandle((ulong)apiSocket.SafeHandle.DangerousGetHandle());
            if (cfg.Metrics is { } m) k.Listen(m.Listen);
        });

        var app = builder.Build();
        app.Use(ControlApi.SeparateListeners);
        app.Use(StrictRequests.Middleware);
        ControlApi.Map(app);

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Overlay.Daemon");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            Log.ApiListening(logger, cfg.Api.Socket, Convert.ToString(cfg.Api.Mode, 8).PadLeft(4, '0'), cfg.Api.Group ?? "(owner's)");
            if (cfg.Metrics is { } m) Log.MetricsListening(logger, m.Listen.ToString());
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            try { UnixSocketFile.RemoveAtStop(cfg.Api.Socket); } catch (IOException) { }
            apiSocket.Dispose();
        });
        return app;
    }
}
