using System.Globalization;
using Overlay.Core.Net;
using Overlay.Frr.Routing;
using Overlay.Lab;
using Overlay.Lab.Scenarios;

namespace Overlay.Benchmarks;

/// <summary>
/// Restarts of site 1's overlayd in the anycast lab (issue #12), counted in route changes at the upstream ("ip monitor
/// route" there) and timed on the lab's clock:
/// baseline 1, the old way: SIGTERM and start again (the route leaves and comes back; time to the new process serving);
/// N hand-offs by SIGUSR2 (time to the successor ready, to it serving the API);
/// N restarts by the service-manager double (RestartKillSignal -> READY=1 of the next process, fds from its store);
/// crashes the double does not restart (SIGKILL -> upstream moved to site 2), against baseline 2: staticd route
/// removal over gRPC -> upstream kernel for a prefix no overlayd owns (the withdrawal pipeline alone), same run.
/// Usage (root): <c>overlay-benchmarks lab-handoff [handoffs=10] [crashes=3]</c>.
/// </summary>
public static class LabHandoffTimings
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, List<double>> Samples = [];

    private static void Record(string what, double ms)
    {
        if (!Samples.TryGetValue(what, out var list)) Samples[what] = list = [];
        list.Add(ms);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int handoffs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        int crashes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        if (LabPreflight.MissingRequirements() is { } why)
        {
            Console.Error.WriteLine("lab-handoff: cannot run: " + why);
            return 2;
        }
        Samples.Clear();
        var log = new LineLogger(Console.Error.WriteLine, Microsoft.Extensions.Logging.LogLevel.Warning);
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        await using var any = await AnycastLab.StartAsync(topo, log);
        await using var handoff = new AnycastHandoff(any);
        await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
        Console.WriteLine($"lab {any.Lab.RunId} up in {any.Now.TotalMilliseconds:0} ms; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var counts = new List<string>();

        // Baseline 1: the restart every package upgrade did before (SIGTERM drains, a fresh process starts).
        int before = any.UpstreamVip.Changes.Count;
        for (int i = 0; i < 2; i++)
        {
            var t0 = any.Now;
            await any.Overlayd(s1).StopAsync(TimeSpan.FromSeconds(10));
            any.StartOverlayd(s1);
            await Poll.UntilAsync("site 1's overlayd serving", async c =>
            {
                try { await any.Api(s1).StatusAsync(c); return true; }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException) { return false; }
            }, Timeout);
            Record("baseline: SIGTERM + start -> new process serving the API", (any.Now - t0).TotalMilliseconds);
            await any.WaitUntilUpstreamPrefersAsync(s1, Timeout, since: t0);
        }
        counts.Add($"baseline, SIGTERM + start, 2 restarts: {any.UpstreamVip.Changes.Count - before} route changes at the upstream");

        before = any.UpstreamVip.Changes.Count;
        for (int i = 1; i <= handoffs; i++)
        {
            var t = await handoff.SignalAsync(s1);
            Record("SIGUSR2 -> successor ready (adopted leases, FRR answered)", t.SignalToReady.TotalMilliseconds);
            Record("SIGUSR2 -> successor serving the API (old one exited)", t.SignalToServing.TotalMilliseconds);
            Console.WriteLine($"hand-off {i}: pid {t.OldPid} -> {t.NewPid}, ready {t.SignalToReady.TotalMilliseconds:0} ms, serving {t.SignalToServing.TotalMilliseconds:0} ms");
        }
        await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
        counts.Add($"SIGUSR2 hand-off, {handoffs} restarts: {any.UpstreamVip.Changes.Count - before} route changes at the upstream");

        // The service-manager double takes site 1 over (the hand-off successor is stopped first: a drained stop).
        await handoff.DisposeAsync();
        await any.WaitUntilUpstreamPrefersAsync(s2, Timeout);
        var spec = OverlaydBinary.Spec(any.OverlaydConfigPath(s1));
        await using var sm = new ServiceManagerDouble(any.Lab, s1.Node, "overlayd-sm", [spec.FileName, .. spec.Arguments], any.Clock);
        await sm.StartAsync(Timeout);
        await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
        before = any.UpstreamVip.Changes.Count;
        for (int i = 1; i <= handoffs; i++)
        {
            var (exited, ready) = await sm.RestartAsync(Timeout);
            Record("double: RestartKillSignal -> old process exited", exited.TotalMilliseconds);
            Record("double: RestartKillSignal -> next process READY=1 (LISTEN_FDS adopted)", ready.TotalMilliseconds);
            Console.WriteLine($"double restart {i}: exited {exited.TotalMilliseconds:0} ms, READY=1 {ready.TotalMilliseconds:0} ms");
        }
        await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
        counts.Add($"service-manager double restart, {handoffs} restarts: {any.UpstreamVip.Changes.Count - before} route changes at the upstream");

        var routing = any.Lab.Router(s1.Node).Routing;
        var probe = IpPrefix.Parse(AnycastTopology.CalibrationPrefix);
        using var calibration = RouteWatcher.Start(topo.Upstream, AnycastTopology.CalibrationPrefix, any.Clock);
        for (int i = 1; i <= crashes; i++)
        {
            await routing.AddVipRouteAsync(probe, StaticNexthop.Blackhole);
            await UntilUpstreamAsync(any, present: true);
            var c0 = any.Now;
            await routing.RemoveVipRouteAsync(probe);
            await UntilUpstreamAsync(any, present: false);
            Record("baseline: staticd route removal over gRPC -> upstream", ((calibration.LastChangeSince(c0) ?? any.Now) - c0).TotalMilliseconds);

            var t0 = any.Now;
            await sm.CrashAsync(restart: false, TimeSpan.FromSeconds(10));
            Record("double: SIGKILL, no restart (store flushed) -> upstream moved to site 2", (await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: t0) - t0).TotalMilliseconds);
            await sm.StartAsync(Timeout);
            await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
        }

        Console.WriteLine();
        Console.WriteLine($"hand-off lab timings (median, min-max; all samples):");
        foreach (var (what, values) in Samples)
        {
            var sorted = values.Order().ToList();
            double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
            Console.WriteLine($"  {what,-74} median {median,6:0} ms  ({sorted[0]:0}-{sorted[^1]:0}; {string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))})");
        }
        foreach (var c in counts) Console.WriteLine("  " + c);
        Console.WriteLine($"load at the end: {File.ReadAllText("/proc/loadavg").Trim()}; nproc {Environment.ProcessorCount}, .NET {Environment.Version}");
        return 0;
    }

    private static Task UntilUpstreamAsync(AnycastLab any, bool present) =>
        Poll.UntilAsync($"upstream {(present ? "has" : "lost")} {AnycastTopology.CalibrationPrefix}", async c =>
            (await any.Lab.KernelRouteAsync(any.Topology.Upstream, AnycastTopology.CalibrationPrefix, c).ConfigureAwait(false)).Length > 0 == present,
            Timeout, TimeSpan.FromMilliseconds(10));
}
