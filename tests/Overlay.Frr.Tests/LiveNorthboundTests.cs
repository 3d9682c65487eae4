using System.Diagnostics;
using System.Net;
using Overlay.Core.Net;
using Grpc.Core;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Frr.Tests.Support;
using Overlay.Core.Model;

namespace Overlay.Frr.Tests;

/// <summary>The northbound client against real FRR 8.4 daemons in a namespace created per test.</summary>
public sealed class LiveNorthboundTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    [SkippableFact]
    public async Task Capabilities_name_the_modules_each_daemon_serves()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync();
        using var factory = router.CreateFactory();
        var routing = new FrrRouting(factory);

        var zebra = await routing.GetCapabilitiesAsync(FrrDaemon.Zebra);
        var staticd = await routing.GetCapabilitiesAsync(FrrDaemon.Staticd);
        var bfdd = await routing.GetCapabilitiesAsync(FrrDaemon.Bfdd);

        output.WriteLine($"FRR {zebra.FrrVersionText}; zebra: {string.Join(", ", zebra.Modules.Select(m => m.Name))}");
        Assert.NotNull(zebra.FrrVersion);
        Assert.True(zebra.Serves("frr-zebra"));
        Assert.True(zebra.Serves("frr-vrf"));
        Assert.True(staticd.Serves("frr-staticd"));
        Assert.False(staticd.Serves("frr-bfdd"));
        Assert.True(bfdd.Serves("frr-bfdd"));
        Assert.Contains("Json", zebra.Encodings);

        // Nothing listens on ospfd's port in this router.
        var down = await Assert.ThrowsAsync<FrrNorthboundException>(() => routing.GetCapabilitiesAsync(FrrDaemon.Ospfd));
        output.WriteLine(down.Message);
        Assert.Equal(StatusCode.Unavailable, down.StatusCode);
        Assert.Contains("ospfd (127.0.0.1:50054)", down.Message);
    }

    [SkippableFact]
    public async Task Blackhole_vip_route_reaches_zebra_and_the_kernel_and_is_withdrawn()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync();
        using var factory = router.CreateFactory();
        var routing = new FrrRouting(factory);
        var vip = IpPrefix.Parse("203.0.113.77/32");

        var clock = Stopwatch.StartNew();
        var added = await routing.AddVipRouteAsync(vip, StaticNexthop.Blackhole);
        output.WriteLine($"add: {added} in {clock.ElapsedMilliseconds} ms");
        Assert.True(added.Changed);
        Assert.False((await routing.AddVipRouteAsync(vip, StaticNexthop.Blackhole)).Changed);

        var listed = await routing.ListVipRoutesAsync();
        Assert.Contains(new StaticRoute(vip, StaticNexthop.Blackhole), listed);

        var rib = await TestNetns.PollAsync(() => routing.GetRibAsync(vip), r => r.Any(e => e.Installed), Converge, "static VIP installed in zebra");
        var entry = Assert.Single(rib);
        Assert.Equal("static", entry.Protocol);
        Assert.Equal(1, entry.Distance);
        Assert.True(entry.Selected);
        Assert.Equal("blackhole", Assert.Single(entry.Nexthops).Type);
        await TestNetns.PollAsync(() => Task.FromResult(router.Ip("route", "show", "203.0.113.77")), r => r.Contains("blackhole"), Converge, "kernel blackhole route");
        output.WriteLine($"kernel has the route {clock.ElapsedMilliseconds} ms after the add");

        clock.Restart();
        Assert.True((await routing.RemoveVipRouteAsync(vip)).Changed);
        Assert.False((await routing.RemoveVipRouteAsync(vip)).Changed);
        await TestNetns.PollAsync(() => routing.GetRibAsync(vip), r => r.Count == 0, Converge, "VIP gone from zebra");
        await TestNetns.PollAsync(() => Task.FromResult(router.Ip("route", "show", "203.0.113.77")), r => r.Trim().Length == 0, Converge, "kernel route removed");
        output.WriteLine($"withdrawn from zebra and kernel {clock.ElapsedMilliseconds} ms after the remove");
        Assert.DoesNotContain(await routing.ListVipRoutesAsync(), r => r.Prefix == vip);
    }

    [SkippableFact]
    public async Task Ipv6_vip_route_over_an_interface_nexthop()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync();
        using var factory = router.CreateFactory();
        var routing = new FrrRouting(factory);
        var vip = IpPrefix.Parse("2001:db8:77::1/128");

        Assert.True((await routing.AddVipRouteAsync(vip, StaticNexthop.Via(router.InterfaceA))).Changed);

        var rib = await TestNetns.PollAsync(() => routing.GetRibAsync(vip), r => r.Any(e => e.Installed), Converge, "IPv6 VIP installed");
        var nexthop = Assert.Single(Assert.Single(rib).Nexthops);
        Assert.Equal(router.InterfaceA, nexthop.Interface);
        Assert.True(nexthop.Active);
        Assert.Contains(new StaticRoute(vip, StaticNexthop.Via(router.InterfaceA)), await routing.ListVipRoutesAsync());
        await TestNetns.PollAsync(() => Task.FromResult(router.Ip("-6", "route", "show", "2001:db8:77::1")), r => r.Contains("dev " + router.InterfaceA), Converge, "kernel IPv6 route");

        Assert.True((await routing.RemoveVipRouteAsync(vip)).Changed);
        await TestNetns.PollAsync(() => routing.GetRibAsync(vip), r => r.Count == 0, Converge, "IPv6 VIP gone");
    }

    [SkippableFact]
    public async Task Bfd_peer_appears_in_bfdd_state_and_is_removed()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync();
        using var factory = router.CreateFactory();
        var routing = new FrrRouting(factory);
        var peer = IPAddress.Parse("10.99.0.2");
        var config = new BfdPeer(peer, router.InterfaceA, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));

        Assert.True((await routing.AddBfdPeerAsync(config)).Changed);
        Assert.False((await routing.AddBfdPeerAsync(config)).Changed);

        var sessions = await TestNetns.PollAsync(() => routing.GetBfdSessionsAsync(), s => s.Any(x => x.Peer.Equals(peer)), Converge, "BFD session in bfdd state");
        var session = Assert.Single(sessions);
        output.WriteLine($"session: {session}");
        Assert.Equal(router.InterfaceA, session.Interface);
        Assert.False(session.MultiHop);
        Assert.NotEqual(BfdSessionState.Up, session.State); // nobody answers on the far end

        Assert.True((await routing.RemoveBfdPeerAsync(peer, router.InterfaceA)).Changed);
        Assert.False((await routing.RemoveBfdPeerAsync(peer, router.InterfaceA)).Changed);
        await TestNetns.PollAsync(() => routing.GetBfdSessionsAsync(), s => s.Count == 0, Converge, "BFD session removed");
    }

    [SkippableFact]
    public async Task Rib_reads_leave_zebra_alive_and_the_crashing_path_is_refused()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync("zebra");
        using var factory = router.CreateFactory();
        var routing = new FrrRouting(factory);
        var zebra = factory.For(FrrDaemon.Zebra);

        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var rib = await routing.GetRibAsync();
            output.WriteLine($"RIB read {i}: {rib.Count} entries in {clock.ElapsedMilliseconds} ms");
            Assert.Contains(rib, e => e.Prefix == IpPrefix.Parse("10.99.0.0/30") && e.Protocol == "connected");
        }

        await Assert.ThrowsAsync<FrrRequestRefusedException>(async () =>
        {
            await foreach (var _ in zebra.GetAsync(["/frr-vrf:lib/vrf[name='default']/frr-zebra:zebra/ribs"], NorthboundDataType.State)) { }
        });

        // FRR 8.4 answers a multi-path Get one message per path, last path first.
        var answers = new List<string>();
        await foreach (var data in zebra.GetAsync(["/frr-vrf:lib", "/frr-interface:lib"], NorthboundDataType.State))
            answers.Add(data.Json);
        Assert.Equal(2, answers.Count);
        Assert.Contains("\"frr-interface:lib\"", answers[0]);
        Assert.Contains("\"frr-vrf:lib\"", answers[1]);

        Assert.True(router.IsRunning("zebra"), "zebra exited:\n" + router.Log("zebra"));
        Assert.NotNull((await zebra.GetCapabilitiesAsync()).FrrVersion);
    }

    [SkippableFact]
    public async Task Hundreds_of_routes_in_one_commit_and_a_rib_larger_than_one_http2_frame()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync("zebra", "staticd");
        using var factory = router.CreateFactory();
        var routing = new FrrRouting(factory);
        var vips = Enumerable.Range(0, 300).Select(i => IpPrefix.Parse($"198.18.{i / 250}.{i % 250 + 1}/32")).ToList();

        var clock = Stopwatch.StartNew();
        var result = await factory.For(FrrDaemon.Staticd).ApplyAsync(vips.Select(v => YangEdit.Update(YangPaths.StaticBlackholeType(v), "null")).ToList());
        output.WriteLine($"300 routes committed in {clock.ElapsedMilliseconds} ms: {result}");
        Assert.True(result.Changed);

        clock.Restart();
        var rib = await TestNetns.PollAsync(() => routing.GetRibAsync(), r => r.Count(e => e.Protocol == "static" && e.Installed) == 300,
            Converge, "300 static routes installed");
        output.WriteLine($"RIB with {rib.Count} entries read and installed after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(300, (await routing.ListVipRoutesAsync()).Count);

        var json = "";
        await foreach (var data in factory.For(FrrDaemon.Zebra).GetAsync([YangPaths.VrfLib], NorthboundDataType.State))
            json = data.Json;
        output.WriteLine($"one Get message of {json.Length} bytes");
        Assert.True(json.Length > 16 * 1024, "the answer should span several HTTP/2 DATA frames");

        var removal = await factory.For(FrrDaemon.Staticd).ApplyAsync(vips.Select(v => YangEdit.Delete(YangPaths.StaticRoute(v))).ToList());
        Assert.True(removal.Changed);
        await TestNetns.PollAsync(() => routing.GetRibAsync(), r => !r.Any(e => e.Protocol == "static"), Converge, "static routes gone");
    }

    [SkippableFact]
    public async Task Config_lock_is_exclusive_until_unlocked()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync("zebra", "staticd");
        using var factory = router.CreateFactory();
        var staticd = factory.For(FrrDaemon.Staticd);

        await staticd.LockConfigAsync();
        var again = await Assert.ThrowsAsync<FrrNorthboundException>(() => staticd.LockConfigAsync());
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        Assert.Contains("LockConfig on staticd", again.Message);
        await staticd.UnlockConfigAsync();
        var twice = await Assert.ThrowsAsync<FrrNorthboundException>(() => staticd.UnlockConfigAsync());
        Assert.Equal(StatusCode.FailedPrecondition, twice.StatusCode);
    }

    [SkippableFact]
    public async Task Phased_commit_and_an_invalid_edit()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync("zebra", "staticd");
        using var factory = router.CreateFactory();
        var staticd = factory.For(FrrDaemon.Staticd);
        var vip = IpPrefix.Parse("203.0.113.88/32");

        var candidate = await staticd.CreateCandidateAsync();
        await staticd.EditCandidateAsync(candidate, [YangEdit.Update(YangPaths.StaticBlackholeType(vip), "null")]);
        await staticd.CommitAsync(candidate, CommitPhase.Validate);
        await staticd.CommitAsync(candidate, CommitPhase.Prepare);
        await staticd.CommitAsync(candidate, CommitPhase.Apply);

        // 8.4.4 crashes on this delete (use after free of the applied transaction): the client refuses it.
        await Assert.ThrowsAsync<FrrRequestRefusedException>(() => staticd.DeleteCandidateAsync(candidate));
        Assert.True(router.IsRunning("staticd"), "staticd exited:\n" + router.Log("staticd"));
        Assert.Contains(new StaticRoute(vip, StaticNexthop.Blackhole), await new FrrRouting(factory).ListVipRoutesAsync());

        var invalid = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            staticd.ApplyAsync([YangEdit.Update(YangPaths.Staticd + "/no-such-node", "1")]));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Equal("EditCandidate", invalid.Method);

        var gone = await Assert.ThrowsAsync<FrrNorthboundException>(() => staticd.DeleteCandidateAsync(candidate + 1000));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.True(router.IsRunning("staticd"), "staticd exited:\n" + router.Log("staticd"));
    }

    [SkippableFact]
    public async Task Each_daemon_is_one_http2_connection_across_calls_and_errors()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartAsync("zebra", "staticd");
        var connects = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var factory = router.CreateFactory(onConnect: connects.Enqueue);
        var routing = new FrrRouting(factory);
        var vip = IpPrefix.Parse("203.0.113.99/32");

        // Unary calls, streaming Gets, an ABORTED "no changes" commit and an INVALID_ARGUMENT error:
        // FRR's server keeps the connection (it drops it when pinged, so the client sends no keep-alive pings).
        for (var i = 0; i < 4; i++)
        {
            await routing.AddVipRouteAsync(vip, StaticNexthop.Blackhole);
            await routing.ListVipRoutesAsync();
            await routing.RemoveVipRouteAsync(vip);
            await routing.RemoveVipRouteAsync(vip);
            await routing.GetRibAsync();
        }

        output.WriteLine("connections: " + string.Join(", ", connects));
        Assert.Equal(["127.0.0.1:50051", "127.0.0.1:50052"], connects.Order());
    }
}
