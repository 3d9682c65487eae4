using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Overlay.Lab;
using Overlay.Lab.Demo;
using Overlay.Lab.Scenarios;

// overlay-lab: the anycast demo (and a two-router demo) of the lab, and the sweeper for leftovers of crashed runs.
var log = new LineLogger(Console.Error.WriteLine, args.Contains("-v") ? LogLevel.Debug : LogLevel.Information);
string command = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "help";
switch (command)
{
    case "demo":
    {
        bool twoRouters = args.Contains("two-routers");
        if (LabPreflight.MissingRequirements() is { } missing)
        {
            Console.Error.WriteLine($"overlay-lab demo: cannot run: {missing}");
            return 2;
        }
        if (!twoRouters && OverlaydBinary.Find() is null)
        {
            Console.Error.WriteLine($"overlay-lab demo: cannot run: overlayd.dll not found (build it: dotnet build src/Overlay.Daemon, or set {OverlaydBinary.EnvironmentVariable})");
            return 2;
        }
        LabSweeper.Sweep(log);
        // Ctrl-C or SIGTERM cancels the demo; "await using" then still tears the lab down.
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            return twoRouters ? await TwoRouterDemo.RunAsync(log, stop.Token) : await new AnycastDemo(Console.Out, log).RunAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("overlay-lab demo: interrupted; lab torn down");
            return 130;
        }
    }
    case "sweep":
        if (!LabPreflight.IsRoot)
        {
            Console.Error.WriteLine("overlay-lab sweep: must run as root (it deletes network namespaces and kills lab processes)");
            return 2;
        }
        var report = LabSweeper.Sweep(log);
        foreach (var r in report.Removed) Console.WriteLine("removed " + r);
        foreach (var f in report.Failures) Console.Error.WriteLine("FAILED  " + f);
        Console.WriteLine(report.RunIds.Count == 0 ? "nothing to sweep" : $"swept {report.RunIds.Count} run(s): {string.Join(", ", report.RunIds)}");
        return report.Clean ? 0 : 1;
    default:
        Console.Error.WriteLine("""
            usage: overlay-lab demo [-v]   anycast VIP at two sites with overlayd: break site 1 (wireguard-go, overlayd), print the timeline, tear down
                   overlay-lab demo two-routers [-v]   two FRR routers over a wireguard-go tunnel (OSPF + BFD + eBGP): converge, print, tear down
                   overlay-lab sweep       remove namespaces, processes, sockets and folders of lab runs whose process is gone
            Both need root; the demo needs FRR with its gRPC module and wireguard-go (run frr/install.sh).
            """);
        return command == "help" ? 0 : 2;
}
