using System.Runtime.InteropServices;
using Overlay.Daemon.Config;
using Overlay.Daemon.Hosting;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Handoff;
using Serilog;
using Serilog.Formatting.Json;

// overlayd runs on Linux only (netlink, TUN, FRR).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// overlayd --config /etc/overlay/overlayd.yaml [--check]
string? configPath = null;
bool checkOnly = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--config" when i + 1 < args.Length: configPath = args[++i]; break;
        case "--check": checkOnly = true; break;
        case "-h" or "--help":
            Console.WriteLine("usage: overlayd --config PATH [--check]\n  --check  validate the configuration and exit (0 = valid, 2 = errors)");
            return 0;
        default:
            Console.Error.WriteLine($"overlayd: unknown argument '{args[i]}'; usage: overlayd --config PATH [--check]");
            return 64;
    }
}
if (configPath is null)
{
    Console.Error.WriteLine("overlayd: --config PATH is required (the node's overlayd.yaml, written by 'overlayctl render')");
    return 64;
}

var load = ConfigStore.LoadFile(configPath);
if (!load.Ok)
{
    foreach (var e in load.Errors) Console.Error.WriteLine(e);
    Console.Error.WriteLine($"overlayd: {load.Errors.Count} error(s) in {configPath}; not starting");
    return 2;
}
if (checkOnly)
{
    Console.WriteLine($"{configPath}: ok");
    return 0;
}

// Humans read a terminal; journald and collectors get one JSON object per line.
var logConfig = new LoggerConfiguration().MinimumLevel.Information()
    .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning) // no per-request lines
    // "Now listening on" would name the socket's private staging path (see UnixSocketFile); overlayd says where it listens.
    .MinimumLevel.Override("Microsoft.Hosting.Lifetime", Serilog.Events.LogEventLevel.Warning)
    .Enrich.FromLogContext();
// Grpc.Net.Client logs each failed call itself; the retrying caller says it once (FailureLog), so only its warnings pass.
logConfig = logConfig.MinimumLevel.Override("Grpc", Serilog.Events.LogEventLevel.Warning);
logConfig = Console.IsOutputRedirected
    ? logConfig.WriteTo.Console(new JsonFormatter(renderMessage: true))
    : logConfig.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}");
using var logger = logConfig.CreateLogger();

// Lease fds from the previous process: over its hand-off socket (SIGUSR2 / overlayctl restart), or from the
// service manager's fd store (LISTEN_FDS). Neither variable may reach a process this one starts.
string? handoffPath = Environment.GetEnvironmentVariable(HandoffService.SocketVariable);
Environment.SetEnvironmentVariable(HandoffService.SocketVariable, null);
HandoffService.Incoming? incoming = null;
InheritedLeases inherited;
if (!string.IsNullOrEmpty(handoffPath))
{
    try { incoming = HandoffService.Connect(handoffPath); }
    catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or FormatException)
    {
        logger.Fatal(ex, "hand-off: could not receive the lease fds from {Path}", handoffPath);
        return 1;
    }
    inherited = incoming.Leases;
}
else
{
    inherited = InheritedLeases.FromListenFds(out var problem);
    if (problem is not null) logger.Warning("inherited fds: {Problem}", problem);
}

Overlay.Daemon.Ports.DaemonPorts ports;
try
{
    ports = PlatformPorts.Create(load.Config!, logger, inherited);
}
catch (PlatformNotSupportedException ex)
{
    logger.Fatal(ex, "cannot start");
    incoming?.Refuse(ex.Message);
    return 3;
}

if (incoming is not null)
{
    // Ready for a hand-off = config valid (above), every lease fd is the TUN it is named after, FRR answers.
    // Only then may the previous process exit; we start serving once it has (EOF on the hand-off socket).
    var why = await HandoffPreflight.CheckAsync(incoming.Leases, ports);
    if (why is not null)
    {
        logger.Fatal("hand-off refused: {Reason}", why);
        incoming.Refuse(why);
        return 1;
    }
    incoming.Ready();
    logger.Information("hand-off: ready ({Count} lease fd(s) from pid {From}); waiting for it to exit", incoming.Leases.Names.Count, incoming.FromPid);
    if (!incoming.WaitForPreviousExit(TimeSpan.FromSeconds(60)))
        logger.Warning("hand-off: pid {From} has not exited after 60 s; starting anyway", incoming.FromPid);
    incoming.Dispose();
}

Microsoft.AspNetCore.Builder.WebApplication app;
try
{
    app = DaemonHost.Build(new DaemonOptions(configPath, load.Config!, ports, TimeProvider.System, logger, SdNotify.FromEnvironment())
    {
        Systemd = new Microsoft.Extensions.Hosting.Systemd.SystemdNotifier(),
    });
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
{
    // The control socket: served by another live overlayd, something other than a stale socket at its path, a
    // missing group. The message names the path and the fix; a stack trace would add nothing.
    logger.Fatal("cannot start: {Reason}", ex.Message);
    return 1;
}
var store = app.Services.GetRequiredService<ConfigStore>();
var vips = app.Services.GetRequiredService<VipService>();
// A start under nohup inherits SIGHUP as ignored, and .NET would then never deliver it: reload must still work.
foreach (var (signal, name) in new[] { (1, "SIGHUP"), (10, "SIGUSR1"), (12, "SIGUSR2") })
    if (Overlay.Linux.Interop.Libc.UnignoreSignal(signal))
        logger.Warning("{Signal} was inherited as ignored (started under nohup?); restored so that it works", name);
// SIGHUP reloads; a bad file keeps the last good configuration (ConfigStore logs every error).
using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
{
    ctx.Cancel = true;
    if (store.Reload().Ok) vips.Wake();
});
var exit = app.Services.GetRequiredService<ExitIntent>();
var handoff = app.Services.GetRequiredService<HandoffService>();
var notify = app.Services.GetRequiredService<SdNotify>();
// SIGUSR2: restart without a flap (start the binary on disk, hand it the leases, exit once it is ready).
using var usr2 = PosixSignalRegistration.Create((PosixSignal)12, ctx =>
{
    ctx.Cancel = true;
    _ = handoff.HandOffAsync("SIGUSR2", CancellationToken.None);
});
// SIGUSR1 is the unit's RestartKillSignal: the service manager keeps the lease fds (FDSTORE) and starts the next
// process with them, so exit without withdrawing. Without a service manager nobody would keep them: drain instead.
using var usr1 = PosixSignalRegistration.Create((PosixSignal)10, ctx =>
{
    ctx.Cancel = true;
    if (notify.Enabled) exit.HandOver("restart by the service manager (SIGUSR1): lease fds kept in its fd store");
    else logger.Warning("SIGUSR1 without a service manager (no NOTIFY_SOCKET): nobody keeps the leases, draining as for SIGTERM");
    app.Lifetime.StopApplication();
});
await app.RunAsync();
return 0;
