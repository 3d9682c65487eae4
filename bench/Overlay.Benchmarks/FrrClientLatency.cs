using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Lab;

namespace Overlay.Benchmarks;

/// <summary>
/// Latency of the FRR northbound client against real FRR 8.4.4 (zebra + staticd with the gRPC module) in a lab
/// namespace, comparing two builds of this harness in the same run (e.g. main's build = before, this tree = after).
/// <para>
/// <c>frr-latency ROUNDS OPS BEFORE_DLL</c> (root) starts one lab node, then per round runs a worker process of each
/// build inside the node's namespace (<c>ip netns exec NS dotnet DLL frr-latency-worker OPS</c>: plain TCP to
/// 127.0.0.1 as overlayd connects on a node), alternating which build goes first. Prints every round and the medians.
/// </para>
/// <para>
/// <c>frr-latency-worker OPS</c> (the measured process): the client as overlayd builds it
/// (<c>new FrrRouting(new NorthboundClientFactory(FrrEndpoints.Default))</c>), then
/// first = process start → first VIP commit done (channel, connect, JIT);
/// 20 warm-up rounds; then OPS rounds of: advertise a blackhole VIP (candidate → edit → commit ALL → delete),
/// withdraw it (same four RPCs), and read zebra's RIB (Get /frr-vrf:lib + parse: what <c>explain</c> asks FRR).
/// Prints one line per measure: <c>NAME us us us ...</c>.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
public static class FrrClientLatency
{
    private const int WarmUp = 20;
    private static readonly IpPrefix Vip = IpPrefix.Parse("203.0.113.123/32");
    private static readonly string[] Measures = ["first", "commit-add", "commit-remove", "rib-read"];

    public static async Task<int> WorkerAsync(string[] args)
    {
        int ops = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var start = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        using var factory = new NorthboundClientFactory(FrrEndpoints.Default);
        var routing = new FrrRouting(factory);

        await routing.AddVipRouteAsync(Vip, StaticNexthop.Blackhole);
        var first = (DateTime.UtcNow - start).TotalMicroseconds;
        await routing.RemoveVipRouteAsync(Vip);

        for (var i = 0; i < WarmUp; i++)
        {
            await routing.AddVipRouteAsync(Vip, StaticNexthop.Blackhole);
            await routing.RemoveVipRouteAsync(Vip);
            await routing.GetRibAsync();
        }

        var add = new List<double>(ops);
        var remove = new List<double>(ops);
        var rib = new List<double>(ops);
        for (var i = 0; i < ops; i++)
        {
            var t = Stopwatch.GetTimestamp();
            if (!(await routing.AddVipRouteAsync(Vip, StaticNexthop.Blackhole)).Changed)
                throw new InvalidOperationException("advertise changed nothing");
            add.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            t = Stopwatch.GetTimestamp();
            if (!(await routing.RemoveVipRouteAsync(Vip)).Changed)
                throw new InvalidOperationException("withdraw changed nothing");
            remove.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            t = Stopwatch.GetTimestamp();
            await routing.GetRibAsync();
            rib.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }

        Console.WriteLine("first " + first.ToString("0", CultureInfo.InvariantCulture));
        Console.WriteLine("commit-add " + string.Join(' ', add.Select(v => v.ToString("0", CultureInfo.InvariantCulture))));
        Console.WriteLine("commit-remove " + string.Join(' ', remove.Select(v => v.ToString("0", CultureInfo.InvariantCulture))));
        Console.WriteLine("rib-read " + string.Join(' ', rib.Select(v => v.ToString("0", CultureInfo.InvariantCulture))));
        return 0;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: frr-latency ROUNDS OPS BEFORE_DLL   (root; BEFORE_DLL = another build's Overlay.Benchmarks.dll)");
            return 2;
        }
        int rounds = int.Parse(args[0], CultureInfo.InvariantCulture);
        int ops = int.Parse(args[1], CultureInfo.InvariantCulture);
        string before = Path.GetFullPath(args[2]);
        string after = typeof(FrrClientLatency).Assembly.Location;
        if (!File.Exists(before))
        {
            Console.Error.WriteLine($"frr-latency: {before} does not exist");
            return 2;
        }
        if (LabPreflight.MissingRequirements() is { } why)
        {
            Console.Error.WriteLine("frr-latency: cannot run: " + why);
            return 2;
        }

        var topo = new LabTopology();
        var n = topo.AddNode("n");
        n.WithFrr(FrrDaemon.Zebra, "hostname n\n");
        n.WithFrr(FrrDaemon.Staticd, "");
        await using var lab = await RunningLab.StartAsync(topo);
        Console.WriteLine($"lab {topo.RunId}, namespace {n.Namespace}; {rounds} rounds x {ops} ops per build; before {before}; after {after}");
        Console.WriteLine($"machine: nproc {Environment.ProcessorCount}, load average at start {LoadAverage()}, .NET {Environment.Version}");

        var results = new Dictionary<string, Dictionary<string, List<double>>>
        {
            ["before"] = Measures.ToDictionary(m => m, _ => new List<double>()),
            ["after"] = Measures.ToDictionary(m => m, _ => new List<double>()),
        };
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? new[] { ("before", before), ("after", after) } : new[] { ("after", after), ("before", before) };
            foreach (var (name, dll) in order)
            {
                var lines = await RunWorkerAsync(n.Namespace, dll, ops);
                var medians = new List<string>();
                foreach (var measure in Measures)
                {
                    var values = lines[measure];
                    results[name][measure].AddRange(values);
                    medians.Add($"{measure} {Median(values) / 1000:0.00} ms");
                }
                Console.WriteLine($"round {round + 1} {name,-6}: {string.Join(", ", medians)}; load {LoadAverage()}");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| measure | before median (p90) | after median (p90) | after / before (median) |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var measure in Measures)
        {
            var b = results["before"][measure];
            var a = results["after"][measure];
            Console.WriteLine($"| {measure} | {Median(b) / 1000:0.000} ms ({Percentile(b, 0.9) / 1000:0.000}) | " +
                              $"{Median(a) / 1000:0.000} ms ({Percentile(a, 0.9) / 1000:0.000}) | {Median(a) / Median(b):0.00} |");
        }
        Console.WriteLine($"load average at end {LoadAverage()}");
        return 0;
    }

    private static async Task<Dictionary<string, List<double>>> RunWorkerAsync(string ns, string dll, int ops)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", ns, "dotnet", dll, "frr-latency-worker", ops.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start ip netns exec");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"worker {dll} exited {process.ExitCode}: {await stderr}");
        return (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => Measures.Contains(p[0]))
            .ToDictionary(p => p[0], p => p.Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList());
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * (sorted.Count - 1) + 0.5))];
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
