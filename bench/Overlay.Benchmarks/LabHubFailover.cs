using System.Diagnostics;
using System.Globalization;
using Overlay.Lab;
using Overlay.Lab.Scenarios;

namespace Overlay.Benchmarks;

/// <summary>
/// Lab timing harness for hub failover as rendered: the hub lab (<see cref="HubSpokeTopology"/>, every node configured
/// by what render makes of the lab's inventory) rendered by two renderers in the same run, interleaved round by round
/// so the machine's load hits both alike: the baseline is an <c>overlayctl</c> build of an older commit (e.g. main
/// before this change, <c>redistribute connected</c> and FRR's default throttling), the candidate is this tree's
/// Overlay.Core renderer. Per round and renderer, one fresh lab: initial convergence (frr.conf applied on every node,
/// WireGuard already up -> s1's kernel route to s2's LAN via h1), then <c>runs</c> times each: h1's underlay to s1 cut
/// (only BFD tells) and h1's wireguard-go for s1's tunnel SIGKILLed, each timed to the route via h2, then repaired and
/// timed back to via h1. Kernel route changes are timestamped by "ip monitor route" in s1. overlayd does not run (it
/// does not take part in OSPF failover, and its start would load the machine during convergence).
/// Usage (root): <c>overlay-benchmarks lab-hub BEFORE_OVERLAYCTL_DLL [rounds=5] [runs=1]</c>.
/// </summary>
public static class LabHubFailover
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 1 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: overlay-benchmarks lab-hub BEFORE_OVERLAYCTL_DLL [rounds=5] [runs=1]");
            Console.Error.WriteLine("  BEFORE_OVERLAYCTL_DLL: overlayctl.dll built from the baseline commit, e.g.");
            Console.Error.WriteLine("  git archive main | tar -x -C /tmp/before && dotnet build /tmp/before/src/Overlay.Cli -c Release");
            return 2;
        }
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        int runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        if (LabPreflight.MissingRequirements() is { } why)
        {
            Console.Error.WriteLine("lab-hub: cannot run: " + why);
            return 2;
        }
        var renderers = new (string Name, LabRenderer Renderer)[]
        {
            ("before", LabRenderer.Overlayctl(Path.GetFullPath(args[0]), writesInventoryPath: false)),
            ("after", LabRenderer.InProcess),
        };
        var samples = new Dictionary<(string Variant, string Metric), List<double>>();
        void Record(string variant, string metric, TimeSpan t)
        {
            if (!samples.TryGetValue((variant, metric), out var l)) samples[(variant, metric)] = l = [];
            l.Add(t.TotalMilliseconds);
            Console.WriteLine($"  {variant,-6} {metric,-34} {t.TotalMilliseconds,8:0} ms   (load {LoadAverage()})");
        }
        var log = new LineLogger(Console.Error.WriteLine, Microsoft.Extensions.Logging.LogLevel.Warning);
        string loadAtStart = LoadAverage();
        var total = Stopwatch.StartNew();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (var (name, renderer) in round % 2 == 1 ? renderers : renderers.Reverse())
            {
                Console.WriteLine($"round {round}/{rounds}: {name} ({renderer})");
                var hs = HubSpokeTopology.Create();
                await using var hub = await HubLab.StartAsync(hs, log, options: new HubLabOptions { Renderer = renderer, Overlayd = false });
                var clock = hub.SinceFrrApplied;
                using var route = RouteWatcher.Start(hs.S1.Node, hs.S2.Lan, clock);
                // Initial convergence: applied at clock 0; the route appears via h1 (the watcher may have started late: poll too).
                var polled = await hub.WaitUntilRouteViaAsync(hub.ViaPrimary, Timeout, clock);
                Record(name, "initial convergence", route.FirstChangeSince(TimeSpan.Zero, Via(hub.ViaPrimary)) is { } seen && seen < polled ? seen : polled);
                for (int run = 1; run <= runs; run++)
                {
                    foreach (var how in new[] { HubBreak.UnderlayDown, HubBreak.KillHubWireGuard })
                    {
                        string what = how == HubBreak.UnderlayDown ? "underlay cut" : "hub wireguard-go SIGKILL";
                        await hub.WaitUntilPrimaryReadyAsync(bfd: true, Timeout);
                        var t0 = clock.Elapsed;
                        await hub.BreakPrimaryAsync(how);
                        var p = await hub.WaitUntilRouteViaAsync(hub.ViaSecondary, Timeout, clock);
                        Record(name, $"{what}: failover", (route.FirstChangeSince(t0, Via(hub.ViaSecondary)) ?? p) - t0);
                        t0 = clock.Elapsed;
                        await hub.RestorePrimaryAsync(how);
                        p = await hub.WaitUntilRouteViaAsync(hub.ViaPrimary, Timeout, clock);
                        Record(name, $"{what}: back via h1", (route.FirstChangeSince(t0, Via(hub.ViaPrimary)) ?? p) - t0);
                    }
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"SUMMARY lab-hub: {rounds} rounds x {runs} runs, {total.Elapsed.TotalMinutes:0.0} min; load average at start {loadAtStart}, at end {LoadAverage()}; nproc {Environment.ProcessorCount}");
        Console.WriteLine($"| metric | before median (ms) | before runs | after median (ms) | after runs | after/before |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var metric in samples.Keys.Select(k => k.Metric).Distinct())
        {
            var b = samples.GetValueOrDefault(("before", metric)) ?? [];
            var a = samples.GetValueOrDefault(("after", metric)) ?? [];
            double mb = Median(b), ma = Median(a);
            Console.WriteLine($"| {metric} | {mb:0} | {Join(b)} | {ma:0} | {Join(a)} | {(mb > 0 ? (ma / mb).ToString("0.00", CultureInfo.InvariantCulture) : "-")} |");
        }
        return 0;
    }

    private static Func<string, bool> Via(string dev) =>
        l => !l.StartsWith("Deleted ", StringComparison.Ordinal) && l.Contains($" dev {dev} ", StringComparison.Ordinal);

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static string Join(List<double> v) => string.Join(", ", v.Select(x => x.ToString("0", CultureInfo.InvariantCulture)));

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
