using System.Runtime.InteropServices;
using Overlay.Daemon.Config;
using Overlay.Daemon.Hosting;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Anycast;
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
logConfig = Console.IsOutputRedirected
    ? logConfig.WriteTo.Console(new JsonFormatter(renderMessage: true))
    : logConfig.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}");
using var logger = logConfig.CreateLogger();

Overlay.Daemon.Ports.DaemonPorts ports;
try
{
    ports = PlatformPorts.Create(load.Config!, logger);
}
catch (PlatformNotSupportedException ex)
{
    logger.Fatal(ex, "cannot start");
    return 3;
}

Microsoft.AspNetCore.Builder.WebApplication app;
try
{
    app = DaemonHost.Build(new DaemonOptions(configPath, load.Config!, ports, TimeProvider.System, logger, SdNotify.FromEnvironment()));
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
// SIGHUP reloads; a bad file keeps the last good configuration (ConfigStore logs every error).
using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
{
    ctx.Cancel = true;
    if (store.Reload().Ok) vips.Wake();
});
await app.RunAsync();
return 0;
