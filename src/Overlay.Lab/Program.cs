using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Overlay.Lab;

// overlay-lab: a two-router demo of the lab, and the sweeper for leftovers of crashed runs.
var log = new LineLogger(Console.Error.WriteLine, args.Contains("-v") ? LogLevel.Debug : LogLevel.Information);
string command = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "help";
switch (command)
{
    case "demo":
        if (LabPreflight.MissingRequirements() is { } missing)
        {
            Console.Error.WriteLine($"overlay-lab demo: cannot run: {missing}");
            return 2;
        }
        LabSweeper.Sweep(log);
        return await Demo.RunAsync(log);
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
            usage: overlay-lab demo [-v]   two FRR routers over a wireguard-go tunnel (OSPF + BFD + eBGP): bring up, converge, print, tear down
                   overlay-lab sweep       remove namespaces, processes, sockets and folders of lab runs whose process is gone
            Both need root; the demo needs FRR with its gRPC module and wireguard-go (run frr/install.sh).
            """);
        return command == "help" ? 0 : 2;
}

internal static class Demo
{
    public static async Task<int> RunAsync(ILogger log)
    {
        var d = LabRecipes.TwoRoutersOverWireGuard();
        var total = Stopwatch.StartNew();
        await using var lab = await RunningLab.StartAsync(d.Topology, log);
        Console.WriteLine($"lab {lab.RunId} up in {total.ElapsedMilliseconds} ms  (namespaces {d.R1.Namespace}, {d.R2.Namespace}; files in {lab.RunDirectory})");
        foreach (var (step, took) in lab.StartupTimings) Console.WriteLine($"  {step,-20} {took.TotalMilliseconds,7:0} ms");

        var converge = Stopwatch.StartNew();
        var timeout = TimeSpan.FromSeconds(60);
        var tasks = new (string What, Task<TimeSpan> Took)[]
        {
            ("OSPF neighbor Full", Poll.UntilAsync("OSPF Full on r1", async c =>
                (await lab.OspfNeighborsAsync(d.R1, c)).Any(n => n.State.StartsWith("Full", StringComparison.Ordinal)), timeout)),
            ("BFD session up", Poll.UntilAsync("BFD up on r1", async c =>
                (await lab.BfdPeersAsync(d.R1, c)).Any(p => p.Status == "up"), timeout)),
            ("eBGP Established", Poll.UntilAsync("BGP Established on r1", async c =>
                (await lab.BgpPeersAsync(d.R1, c)).Any(p => p.State == "Established"), timeout)),
            ($"VIP {d.Vip} in r2's kernel", Poll.UntilAsync("VIP at r2", async c =>
                (await lab.KernelRouteAsync(d.R2, d.Vip, c)).Contains("proto bgp", StringComparison.Ordinal), timeout)),
            ("r1 loopback via OSPF at r2", Poll.UntilAsync("OSPF route at r2", async c =>
                (await lab.KernelRouteAsync(d.R2, "10.0.0.1/32", c)).Contains("proto ospf", StringComparison.Ordinal), timeout)),
        };
        Console.WriteLine();
        Console.WriteLine("convergence (from lab up):");
        foreach (var (what, took) in tasks)
            Console.WriteLine($"  {what,-34} {(await took).TotalMilliseconds,7:0} ms");
        Console.WriteLine($"  {"all converged",-34} {converge.ElapsedMilliseconds,7} ms");

        foreach (var node in new[] { d.R1, d.R2 })
        {
            Console.WriteLine();
            Console.WriteLine($"== {node.Name} ({node.Namespace}) ==");
            Console.WriteLine("OSPF neighbors:");
            foreach (var n in await lab.OspfNeighborsAsync(node))
                Console.WriteLine($"  {n.RouterId,-12} {n.State,-14} {n.Interface} {n.Address}");
            Console.WriteLine("BGP summary (ipv4 unicast):");
            foreach (var p in await lab.BgpPeersAsync(node))
                Console.WriteLine($"  {p.Peer,-12} {p.State,-12} prefixes received {p.PrefixesReceived}");
            Console.WriteLine("BFD sessions:");
            foreach (var p in await lab.BfdPeersAsync(node))
                Console.WriteLine($"  {p.Peer,-12} {p.Status,-6} {p.Interface} up {p.UptimeSeconds} s");
            Console.WriteLine("kernel routes:");
            foreach (var line in (await lab.ExecAsync(node, "ip -4 route show")).StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                Console.WriteLine("  " + line);
        }

        var down = Stopwatch.StartNew();
        await lab.DisposeAsync();
        Console.WriteLine();
        Console.WriteLine($"torn down in {down.ElapsedMilliseconds} ms ({lab.TeardownReport?.Removed.Count} items removed{(lab.TeardownReport?.Clean == false ? ", with failures: " + string.Join("; ", lab.TeardownReport.Failures) : "")})");
        return lab.TeardownReport?.Clean == false ? 1 : 0;
    }
}
