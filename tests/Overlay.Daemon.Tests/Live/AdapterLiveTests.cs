using System.Diagnostics;
using System.Net;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Adapters;
using Overlay.Daemon.Ports;
using Overlay.Frr.Northbound;
using Overlay.Lab;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.WireGuard;

namespace Overlay.Daemon.Tests.Live;

/// <summary>One lab for all adapter tests; started on first use, torn down with the class.</summary>
public sealed class AdapterLab : IAsyncLifetime
{
    public NodeLab Nodes { get; } = new();
    public RunningLab? Lab { get; private set; }
    public NetNamespace? NamespaceA { get; private set; }
    public RtnetlinkClient? Rtnl { get; private set; }
    public string? SkipReason { get; } = NodeLab.Missing();
    public string Startup { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (SkipReason is not null) return;
        Lab = await RunningLab.StartAsync(Nodes.Topology);
        NamespaceA = NetNamespace.Open(Nodes.A.Namespace);
        Rtnl = RtnetlinkClient.Open(NamespaceA);
        Startup = string.Join(", ", Lab.StartupTimings.Select(t => $"{t.Step} {t.Took.TotalMilliseconds:0} ms"));
    }

    public async Task DisposeAsync()
    {
        Rtnl?.Dispose();
        NamespaceA?.Dispose();
        if (Lab is not null) await Lab.DisposeAsync();
    }
}

[Collection(LiveDaemonCollection.Name)]
public sealed class AdapterLiveTests(AdapterLab fixture, ITestOutputHelper output) : IClassFixture<AdapterLab>
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(10);

    private RunningLab Lab
    {
        get
        {
            Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
            return fixture.Lab!;
        }
    }

    private NodeLab N => fixture.Nodes;

    [SkippableFact]
    public async Task VIP_route_over_staticd_is_advertised_to_the_upstream_listed_and_withdrawn_idempotently()
    {
        var lab = Lab;
        await N.WaitConvergedAsync(lab, output);
        var router = lab.Router(N.A);
        var vip = IpPrefix.Parse("203.0.113.20/32");
        string lease = N.LeaseName("a");
        var advertiser = new FrrVipAdvertiser(router.Routing, new HashSet<string> { lease });
        var probe = new BgpUpstreamPathProbe(router.Vty, router.Show, d => lab.VtySocketPath(N.A, d));
        await using var held = await new TunLeaseManager(fixture.NamespaceA!, fixture.Rtnl!).AcquireAsync(lease, vip, CancellationToken.None);

        var sw = Stopwatch.StartNew();
        await advertiser.AdvertiseAsync(new VipRoute(vip, lease), CancellationToken.None);
        var commit = sw.Elapsed;
        var atU = await Poll.UntilAsync("VIP at U", ct => NodeLab.UpstreamHasVipAsync(lab, N.U, vip, ct), NodeLab.Converge, Fast);
        var probed = await Poll.UntilAsync("probe sees our path sent to U", ct => probe.UpstreamHasPathAsync(vip, ct), NodeLab.Converge, Fast);
        output.WriteLine($"advertise: commit {commit.TotalMilliseconds:0} ms, at U +{atU.TotalMilliseconds:0} ms, probe true +{probed.TotalMilliseconds:0} ms");
        Assert.Equal([new VipRoute(vip, lease)], await advertiser.ListAsync(CancellationToken.None));
        Assert.Contains($"dev {lease}", (await lab.ExecAsync(N.A, $"ip route show {vip}")).StdOut);

        // Idempotent: the same advertisement again is FRR's "no change", not an error.
        await advertiser.AdvertiseAsync(new VipRoute(vip, lease), CancellationToken.None);
        // A route on an interface this config does not name is not listed as ours.
        var reloaded = new FrrVipAdvertiser(router.Routing, ["other"]);
        Assert.Empty(await reloaded.ListAsync(CancellationToken.None));
        // A lease first advertised after start (a VIP added by a reload) is ours from then on.
        await reloaded.AdvertiseAsync(new VipRoute(vip, lease), CancellationToken.None);
        Assert.Equal([new VipRoute(vip, lease)], await reloaded.ListAsync(CancellationToken.None));

        sw.Restart();
        await advertiser.WithdrawAsync(vip, CancellationToken.None);
        commit = sw.Elapsed;
        var goneAtU = await Poll.UntilAsync("VIP gone at U", async ct => !await NodeLab.UpstreamHasVipAsync(lab, N.U, vip, ct), NodeLab.Converge, Fast);
        var probeClear = await Poll.UntilAsync("probe clear", async ct => !await probe.UpstreamHasPathAsync(vip, ct), NodeLab.Converge, Fast);
        output.WriteLine($"withdraw: commit {commit.TotalMilliseconds:0} ms, gone at U +{goneAtU.TotalMilliseconds:0} ms, probe false +{probeClear.TotalMilliseconds:0} ms");
        await advertiser.WithdrawAsync(vip, CancellationToken.None);
        Assert.Empty(await advertiser.ListAsync(CancellationToken.None));
        // Without bgpd there is no upstream to wait for.
        Assert.False(await new BgpUpstreamPathProbe(router.Vty, router.Show, _ => "/nonexistent/bgpd.vty").UpstreamHasPathAsync(vip, CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_dead_staticd_is_an_error_the_writer_can_record_and_the_same_client_recovers_when_it_returns()
    {
        var lab = Lab;
        var router = lab.Router(N.A);
        var vip = IpPrefix.Parse("203.0.113.22/32");
        string lease = N.LeaseName("c");
        var advertiser = new FrrVipAdvertiser(router.Routing, new HashSet<string> { lease });
        await advertiser.ListAsync(CancellationToken.None); // the connection is open before staticd dies

        var staticd = lab.Daemon(N.A, FrrDaemon.Staticd);
        staticd.Kill();
        Assert.True(await staticd.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var sw = Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => advertiser.AdvertiseAsync(new VipRoute(vip, lease), CancellationToken.None));
        output.WriteLine($"advertise with staticd dead failed after {sw.Elapsed.TotalMilliseconds:0} ms: {error.GetType().Name}: {error.Message}");
        Assert.IsNotType<OperationCanceledException>(error);

        await lab.RestartAsync(staticd);
        await advertiser.AdvertiseAsync(new VipRoute(vip, lease), CancellationToken.None);
        Assert.Contains(new VipRoute(vip, lease), await advertiser.ListAsync(CancellationToken.None));
        await advertiser.WithdrawAsync(vip, CancellationToken.None);
    }

    [SkippableFact]
    public async Task Lease_is_a_TUN_that_is_up_carries_the_VIP_and_goes_away_on_release()
    {
        var lab = Lab;
        string name = N.LeaseName("b");
        var vip = IpPrefix.Parse("203.0.113.21/32");
        var lease = await new TunLeaseManager(fixture.NamespaceA!, fixture.Rtnl!).AcquireAsync(name, vip, CancellationToken.None);
        var local = (await lab.ExecAsync(N.A, $"ip route show table local dev {name}")).StdOut;
        Assert.Contains("local 203.0.113.21", local);
        // The host accepts the VIP as its own: a socket can bind it.
        using (var s = lab.CreateSocket(N.A, System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
            s.Bind(new IPEndPoint(vip.Address, 0));
        Assert.Contains("UP", (await lab.ExecAsync(N.A, $"ip -o link show dev {name}")).StdOut);
        await lease.DisposeAsync();
        await Poll.UntilAsync("TUN gone", async ct => await fixture.Rtnl!.Links.GetAsync(name, ct) is null, NodeLab.Converge);
        Assert.DoesNotContain("203.0.113.21", (await lab.ExecAsync(N.A, "ip route show table local")).StdOut);
    }

    [SkippableFact]
    public async Task WireGuard_state_comes_from_wireguard_go_through_the_composite_client()
    {
        var lab = Lab;
        await N.WaitConvergedAsync(lab, output);
        using var client = WireGuardClient.Create(new WireGuardClientOptions { Namespace = fixture.NamespaceA });
        var source = new WireGuardStateSource(client);
        var wg = await source.GetInterfaceAsync(N.Tunnel.InterfaceA, CancellationToken.None);
        Assert.NotNull(wg);
        var peer = Assert.Single(wg.Peers);
        Assert.Equal(N.Tunnel.PublicKeyB, peer.PublicKey.ToBase64());
        Assert.NotNull(peer.LastHandshake);
        Assert.True(peer.ReceiveBytes > 0);
        Assert.Null(await source.GetInterfaceAsync("olvnosuchwg", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Link_state_is_read_and_changes_arrive_as_events()
    {
        var lab = Lab;
        var links = new NetlinkLinkStateSource(fixture.Rtnl!, fixture.NamespaceA!);
        string wg = N.Tunnel.InterfaceA;
        Assert.Contains(await links.GetOperStateAsync(wg, CancellationToken.None), new[] { LinkOperState.Up, LinkOperState.Unknown });
        Assert.Equal(LinkOperState.NotPresent, await links.GetOperStateAsync("olvnosuch", CancellationToken.None));

        using var cts = new CancellationTokenSource(NodeLab.Converge);
        await using var events = links.WatchAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        // The first MoveNext opens the monitor's socket and joins its group before it returns: no change can be missed.
        var next = events.MoveNextAsync().AsTask();
        var sw = Stopwatch.StartNew();
        await lab.SetTunnelInterfaceStateAsync(N.Tunnel, N.A, up: false);
        try
        {
            LinkStateChange? seen = null;
            while (await next)
            {
                if (events.Current.Interface == wg && events.Current.State == LinkOperState.Down) { seen = events.Current; break; }
                next = events.MoveNextAsync().AsTask();
            }
            output.WriteLine($"link down event {sw.Elapsed.TotalMilliseconds:0} ms after 'ip link set down' was started");
            Assert.NotNull(seen);
            Assert.Equal(LinkOperState.Down, await links.GetOperStateAsync(wg, CancellationToken.None));
        }
        finally
        {
            await lab.SetTunnelInterfaceStateAsync(N.Tunnel, N.A, up: true);
        }
    }

    [SkippableFact]
    public async Task BFD_sessions_and_BGP_sessions_are_read_from_bfdd_and_bgpd()
    {
        var lab = Lab;
        await N.WaitConvergedAsync(lab, output);
        var router = lab.Router(N.A);
        var bfd = await new FrrBfdStateSource(router.Routing).GetSessionsAsync(CancellationToken.None);
        Assert.Contains(bfd, s => s.Peer.Equals(IPAddress.Parse("10.255.0.1")) && s.State == BfdSessionState.Up);

        var routing = await new FrrRoutingStateSource(router.Show, d => lab.VtySocketPath(N.A, d)).GetAsync(CancellationToken.None);
        Assert.Contains(routing.BgpSessions, b => b.Neighbor == "192.0.2.2" && b.Established);
        Assert.Empty(routing.OspfNeighbors); // A runs no ospfd: nothing to report, not an error
    }

    [SkippableFact]
    public async Task RIB_entries_covering_a_destination_come_from_zebra()
    {
        var lab = Lab;
        var rib = await new FrrRibSource(lab.Router(N.A).Routing).GetCoveringAsync(IPAddress.Parse("192.0.2.2"), CancellationToken.None);
        Assert.Contains(rib, e => e.Prefix == IpPrefix.Parse("192.0.2.0/30") && e.Protocol == "connected" && e.Selected);
        Assert.All(rib, e => Assert.True(e.Prefix.Contains(IPAddress.Parse("192.0.2.2"))));
    }

    [SkippableFact]
    public async Task Owned_kernel_routes_are_written_listed_looked_up_watched_and_deleted_idempotently()
    {
        var lab = Lab;
        var routes = new NetlinkKernelRoutes(fixture.Rtnl!, fixture.NamespaceA!);
        var route = new OwnedRoute(IpPrefix.Parse("10.20.0.0/16"), N.Tunnel.InterfaceA, 100);
        using var cts = new CancellationTokenSource(NodeLab.Converge);
        await using var events = routes.WatchRoutesAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var next = events.MoveNextAsync().AsTask();

        await routes.ReplaceAsync(route, CancellationToken.None);
        await routes.ReplaceAsync(route, CancellationToken.None);
        Assert.Contains(route, await routes.ListOwnedAsync(CancellationToken.None));
        var found = await routes.LookupAsync(IPAddress.Parse("10.20.1.1"), CancellationToken.None);
        Assert.NotNull(found);
        Assert.Equal(route.Prefix, found.MatchedPrefix);
        Assert.Equal(route.Dev, found.Dev);
        Assert.Equal("overlay", found.Protocol);
        Assert.Null(await routes.LookupAsync(IPAddress.Parse("100.64.0.1"), CancellationToken.None));

        // Someone else deletes it: the watch reports it (the daemon repairs on this event).
        var sw = Stopwatch.StartNew();
        await lab.ExecAsync(N.A, "ip route del 10.20.0.0/16");
        KernelRouteChange? removed = null;
        while (await next)
        {
            if (events.Current is { Removed: true, Owned: true } c && c.Prefix == route.Prefix) { removed = c; break; }
            next = events.MoveNextAsync().AsTask();
        }
        output.WriteLine($"foreign delete seen {sw.Elapsed.TotalMilliseconds:0} ms after 'ip route del' was started");
        Assert.NotNull(removed);

        await routes.ReplaceAsync(route, CancellationToken.None);
        await routes.DeleteAsync(route, CancellationToken.None);
        await routes.DeleteAsync(route, CancellationToken.None);
        Assert.DoesNotContain(route, await routes.ListOwnedAsync(CancellationToken.None));
    }
}
