using System.Diagnostics;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Lab;

namespace Overlay.Frr.Tests.Live;

[Collection(LiveLabCollection.Name)]
public sealed class BgpVipOverGrpcTests(ITestOutputHelper output)
{
    private static readonly IpPrefix Vip = IpPrefix.Parse("203.0.113.10/32");

    [SkippableFact]
    public async Task A_VIP_committed_over_gRPC_is_advertised_by_eBGP_and_withdrawn_when_removed()
    {
        LiveLab.SkipUnlessUsable(wireGuard: false);
        var topo = new LabTopology();
        var a = topo.AddNode("a");
        var b = topo.AddNode("b");
        var link = topo.AddLink(a, "192.0.2.1/30", b, "192.0.2.2/30");
        a.WithFrr(FrrDaemon.Staticd)
         .WithFrr(FrrDaemon.Bgpd, LabRecipes.VipSpeakerBgp("192.0.2.1", 65001, "192.0.2.2", 65002));
        b.WithFrr(FrrDaemon.Bgpd, LabRecipes.UpstreamBgp("192.0.2.2", 65002, "192.0.2.1", 65001));
        await using var lab = await RunningLab.StartAsync(topo, LiveLab.Logger(output));
        var routerA = lab.Router(a);
        var routerB = lab.Router(b);
        var upstream = link.AddressOf(a);

        var established = await Poll.UntilAsync("eBGP session Established at b", async ct =>
            (await routerB.Show.GetBgpSummaryAsync(ct)).AllPeers.Any(p => p.Neighbor == upstream.ToString() && p.Established), LiveLab.Converge);
        output.WriteLine($"eBGP Established {established.TotalMilliseconds:0} ms after lab up");
        Assert.Null(await routerB.Show.GetBgpRouteAsync(Vip));

        // The first round can fall into bgpd's update-group coalesce window right after the session came
        // up (seen: ~1 s to the upstream) and its first commit opens the HTTP/2 connection; later rounds show the steady state.
        for (int round = 1; round <= 3; round++)
        {
            // Add: one northbound transaction in staticd (candidate, edit, commit, delete candidate).
            var sw = Stopwatch.StartNew();
            var added = await routerA.Routing.AddVipRouteAsync(Vip, StaticNexthop.Blackhole);
            var commitTook = sw.Elapsed;
            Assert.True(added.Changed, added.ToString());
            var (aKernel, bRib, bKernel) = await WhenAll(
                Poll.UntilAsync("VIP in a's kernel", async ct => (await lab.KernelRouteAsync(a, Vip.ToString(), ct)).Contains("blackhole", StringComparison.Ordinal), LiveLab.Converge, Fast),
                Poll.UntilAsync("VIP in b's BGP table", async ct => (await routerB.Show.GetBgpRouteAsync(Vip, ct))?.BestPath is { } best
                    && best.Nexthops.Any(n => upstream.Equals(n.Address)), LiveLab.Converge, Fast),
                Poll.UntilAsync("VIP in b's kernel via a", async ct => (await lab.KernelRouteAsync(b, Vip.ToString(), ct)) is var r
                    && r.Contains($"via {upstream}", StringComparison.Ordinal) && r.Contains("proto bgp", StringComparison.Ordinal), LiveLab.Converge, Fast));
            output.WriteLine($"round {round} add: commit {commitTook.TotalMilliseconds:0} ms; after commit: a kernel {aKernel.TotalMilliseconds:0} ms, " +
                             $"b BGP RIB {bRib.TotalMilliseconds:0} ms, b kernel (commit-to-upstream) {bKernel.TotalMilliseconds:0} ms");
            Assert.Contains("proto static", await lab.KernelRouteAsync(a, Vip.ToString()));
            Assert.Contains(await routerA.Routing.ListVipRoutesAsync(), r => r.Prefix == Vip && r.Nexthop.Type == StaticNexthopType.Blackhole);
            Assert.Equal(ApplyResult.NoChange, await routerA.Routing.AddVipRouteAsync(Vip, StaticNexthop.Blackhole));

            // Remove: deleting the route-list withdraws it everywhere.
            sw.Restart();
            var removed = await routerA.Routing.RemoveVipRouteAsync(Vip);
            commitTook = sw.Elapsed;
            Assert.True(removed.Changed, removed.ToString());
            (aKernel, bRib, bKernel) = await WhenAll(
                Poll.UntilAsync("VIP gone from a's kernel", async ct => await lab.KernelRouteAsync(a, Vip.ToString(), ct) == "", LiveLab.Converge, Fast),
                Poll.UntilAsync("VIP gone from b's BGP table", async ct => await routerB.Show.GetBgpRouteAsync(Vip, ct) is null, LiveLab.Converge, Fast),
                Poll.UntilAsync("VIP gone from b's kernel", async ct => await lab.KernelRouteAsync(b, Vip.ToString(), ct) == "", LiveLab.Converge, Fast));
            output.WriteLine($"round {round} withdraw: commit {commitTook.TotalMilliseconds:0} ms; after commit: a kernel {aKernel.TotalMilliseconds:0} ms, " +
                             $"b BGP RIB {bRib.TotalMilliseconds:0} ms, b kernel (commit-to-upstream) {bKernel.TotalMilliseconds:0} ms");
            Assert.DoesNotContain(await routerA.Routing.ListVipRoutesAsync(), r => r.Prefix == Vip);
            Assert.Equal(ApplyResult.NoChange, await routerA.Routing.RemoveVipRouteAsync(Vip));
        }
    }

    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(5);

    private static async Task<(TimeSpan, TimeSpan, TimeSpan)> WhenAll(Task<TimeSpan> x, Task<TimeSpan> y, Task<TimeSpan> z)
    {
        await Task.WhenAll(x, y, z);
        return (await x, await y, await z);
    }
}
