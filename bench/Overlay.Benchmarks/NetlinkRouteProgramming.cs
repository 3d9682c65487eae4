using System.Diagnostics;
using System.Globalization;
using System.Text;
using Overlay.Core.Net;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Rtnetlink;

namespace Overlay.Benchmarks;

/// <summary>
/// Harness (not BenchmarkDotNet: every sample needs a fresh namespace and takes ~1 s, and the whole run
/// must stay within a few minutes): programs N /32 routes into a fresh network namespace with the
/// batched rtnetlink writer and with <c>ip -batch</c> of the same N <c>route add</c> lines, alternating,
/// and prints medians. Needs root. Usage: <c>overlay-benchmarks netlink-routes [routes] [runs]</c>.
/// </summary>
public static class NetlinkRouteProgramming
{
    private const uint Table = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        string runId = Guid.NewGuid().ToString("N")[..6];
        var prefixes = Enumerable.Range(0, count)
            .Select(i => IpPrefix.Parse($"10.{64 + i / 65536}.{i / 256 % 256}.{i % 256}/32")).ToList();
        string batchFile = Path.Combine(Path.GetTempPath(), $"ovl-bench-{runId}.batch");
        File.WriteAllText(batchFile, string.Concat(prefixes.Select(p => $"route add {p} dev v0 table {Table} proto 98\n")));

        var ours = new List<double>();
        var ip = new List<double>();
        try
        {
            await MeasureOursAsync(prefixes.Take(1000).ToList(), $"ovlb-{runId}-w"); // warm-up: JIT, not recorded
            for (int run = 1; run <= runs; run++)
            {
                ours.Add(await MeasureOursAsync(prefixes, $"ovlb-{runId}-o{run}"));
                ip.Add(MeasureIpBatch(batchFile, count, $"ovlb-{runId}-i{run}"));
                Console.WriteLine($"run {run}: batched writer {ours[^1]:F0} ms, ip -batch {ip[^1]:F0} ms");
            }
        }
        finally
        {
            File.Delete(batchFile);
        }

        double mo = Median(ours), mi = Median(ip);
        Console.WriteLine();
        Console.WriteLine($"routes: {count}, runs: {runs} each (alternating)");
        Console.WriteLine($"batched rtnetlink writer: median {mo:F0} ms  (runs: {string.Join(", ", ours.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})");
        Console.WriteLine($"ip -batch:                median {mi:F0} ms  (runs: {string.Join(", ", ip.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})");
        Console.WriteLine($"ratio (ip -batch / writer): {mi / mo:F2}x");
        Console.WriteLine($"machine: nproc {Environment.ProcessorCount}, {CpuModel()}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}");
        return 0;
    }

    private static async Task<double> MeasureOursAsync(IReadOnlyList<IpPrefix> prefixes, string name)
    {
        using var scope = new BenchNamespace(name);
        using var ns = NetNamespace.Open(name);
        int oif = scope.IfIndex("v0");
        var changes = prefixes.Select(p => new RouteChange(RouteOperation.Add, new KernelRoute
        {
            Destination = p, Table = Table, OutputInterface = oif, Scope = RouteScope.Link,
        })).ToList();

        var sw = Stopwatch.StartNew();
        using (var client = RtnetlinkClient.Open(ns))
        {
            var result = await client.Routes.ApplyAsync(changes);
            sw.Stop();
            if (!result.IsSuccess) throw new InvalidOperationException($"batched writer failed: {result.Failures[0]}");
        }
        scope.VerifyRouteCount(prefixes.Count);
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double MeasureIpBatch(string batchFile, int count, string name)
    {
        using var scope = new BenchNamespace(name);
        var sw = Stopwatch.StartNew();
        var (code, _, stderr) = BenchNamespace.Exec("ip", "-n", name, "-batch", batchFile);
        sw.Stop();
        if (code != 0) throw new InvalidOperationException($"ip -batch failed: {stderr}");
        scope.VerifyRouteCount(count);
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    /// <summary>A fresh namespace with a veth v0 (up) for the routes' device; deleted on dispose.</summary>
    private sealed class BenchNamespace : IDisposable
    {
        private readonly string _name;

        public BenchNamespace(string name)
        {
            _name = name;
            Check(Exec("ip", "netns", "add", name));
            Check(Exec("ip", "-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1"));
            Check(Exec("ip", "-n", name, "link", "set", "v0", "up"));
            Check(Exec("ip", "-n", name, "link", "set", "v1", "up"));
        }

        public int IfIndex(string dev)
        {
            var (_, stdout, _) = Exec("ip", "-n", _name, "-o", "link", "show", "dev", dev);
            return int.Parse(stdout.Split(':', 2)[0].Trim(), CultureInfo.InvariantCulture);
        }

        public void VerifyRouteCount(int expected)
        {
            var (_, stdout, _) = Exec("ip", "-n", _name, "route", "show", "table", Table.ToString(CultureInfo.InvariantCulture));
            int lines = stdout.Count(c => c == '\n');
            if (lines != expected) throw new InvalidOperationException($"netns {_name} has {lines} routes in table {Table}; expected {expected}");
        }

        public void Dispose() => Exec("ip", "netns", "del", _name);

        private static void Check((int Code, string Stdout, string Stderr) r)
        {
            if (r.Code != 0) throw new InvalidOperationException(r.Stderr);
        }

        public static (int Code, string Stdout, string Stderr) Exec(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr);
        }
    }
}
