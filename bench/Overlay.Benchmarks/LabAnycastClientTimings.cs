using System.Globalization;
using Overlay.Lab;
using Overlay.Lab.Scenarios;

namespace Overlay.Benchmarks;

/// <summary>
/// Lab timing harness for the client side of anycast failover: fault at site 1 (the site serving the client) ->
/// the client's ping through its tunnel to the VIP is answered again (by site 2), for three faults, each with the
/// client's session watchdog on and off (stock WireGuard behaviour) in the same run, in alternating order. One lab for
/// all runs (real FRR, wireguard-go and overlayd on the sites and on the client); the watchdog is switched by reloading
/// the client's overlayd.yaml. The upstream's route move (ip monitor in the upstream) is recorded beside each sample as
/// the part no client can avoid. Between samples site 1 is repaired and the client brought back to it (with the watchdog on).
/// With <c>keepaliveRuns</c> &gt; 0 it then measures the stock client once more for the wireguard-go fault, with
/// <c>persistent-keepalive 1</c> on the client's peer: what the shortest keepalive an unmanaged client can set buys.
/// Usage (root): <c>overlay-benchmarks lab-anycast-client [runs=5] [keepaliveRuns=0]</c>.
/// </summary>
public static class LabAnycastClientTimings
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, List<double>> Samples = [];

    private static void Record(string what, TimeSpan took)
    {
        if (!Samples.TryGetValue(what, out var list)) Samples[what] = list = [];
        list.Add(took.TotalMilliseconds);
    }

    private sealed record Fault(string Name, Func<AnycastLab, AnycastSite, Task> Break, Func<AnycastLab, AnycastSite, Task> Repair);

    public static async Task<int> RunAsync(string[] args)
    {
        int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        int keepaliveRuns = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 0;
        if (LabPreflight.MissingRequirements() is { } why)
        {
            Console.Error.WriteLine("lab-anycast-client: cannot run: " + why);
            return 2;
        }
        var log = new LineLogger(Console.Error.WriteLine, Microsoft.Extensions.Logging.LogLevel.Warning);
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        Samples.Clear();
        var loads = new List<string>();

        Fault[] faults =
        [
            new("wireguard-go SIGKILL at site 1", (a, s) => { a.SiteWireGuard(s).Kill(); return Task.CompletedTask; }, (a, s) => a.RestoreSiteWireGuardAsync(s)),
            new("site 1's anycast link down", (a, s) => a.Lab.ExecAsync(s.Node, $"ip link set {s.AnycastInterface} down"),
                (a, s) => a.Lab.ExecAsync(s.Node, $"ip link set {s.AnycastInterface} up")),
            new("overlayd SIGKILL at site 1", (a, s) => { a.Overlayd(s).Kill(); return Task.CompletedTask; },
                async (a, s) => { await a.Overlayd(s).WaitForExitAsync(TimeSpan.FromSeconds(10)); a.StartOverlayd(s); }),
        ];

        await using var any = await AnycastLab.StartAsync(topo, log);
        await any.StartClientOverlaydAsync();
        Console.WriteLine($"lab {any.Lab.RunId} up, client overlayd armed, at {any.Now.TotalMilliseconds:0} ms; {runs} runs; load {Load()}");

        for (int run = 1; run <= runs; run++)
        {
            loads.Add(Load());
            foreach (var fault in faults)
            {
                bool[] modes = run % 2 == 1 ? [true, false] : [false, true];
                foreach (bool watchdog in modes)
                {
                    string mode = watchdog ? "watchdog" : "stock client";
                    await any.SetClientWatchdogAsync(watchdog);
                    await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
                    await any.WaitUntilClientTrafficAtAsync(s1, Timeout);
                    long seq = (await any.ClientApi.EventsAsync()).LastOrDefault()?.Seq ?? 0;

                    var wall = DateTimeOffset.UtcNow;
                    var t0 = any.Now;
                    await fault.Break(any, s1);
                    var moved = await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: t0);
                    var answered = await any.WaitUntilClientPingsAsync(Timeout);
                    Record($"{fault.Name}: upstream route moved ({mode} run)", moved - t0);
                    Record($"{fault.Name}: client answered again, {mode}", answered - t0);
                    if (watchdog)
                    {
                        var events = await any.ClientApi.EventsAsync(seq);
                        if (events.FirstOrDefault(e => e.What.StartsWith("session reset #", StringComparison.Ordinal)) is { } reset)
                            Record($"{fault.Name}:   (watchdog) first reset", reset.Time - wall);
                        if (events.Count(e => e.What.StartsWith("session reset #", StringComparison.Ordinal)) is var n)
                            Record($"{fault.Name}:   (watchdog) resets until answered (count, not ms)", TimeSpan.FromMilliseconds(n));
                    }
                    Console.WriteLine($"run {run}, {fault.Name}, {mode}: route moved {(moved - t0).TotalMilliseconds:0} ms, client answered {(answered - t0).TotalMilliseconds:0} ms (by {(await any.ClientSiteAsync())?.Name}); load {Load()}");

                    // Repair, and bring the client back to site 1 quickly (the watchdog does it in both modes).
                    await fault.Repair(any, s1);
                    await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
                    if (!watchdog) await any.SetClientWatchdogAsync(true);
                    await any.WaitUntilClientTrafficAtAsync(s1, Timeout);
                }
            }
        }

        if (keepaliveRuns > 0)
        {
            string ifname = topo.ClientInterface;
            string peer = (await any.Lab.ExecAsync(topo.Client, $"wg show {ifname} peers")).EnsureSuccess().StdOut.Trim();
            for (int run = 1; run <= keepaliveRuns; run++)
            {
                await any.SetClientWatchdogAsync(false);
                (await any.Lab.ExecAsync(topo.Client, $"wg set {ifname} peer {peer} persistent-keepalive 1")).EnsureSuccess();
                await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
                await any.WaitUntilClientTrafficAtAsync(s1, Timeout);
                var t0 = any.Now;
                any.SiteWireGuard(s1).Kill();
                await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: t0);
                var answered = await any.WaitUntilClientPingsAsync(Timeout);
                Record($"{faults[0].Name}: client answered again, stock client with persistent-keepalive 1", answered - t0);
                Console.WriteLine($"keepalive run {run}: client answered {(answered - t0).TotalMilliseconds:0} ms; load {Load()}");
                (await any.Lab.ExecAsync(topo.Client, $"wg set {ifname} peer {peer} persistent-keepalive off")).EnsureSuccess();
                await any.RestoreSiteWireGuardAsync(s1);
                await any.WaitUntilUpstreamPrefersAsync(s1, Timeout);
                await any.SetClientWatchdogAsync(true);
                await any.WaitUntilClientTrafficAtAsync(s1, Timeout);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"anycast client failover, {runs} runs (median, min-max; all samples):");
        foreach (var (what, values) in Samples)
        {
            var sorted = values.Order().ToList();
            Console.WriteLine($"  {what,-78} median {Median(sorted),6:0} ms  ({sorted[0]:0}-{sorted[^1]:0}; {string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))})");
        }
        foreach (var fault in faults)
        {
            var with = Samples[$"{fault.Name}: client answered again, watchdog"].Order().ToList();
            var without = Samples[$"{fault.Name}: client answered again, stock client"].Order().ToList();
            Console.WriteLine($"  ratio stock / watchdog, {fault.Name}: {Median(without) / Median(with):0.0}x");
        }
        Console.WriteLine($"load average at the start of each run: {string.Join(" | ", loads)}; at the end: {Load()}");
        Console.WriteLine($"machine: nproc {Environment.ProcessorCount}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}");
        return 0;
    }

    private static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
