using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Xunit;
using Xunit.Abstractions;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// FRR daemons at site 1 die with SIGKILL while the VIP is advertised; the lab restarts each one (empty
/// static config: the VIP route lived only in staticd's memory) and overlayd must put its desired state
/// back, so the upstream has site 1's path again.
/// </summary>
[Collection(AnycastLabCollection.Name)]
public sealed class FrrRestartScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Staticd_then_zebra_then_bgpd_killed_at_site1_overlayd_reapplies_and_upstream_gets_site1_back()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var s1 = topo.Site1;
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));

        foreach (var daemon in new[] { FrrDaemon.Staticd, FrrDaemon.Zebra, FrrDaemon.Bgpd })
        {
            try
            {
                await KillAndRestartAsync(any, daemon);
            }
            catch
            {
                output.WriteLine(await any.DiagnosticsAsync());
                foreach (var e in await any.Api(s1).EventsAsync())
                    output.WriteLine($"  s1 overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e.Line()}");
                throw;
            }
        }
    }

    /// <summary>
    /// zebra alone is SIGKILLed and restarted, several times, to measure what the repair waits for: when staticd and
    /// bgpd reconnect to the new zebra, when the VIP is back in zebra's RIB and in site 1's kernel, and whether the
    /// upstream noticed at all. overlayd has nothing to re-apply here: staticd still holds the route.
    /// </summary>
    [SkippableFact]
    public async Task Zebra_killed_and_restarted_repeatedly_VIP_back_in_zebra_measured()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var s1 = topo.Site1;
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        using var siteVip = RouteWatcher.Start(s1.Node, AnycastTopology.Vip, any.Clock);
        var vty = any.Lab.Router(s1.Node).Vty;
        var answeringAfterKill = new List<double>();
        var staticdAfterKill = new List<double>();
        var ribAfterKill = new List<double>();
        var ribAfterAnswering = new List<double>();
        var forcedRibAfterAnswering = new List<double>();
        for (int i = 1; i <= ZebraRestarts + ForcedReinstallRestarts; i++)
        {
            // The last runs try the fix that looks obvious: as soon as zebra answers, delete and re-add the VIP in
            // staticd (what a forced re-install by overlayd would commit). It shows whether that reaches zebra sooner.
            bool forced = i > ZebraRestarts;
            long seq = await AnycastScenarioTests.LastEventSeqAsync(any, s1);
            var process = any.Lab.Daemon(s1.Node, FrrDaemon.Zebra);
            var killed = any.Now;
            try
            {
                process.Kill();
                Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{process} survived SIGKILL");
                // zebra alone (render's zebra part is the loopback address, which the kernel keeps): measured as before.
                await any.Lab.RestartAsync(process);
                var answering = any.Now;
                if (forced)
                {
                    var frr = any.Lab.Router(s1.Node).Routing;
                    var vip = Overlay.Core.Net.IpPrefix.Parse(AnycastTopology.Vip);
                    await frr.RemoveVipRouteAsync(vip);
                    await frr.AddVipRouteAsync(vip, StaticNexthop.Via(topo.LeaseInterface(s1)));
                }

                // One poll, three first-seen times: zebra's client list and its RIB entry for the VIP.
                TimeSpan? staticd = null, bgpd = null, inRib = null;
                await Poll.UntilAsync("staticd and bgpd reconnected to the new zebra and the VIP installed in its RIB", async c =>
                {
                    var clients = await any.Lab.VtyshAsync(s1.Node, FrrDaemon.Zebra, "show zebra client summary", c);
                    var seen = any.Now;
                    bool Has(string name) => clients.Succeeded && clients.StdOut.Split('\n').Any(l => l.StartsWith(name + " ", StringComparison.Ordinal));
                    if (staticd is null && Has("static")) staticd = seen;
                    if (bgpd is null && Has("bgp")) bgpd = seen;
                    string rib = await vty.ExecuteAsync(FrrDaemon.Zebra, $"show ip route {AnycastTopology.Vip} json", c);
                    if (inRib is null && rib.Contains("\"installed\":true", StringComparison.Ordinal)) inRib = any.Now;
                    return staticd is not null && bgpd is not null && inRib is not null;
                }, RouteTimeout, TimeSpan.FromMilliseconds(10));
                await Poll.UntilAsync("site 1's VIP route is back in its kernel", async c =>
                    (await any.Lab.KernelRouteAsync(s1.Node, AnycastTopology.Vip, c)).Contains(topo.LeaseInterface(s1), StringComparison.Ordinal),
                    RouteTimeout, TimeSpan.FromMilliseconds(10));
                await any.WaitUntilUpstreamHasPathAsync(s1, present: true, RouteTimeout);
                await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout);

                double Ms(TimeSpan? t) => ((t ?? any.Now) - killed).TotalMilliseconds;
                var kernelGone = siteVip.FirstChangeSince(killed, l => l.StartsWith("Deleted ", StringComparison.Ordinal));
                var kernelBack = siteVip.FirstChangeSince(kernelGone ?? killed, l => !l.StartsWith("Deleted ", StringComparison.Ordinal));
                int upstreamChanges = any.UpstreamVip.Changes.Count(c => c.At >= killed);
                if (forced) forcedRibAfterAnswering.Add((inRib!.Value - answering).TotalMilliseconds);
                else
                {
                    answeringAfterKill.Add(Ms(answering));
                    staticdAfterKill.Add(Ms(staticd));
                    ribAfterKill.Add(Ms(inRib));
                    ribAfterAnswering.Add((inRib!.Value - answering).TotalMilliseconds);
                }
                output.WriteLine($"zebra restart {i}{(forced ? " with delete+re-add in staticd at once" : "")} (times after SIGKILL): answering {Ms(answering):0} ms; staticd reconnected (first seen) {Ms(staticd):0} ms, " +
                    $"bgpd {Ms(bgpd):0} ms; VIP installed in zebra's RIB {Ms(inRib):0} ms (= {(inRib.Value - answering).TotalMilliseconds:0} ms after zebra answered); " +
                    $"site 1 kernel VIP route deleted {(kernelGone is { } g ? $"{(g - killed).TotalMilliseconds:0} ms" : "never (seen)")}, back {(kernelBack is { } b ? $"{(b - killed).TotalMilliseconds:0} ms" : "-")}; " +
                    $"upstream VIP route changes meanwhile: {upstreamChanges}");
            }
            catch
            {
                output.WriteLine(await any.DiagnosticsAsync());
                throw;
            }
            finally
            {
                foreach (var e in await any.Api(s1).EventsAsync(seq))
                    output.WriteLine($"  s1 overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e.Line()}");
            }
        }
        output.WriteLine($"SUMMARY zebra SIGKILL -> answering again: median {Median(answeringAfterKill):0} ms (n={answeringAfterKill.Count}: {List(answeringAfterKill)})");
        output.WriteLine($"SUMMARY zebra SIGKILL -> staticd reconnected: median {Median(staticdAfterKill):0} ms (n={staticdAfterKill.Count}: {List(staticdAfterKill)})");
        output.WriteLine($"SUMMARY zebra SIGKILL -> VIP installed in zebra's RIB: median {Median(ribAfterKill):0} ms (n={ribAfterKill.Count}: {List(ribAfterKill)})");
        output.WriteLine($"SUMMARY zebra answering -> VIP installed in zebra's RIB: median {Median(ribAfterAnswering):0} ms (n={ribAfterAnswering.Count}: {List(ribAfterAnswering)})");
        output.WriteLine($"SUMMARY zebra answering -> VIP installed in zebra's RIB, staticd route deleted and re-added when zebra answered: median {Median(forcedRibAfterAnswering):0} ms (n={forcedRibAfterAnswering.Count}: {List(forcedRibAfterAnswering)})");
    }

    private const int ZebraRestarts = 5;
    private const int ForcedReinstallRestarts = 3;

    private static string List(List<double> xs) => string.Join(", ", xs.Select(x => x.ToString("0")));

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private async Task KillAndRestartAsync(AnycastLab any, FrrDaemon daemon)
    {
        var topo = any.Topology;
        var s1 = topo.Site1;
        {
            long seq = await AnycastScenarioTests.LastEventSeqAsync(any, s1);
            var process = any.Lab.Daemon(s1.Node, daemon);
            var killed = any.Now;
            process.Kill();
            Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{process} survived SIGKILL");

            // staticd and bgpd take site 1's path with them; zebra's death may leave bgpd advertising (it keeps its
            // session and its copy of the route), so only the repair is asserted for every daemon.
            TimeSpan? lost = null;
            if (daemon is FrrDaemon.Staticd or FrrDaemon.Bgpd)
                lost = await any.WaitUntilUpstreamHasPathAsync(s1, present: false, RouteTimeout);

            await any.RestartFrrDaemonAsync(process); // returns once the daemon answers and render's frr.conf is applied again
            var answering = any.Now;
            await Poll.UntilAsync($"site 1's VIP route is back in its kernel after the {daemon.ToDaemonName()} restart", async c =>
                (await any.Lab.KernelRouteAsync(s1.Node, AnycastTopology.Vip, c)).Contains(topo.LeaseInterface(s1), StringComparison.Ordinal),
                RouteTimeout, TimeSpan.FromMilliseconds(10));
            var kernelBack = any.Now;
            var back = await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout, since: answering);
            Assert.Contains(s1, await any.UpstreamBgpPathsAsync());

            output.WriteLine($"{daemon.ToDaemonName()} SIGKILL at site 1:" +
                (lost is { } l ? $" upstream lost site 1's path after {(l - killed).TotalMilliseconds:0} ms (poll);" : "") +
                $" restarted and answering after {(answering - killed).TotalMilliseconds:0} ms;" +
                $" site 1's kernel has the VIP route {(kernelBack - answering).TotalMilliseconds:0} ms and" +
                $" the upstream routes it to site 1 {(back - answering).TotalMilliseconds:0} ms after FRR answered" +
                // The poll returns at once when the upstream never moved (zebra: bgpd keeps its route); 'back' is then the poll's end.
                (any.UpstreamVip.Changes.Any(c => c.At >= killed) ? "" : " (the upstream's route never changed)"));
            foreach (var e in await any.Api(s1).EventsAsync(seq))
                output.WriteLine($"  s1 overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e.Line()}");
        }
    }
}
