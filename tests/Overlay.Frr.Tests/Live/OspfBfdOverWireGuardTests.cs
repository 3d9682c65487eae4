using System.Diagnostics;
using Overlay.Lab;

namespace Overlay.Frr.Tests.Live;

[Collection(LiveLabCollection.Name)]
public sealed class OspfBfdOverWireGuardTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Killing_wireguard_go_takes_BFD_down_and_drops_the_OSPF_neighbor()
    {
        LiveLab.SkipUnlessUsable();
        var d = LabRecipes.TwoRoutersOverWireGuard(bgp: false, vip: false);
        await using var lab = await RunningLab.StartAsync(d.Topology, LiveLab.Logger(output));
        var r1 = d.R1;
        var r2Address = d.Tunnel.AddressOf(d.R2).ToString();

        var full = await Poll.UntilAsync("OSPF neighbor r2 Full at r1", async ct =>
            (await lab.OspfNeighborsAsync(r1, ct)).Any(n => n.RouterId == "10.0.0.2" && n.State.StartsWith("Full", StringComparison.Ordinal)),
            LiveLab.Converge);
        var bfdUp = await Poll.UntilAsync("BFD session to r2 up at r1", async ct =>
            (await lab.BfdPeersAsync(r1, ct)).Any(p => p.Peer == r2Address && p.Status == "up"),
            LiveLab.Converge);
        output.WriteLine($"from lab up: OSPF Full after {full.TotalMilliseconds:0} ms; BFD up after {full.TotalMilliseconds + bfdUp.TotalMilliseconds:0} ms");

        // The far side's wireguard-go dies: its TUN disappears and nothing answers through the tunnel any more.
        var wg = lab.WireGuardProcess(d.Tunnel, d.R2);
        wg.Kill();
        var bfdDown = Task.Run(() => Poll.UntilAsync("BFD session to r2 down at r1", async ct =>
            (await lab.BfdPeersAsync(r1, ct)).All(p => p.Peer != r2Address || p.Status == "down"), LiveLab.Converge, TimeSpan.FromMilliseconds(10)));
        var ospfGone = Task.Run(() => Poll.UntilAsync("OSPF neighbor r2 gone at r1", async ct =>
            !(await lab.OspfNeighborsAsync(r1, ct)).Any(n => n.RouterId == "10.0.0.2"), LiveLab.Converge, TimeSpan.FromMilliseconds(10)));
        var routeGone = Task.Run(() => Poll.UntilAsync("r2's loopback route gone at r1", async ct =>
            await lab.KernelRouteAsync(r1, "10.0.0.2/32", ct) == "", LiveLab.Converge, TimeSpan.FromMilliseconds(10)));
        await Task.WhenAll(bfdDown, ospfGone, routeGone);
        output.WriteLine($"after SIGKILL of r2's wireguard-go: BFD down at r1 after {(await bfdDown).TotalMilliseconds:0} ms, " +
                         $"OSPF neighbor gone after {(await ospfGone).TotalMilliseconds:0} ms, r2 loopback route gone after {(await routeGone).TotalMilliseconds:0} ms " +
                         "(BFD 100 ms x 3; OSPF dead interval 3 s)");
        Assert.True(wg.HasExited);
        Assert.DoesNotContain(d.Tunnel.InterfaceB, (await lab.ExecAsync(d.R2, "ip -br link")).StdOut);
    }
}
