using System.Net;
using Overlay.Lab;
using Overlay.Core.Model;

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
        var r1 = lab.Router(d.R1);
        var r2RouterId = IPAddress.Parse("10.0.0.2");
        var r2Address = d.Tunnel.AddressOf(d.R2);

        // OSPF state comes from ospfd's JSON over its vty; BFD state from bfdd over northbound gRPC.
        var full = await Poll.UntilAsync("OSPF neighbor r2 Full at r1", async ct =>
            (await r1.Show.GetOspfNeighborsAsync(ct)).Any(n => n.RouterId.Equals(r2RouterId) && n.IsFull), LiveLab.Converge);
        var bfdUp = await Poll.UntilAsync("BFD session to r2 up at r1 (gRPC)", async ct =>
            (await r1.Routing.GetBfdSessionsAsync(ct)).Any(s => s.Peer.Equals(r2Address) && s.IsUp), LiveLab.Converge, TimeSpan.FromMilliseconds(50));
        var session = (await r1.Routing.GetBfdSessionsAsync()).Single(s => s.Peer.Equals(r2Address));
        output.WriteLine($"from lab up: OSPF Full after {full.TotalMilliseconds:0} ms; BFD up {bfdUp.TotalMilliseconds:0} ms later " +
                         $"(negotiated tx {session.NegotiatedTransmitInterval?.TotalMilliseconds} ms, rx {session.NegotiatedReceiveInterval?.TotalMilliseconds} ms)");
        Assert.Equal(d.Tunnel.InterfaceA, session.Interface);

        // The far side's wireguard-go dies: its TUN disappears and nothing answers through the tunnel any more.
        var wg = lab.WireGuardProcess(d.Tunnel, d.R2);
        wg.Kill();
        var pollEvery = TimeSpan.FromMilliseconds(10);
        var bfdDown = Task.Run(() => Poll.UntilAsync("BFD session to r2 down at r1 (gRPC)", async ct =>
            (await r1.Routing.GetBfdSessionsAsync(ct)).All(s => !s.Peer.Equals(r2Address) || !s.IsUp), LiveLab.Converge, pollEvery));
        var ospfGone = Task.Run(() => Poll.UntilAsync("OSPF neighbor r2 gone at r1", async ct =>
            !(await r1.Show.GetOspfNeighborsAsync(ct)).Any(n => n.RouterId.Equals(r2RouterId)), LiveLab.Converge, pollEvery));
        var routeGone = Task.Run(() => Poll.UntilAsync("r2's loopback route gone from r1's kernel", async ct =>
            await lab.KernelRouteAsync(d.R1, "10.0.0.2/32", ct) == "", LiveLab.Converge, pollEvery));
        await Task.WhenAll(bfdDown, ospfGone, routeGone);
        output.WriteLine($"after SIGKILL of r2's wireguard-go: BFD down at r1 after {(await bfdDown).TotalMilliseconds:0} ms, " +
                         $"OSPF neighbor gone after {(await ospfGone).TotalMilliseconds:0} ms, r2 loopback route gone from the kernel after {(await routeGone).TotalMilliseconds:0} ms " +
                         "(BFD 100 ms x 3, OSPF dead interval 3 s)");
        var after = (await r1.Routing.GetBfdSessionsAsync()).Where(s => s.Peer.Equals(r2Address)).ToList();
        output.WriteLine("r1's BFD session afterwards: " + (after.Count == 0 ? "removed" : $"{after[0].State}, diagnostic {after[0].LocalDiagnostic}, down count {after[0].DownCount}"));
        Assert.True(wg.HasExited);
        Assert.DoesNotContain(d.Tunnel.InterfaceB, (await lab.ExecAsync(d.R2, "ip -br link")).StdOut);
    }
}
