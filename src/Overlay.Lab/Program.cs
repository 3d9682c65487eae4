using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Overlay.Lab;
using Overlay.Lab.Demo;
using Overlay.Lab.Scenarios;

// overlay-lab: the lab's demos (anycast, hub failover, two routers) and the sweeper for leftovers of crashed runs.
var log = new LineLogger(Console.Error.WriteLine, args.Contains("-v") ? LogLevel.Debug : LogLevel.Information);
string command = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "help";
switch (command)
{
    case "demo":
    {
        // "demo" alone tells both stories, anycast then hub, each in its own lab.
        string? which = args.Where(a => !a.StartsWith('-')).Skip(1).FirstOrDefault();
        string[] scenarios = which switch
        {
            null => ["anycast", "hub"],
            "anycast" or "hub" or "two-routers" => [which],
            _ => [],
        };
        if (scenarios.Length == 0)
        {
            Console.Error.WriteLine($"overlay-lab demo: unknown demo '{which}'; choose anycast, hub or two-routers (or none for anycast then hub)");
            return 2;
        }
        if (LabPreflight.MissingRequirements() is { } missing)
        {
            Console.Error.WriteLine($"overlay-lab demo: cannot run: {missing}");
            return 2;
        }
        if (scenarios.Any(s => s != "two-routers") && OverlaydBinary.Find() is null)
        {
            Console.Error.WriteLine($"overlay-lab demo: cannot run: overlayd.dll not found (build it: dotnet build src/Overlay.Daemon, or set {OverlaydBinary.EnvironmentVariable})");
            return 2;
        }
        if (scenarios.Contains("hub") && Overlayctl.Find() is null)
        {
            Console.Error.WriteLine($"overlay-lab demo: cannot run: overlayctl.dll not found (build it: dotnet build src/Overlay.Cli, or set {Overlayctl.EnvironmentVariable})");
            return 2;
        }
        LabSweeper.Sweep(log);
        // Ctrl-C or SIGTERM cancels the demo; "await using" then still tears the lab down.
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var took = new List<(string Demo, TimeSpan Took)>();
        foreach (var scenario in scenarios)
        {
            var sw = Stopwatch.StartNew();
            if (took.Count > 0) Console.WriteLine();
            try
            {
                int code = scenario switch
                {
                    "two-routers" => await TwoRouterDemo.RunAsync(log, stop.Token),
                    "anycast" => await new AnycastDemo(Console.Out, log).RunAsync(stop.Token),
                    _ => await new HubDemo(Console.Out, log).RunAsync(stop.Token),
                };
                if (code != 0) return code;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.Error.WriteLine($"overlay-lab demo {scenario}: interrupted; lab torn down");
                return 130;
            }
            catch (Exception e) when (e is TimeoutException or LabException)
            {
                // Expected failures of a live lab (something did not converge, a process died): the message says what and where to look.
                Console.Error.WriteLine($"overlay-lab demo {scenario}: FAILED after {sw.Elapsed.TotalSeconds:0.0} s: {e.Message}");
                Console.Error.WriteLine("(lab torn down; run with -v for the lab's log)");
                return 1;
            }
            took.Add((scenario, sw.Elapsed));
        }
        if (took.Count > 1)
            Console.WriteLine($"\ndemo done: {string.Join(", ", took.Select(t => $"{t.Demo} {t.Took.TotalSeconds:0.0} s"))}; total {took.Sum(t => t.Took.TotalSeconds):0.0} s");
        return 0;
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
            usage: overlay-lab demo [-v]               the anycast demo, then the hub demo (each in its own lab, torn down after)
                   overlay-lab demo anycast [-v]       anycast VIP at two sites with overlayd: break site 1 (wireguard-go, overlayd), print the timeline
                   overlay-lab demo hub [-v]           two hubs, two spokes, OSPF + BFD, overlayd on the spokes: cut hub 1's underlay, print the
                                                       timeline (BFD, route move, overlayctl explain), repair, print again
                   overlay-lab demo two-routers [-v]   two FRR routers over a wireguard-go tunnel (OSPF + BFD + eBGP): converge, print, tear down
                   overlay-lab sweep                   remove namespaces, processes, sockets and folders of lab runs whose process is gone
            All need root; the demos need FRR with its gRPC module and wireguard-go (run frr/install.sh), and built overlayd/overlayctl.
            """);
        return command == "help" ? 0 : 2;
}
