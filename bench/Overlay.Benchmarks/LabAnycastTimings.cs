using System.Globalization;
using Overlay.Core.Net;
using Overlay.Frr.Routing;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Overlay.Core.Events;

namespace Overlay.Benchmarks;

/// <summary>
/// Lab timing harness (not BenchmarkDotNet: one sample is a fault in a live lab and takes seconds): brings the
/// anycast lab up once (real FRR, wireguard-go, overlayd) and, per run, measures fault at site 1 -> the
/// upstream's kernel route for the VIP moved to site 2 (timestamped by "ip monitor route" in the upstream),
/// then repairs and waits for site 1 to be preferred again. Prints every sample and the medians, each with
/// its baseline from the same run: staticd route removal over gRPC -> upstream kernel, for a prefix no
/// overlayd owns (<see cref="AnycastTopology.CalibrationPrefix"/>).
/// Silent tunnel death is measured at the lab's BFD timers (100 ms x 3, the baseline) and at fast ones in every run,
/// split into bfdd's detection (its log), overlayd's reaction (its Writer event) and the BGP pipeline (the rest);
/// a quiet stretch at each setting at the end counts false BFD downs.
/// Usage (root): <c>overlay-benchmarks lab-anycast [runs=5] [fastBfdMs=50] [quietSeconds=60]</c>.
/// </summary>
public static class LabAnycastTimings
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly Dictionary<string, List<double>> Samples = [];

    private static void Record(string what, TimeSpan took)
    {
        if (!Samples.TryGetValue(what, out var list)) Samples[what] = list = [];
        list.Add(took.TotalMilliseconds);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        int fastBfdMs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
        var quiet = TimeSpan.FromSeconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 60);
        var quietDowns = new List<string>();
        if (LabPreflight.MissingRequirements() is { } why)
        {
            Console.Error.WriteLine("lab-anycast: cannot run: " + why);
            return 2;
        }
        var log = new LineLogger(Console.Error.WriteLine, Microsoft.Extensions.Logging.LogLevel.Warning);
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        Samples.Clear();
        var samples = Samples;

        await using var any = await AnycastLab.StartAsync(topo, log);
        using var calibration = RouteWatcher.Start(topo.Upstream, AnycastTopology.CalibrationPrefix, any.Clock);
        var routing = any.Lab.Router(s1.Node).Routing;
        var probe = IpPrefix.Parse(AnycastTopology.CalibrationPrefix);
        Console.WriteLine($"lab {any.Lab.RunId} up and converged in {any.Now.TotalMilliseconds:0} ms; {runs} runs");

        for (int run = 1; run <= runs; run++)
        {
            // Baseline: the withdrawal pipeline without detection (staticd commit -> zebra -> bgpd -> eBGP -> upstream kernel).
            await routing.AddVipRouteAsync(probe, StaticNexthop.Blackhole);
            await UntilUpstreamAsync(any, AnycastTopology.CalibrationPrefix, present: true);
            var t0 = any.Now;
            await routing.RemoveVipRouteAsync(probe);
            await UntilUpstreamAsync(any, AnycastTopology.CalibrationPrefix, present: false);
            Record("baseline: staticd route removal over gRPC -> upstream", (calibration.LastChangeSince(t0) ?? any.Now) - t0);

            // Link down: the site's anycast WireGuard interface goes down (netlink event at overlayd).
            long seq = await LastSeqAsync(any, s1);
            var wall = DateTimeOffset.UtcNow;
            t0 = any.Now;
            await any.Lab.ExecAsync(s1.Node, $"ip link set {s1.AnycastInterface} down");
            Record("link down -> upstream withdrawal", await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: t0) - t0);
            await RecordEventAsync(any, s1, seq, wall, "link down -> overlayd applied the withdrawal (its event)", e => e.Source == EventSource.Writer && e.What.StartsWith("Withdraw", StringComparison.Ordinal));
            await any.Lab.ExecAsync(s1.Node, $"ip link set {s1.AnycastInterface} up");
            await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);

            // Silent tunnel death: the health tunnel's packets are dropped; only BFD and WireGuard can tell.
            // Measured at the lab's start timers (the baseline) and at the fast ones, in every run, in alternating order;
            // before the SIGKILL fault, so overlayd is never a freshly started (still jitting) process here.
            int[] timers = run % 2 == 1 ? [AnycastTopology.BfdIntervalMs, fastBfdMs] : [fastBfdMs, AnycastTopology.BfdIntervalMs];
            foreach (int interval in timers)
            {
                string bfd = $"BFD {interval} ms x {AnycastTopology.BfdMultiplier}";
                await any.SetBfdTimersAsync(s1, interval, AnycastTopology.BfdMultiplier);
                seq = await LastSeqAsync(any, s1);
                wall = DateTimeOffset.UtcNow;
                t0 = any.Now;
                await any.SilenceHealthTunnelAsync(s1, silent: true);
                var total = await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: t0) - t0;
                Record($"silent tunnel death -> upstream withdrawal ({bfd})", total);
                await RecordSilentBreakdownAsync(any, s1, seq, wall, total, bfd);
                await any.SilenceHealthTunnelAsync(s1, silent: false);
                await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
            }
            await any.SetBfdTimersAsync(s1, AnycastTopology.BfdIntervalMs, AnycastTopology.BfdMultiplier);

            // overlayd SIGKILL: the TUN lease, nexthop of the static route, dies with the process.
            t0 = any.Now;
            any.Overlayd(s1).Kill();
            Record("SIGKILL overlayd -> upstream withdrawal", await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: t0) - t0);
            await any.Overlayd(s1).WaitForExitAsync(TimeSpan.FromSeconds(10));
            any.StartOverlayd(s1);
            await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);

            Console.WriteLine($"run {run}: " + string.Join(", ", samples.Select(kv => $"{kv.Key} {kv.Value[^1]:0} ms")));
        }

        // False downs: a quiet stretch (no fault injected) at each timer setting; bfdd's own session-down counters on both ends.
        foreach (int interval in new[] { AnycastTopology.BfdIntervalMs, fastBfdMs })
        {
            await any.SetBfdTimersAsync(s1, interval, AnycastTopology.BfdMultiplier);
            var before = await any.BfdSessionDownCountsAsync(s1);
            var quietFrom = any.Now;
            await Task.Delay(quiet);
            var after = await any.BfdSessionDownCountsAsync(s1);
            quietDowns.Add($"BFD {interval} ms x {AnycastTopology.BfdMultiplier}: {after.Site - before.Site} downs at s1, {after.Upstream - before.Upstream} at the upstream in {(any.Now - quietFrom).TotalSeconds:0} s quiet");
        }

        Console.WriteLine();
        Console.WriteLine($"anycast lab timings, {runs} runs (median, min-max; all samples):");
        foreach (var (what, values) in samples)
        {
            var sorted = values.Order().ToList();
            Console.WriteLine($"  {what,-68} median {Median(sorted),5:0} ms  ({sorted[0]:0}-{sorted[^1]:0}; {string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))})");
        }
        foreach (var line in quietDowns) Console.WriteLine("  false BFD downs, " + line);
        Console.WriteLine($"machine: nproc {Environment.ProcessorCount}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}");
        return 0;
    }

    private static async Task<long> LastSeqAsync(AnycastLab any, AnycastSite site)
    {
        var events = await any.Api(site).EventsAsync();
        return events.Count == 0 ? 0 : events[^1].Seq;
    }

    /// <summary>Where the time went, from overlayd's own timeline (wall clock, millisecond resolution).</summary>
    private static async Task RecordEventAsync(AnycastLab any, AnycastSite site, long since, DateTimeOffset from, string what, Func<OverlayEvent, bool> match)
    {
        if ((await any.Api(site).EventsAsync(since)).FirstOrDefault(match) is { } e) Record(what, e.Time - from);
    }

    /// <summary>
    /// Splits one silent-death withdrawal: fault -> bfdd declared Down (bfdd's log); -> overlayd started the withdrawal
    /// (its Writer event minus the "applied in" time it reports: poll lag and decision); the gRPC commit itself; and
    /// from the start of the commit to the upstream route moved (commit + staticd/zebra/BGP pipeline, the rest of
    /// <paramref name="total"/>). Wall clock for the first parts, read right at the fault like the stopwatch.
    /// </summary>
    private static async Task RecordSilentBreakdownAsync(AnycastLab any, AnycastSite site, long since, DateTimeOffset from, TimeSpan total, string bfd)
    {
        var down = any.BfdDownTimes(site, from).FirstOrDefault();
        var withdraw = (await any.Api(site).EventsAsync(since)).FirstOrDefault(e => e.Source == EventSource.Writer && e.What.StartsWith("Withdraw", StringComparison.Ordinal));
        if (down != default) Record($"  ({bfd}) fault -> bfdd declares Down", down - from);
        else Console.Error.WriteLine($"({bfd}) no Down in {AnycastTopology.BfdStateLog(site.Node)}");
        if (withdraw is null) { Console.Error.WriteLine($"({bfd}) no Writer Withdraw event found after seq {since}"); return; }
        var commit = AppliedIn(withdraw.Reason);
        var started = withdraw.Time - commit;
        if (down != default) Record($"  ({bfd}) bfdd Down -> overlayd starts the withdrawal", started - down);
        Record($"  ({bfd}) overlayd's gRPC commit (applied in)", commit);
        Record($"  ({bfd}) commit start -> upstream route moved", total - (started - from));
    }

    /// <summary>The writer's "applied in 12.3 ms" reason.</summary>
    private static TimeSpan AppliedIn(string? reason) =>
        reason is not null && reason.StartsWith("applied in ", StringComparison.Ordinal)
            && double.TryParse(reason["applied in ".Length..].Split(' ')[0], CultureInfo.InvariantCulture, out double ms)
            ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero;

    private static Task<TimeSpan> UntilUpstreamAsync(AnycastLab any, string prefix, bool present) =>
        Poll.UntilAsync($"upstream {(present ? "has" : "lost")} {prefix}", async c =>
            (await any.Lab.KernelRouteAsync(any.Topology.Upstream, prefix, c)).Length > 0 == present, Timeout, TimeSpan.FromMilliseconds(10));

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
