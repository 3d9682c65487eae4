using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Overlay.Core.Model;

namespace Overlay.Lab.Demo;

/// <summary>"overlay-lab demo two-routers": two FRR routers over wireguard-go (OSPF + BFD + eBGP), converged and printed.</summary>
internal static class TwoRouterDemo
{
    public static async Task<int> RunAsync(ILogger log, CancellationToken ct)
    {
        var d = LabRecipes.TwoRoutersOverWireGuard();
        var total = Stopwatch.StartNew();
        await using var lab = await RunningLab.StartAsync(d.Topology, log, ct: ct);
        Console.WriteLine($"lab {lab.RunId} up in {total.ElapsedMilliseconds} ms  (namespaces {d.R1.Namespace}, {d.R2.Namespace}; files in {lab.RunDirectory})");
        foreach (var (step, took) in lab.StartupTimings) Console.WriteLine($"  {step,-20} {took.TotalMilliseconds,7:0} ms");

        var r1 = lab.Router(d.R1);
        var r2 = lab.Router(d.R2);
        var converge = Stopwatch.StartNew();
        var timeout = TimeSpan.FromSeconds(60);
        var tasks = new (string What, Task<TimeSpan> Took)[]
        {
            ("OSPF neighbor Full (vty)", Poll.UntilAsync("OSPF Full on r1", async c =>
                (await r1.Show.GetOspfNeighborsAsync(c)).Any(n => n.IsFull), timeout, ct: ct)),
            ("BFD session up (gRPC)", Poll.UntilAsync("BFD up on r1", async c =>
                (await r1.Routing.GetBfdSessionsAsync(c)).Any(s => s.IsUp), timeout, TimeSpan.FromMilliseconds(50), ct)),
            ("eBGP Established (vty)", Poll.UntilAsync("BGP Established on r1", async c =>
                (await r1.Show.GetBgpSummaryAsync(c)).AllPeers.Any(p => p.Established), timeout, ct: ct)),
            ($"VIP {d.Vip} in r2's kernel", Poll.UntilAsync("VIP at r2", async c =>
                (await lab.KernelRouteAsync(d.R2, d.Vip, c)).Contains("proto bgp", StringComparison.Ordinal), timeout, ct: ct)),
            ("r1 loopback via OSPF at r2", Poll.UntilAsync("OSPF route at r2", async c =>
                (await lab.KernelRouteAsync(d.R2, "10.0.0.1/32", c)).Contains("proto ospf", StringComparison.Ordinal), timeout, ct: ct)),
        };
        Console.WriteLine();
        Console.WriteLine("convergence (from lab up):");
        foreach (var (what, took) in tasks)
            Console.WriteLine($"  {what,-34} {(await took).TotalMilliseconds,7:0} ms");
        Console.WriteLine($"  {"all converged",-34} {converge.ElapsedMilliseconds,7} ms");

        foreach (var (node, router) in new[] { (d.R1, r1), (d.R2, r2) })
        {
            Console.WriteLine();
            Console.WriteLine($"== {node.Name} ({node.Namespace}) ==");
            Console.WriteLine("OSPF neighbors:");
            foreach (var n in await router.Show.GetOspfNeighborsAsync())
                Console.WriteLine($"  {n.RouterId,-12} {n.StateText,-14} {n.Interface} {n.Address} dead in {n.DeadTimerDue?.TotalMilliseconds:0} ms");
            Console.WriteLine("BGP summary:");
            foreach (var p in (await router.Show.GetBgpSummaryAsync()).AllPeers)
                Console.WriteLine($"  {p.Family,-12} {p.Neighbor,-12} AS {p.RemoteAs,-6} {p.State,-12} up {p.Uptime?.TotalMilliseconds:0} ms, prefixes received {p.PrefixesReceived}");
            Console.WriteLine("BFD sessions (gRPC):");
            foreach (var s in await router.Routing.GetBfdSessionsAsync())
                Console.WriteLine($"  {s.Peer,-12} {s.State,-6} {s.Interface} tx {s.NegotiatedTransmitInterval?.TotalMilliseconds:0} ms rx {s.NegotiatedReceiveInterval?.TotalMilliseconds:0} ms");
            Console.WriteLine("zebra RIB (gRPC):");
            foreach (var e in (await router.Routing.GetRibAsync()).Where(e => !e.Prefix.IsIPv6 && e.Protocol != "local"))
                Console.WriteLine($"  {e.Prefix,-18} {e.Protocol,-10} [{e.Distance}/{e.Metric}]{(e.Selected ? " selected" : "")}{(e.Installed ? " installed" : "")} via {string.Join(", ", e.Nexthops.Select(n => n.Gateway?.ToString() ?? n.Interface ?? n.Type))}");
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
