using Overlay.Frr.Northbound;
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
                    output.WriteLine($"  s1 overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e}");
                throw;
            }
        }
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

            await any.Lab.RestartAsync(process); // returns once the daemon answers on its vty and over gRPC
            var answering = any.Now;
            await Poll.UntilAsync($"site 1's VIP route is back in its kernel after the {daemon.ToDaemonName()} restart", async c =>
                (await any.Lab.KernelRouteAsync(s1.Node, AnycastTopology.Vip, c)).Contains(topo.LeaseInterface(s1), StringComparison.Ordinal),
                RouteTimeout, TimeSpan.FromMilliseconds(10));
            var back = await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout, since: answering);
            Assert.Contains(s1, await any.UpstreamBgpPathsAsync());

            output.WriteLine($"{daemon.ToDaemonName()} SIGKILL at site 1:" +
                (lost is { } l ? $" upstream lost site 1's path after {(l - killed).TotalMilliseconds:0} ms (poll);" : "") +
                $" restarted and answering after {(answering - killed).TotalMilliseconds:0} ms;" +
                $" upstream back on site 1 {(back - answering).TotalMilliseconds:0} ms after FRR answered");
            foreach (var e in await any.Api(s1).EventsAsync(seq))
                output.WriteLine($"  s1 overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e}");
        }
    }
}
