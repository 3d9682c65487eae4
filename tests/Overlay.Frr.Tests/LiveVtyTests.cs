using System.Net;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Frr.Tests.Support;
using Overlay.Frr.Vty;

namespace Overlay.Frr.Tests;

/// <summary>The vty client and show parsers against real ospfd/bgpd in a namespace.</summary>
public sealed class LiveVtyTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Show_commands_work_without_enable_and_parse()
    {
        Skip.If(FrrTestRouter.MissingPrerequisite() is not null, FrrTestRouter.MissingPrerequisite());
        await using var router = await FrrTestRouter.StartWithConfigAsync(new Dictionary<string, string>
        {
            ["zebra"] = "",
            ["ospfd"] = "router ospf\n ospf router-id 10.99.0.1\n network 10.99.0.0/30 area 0\nexit\n",
            ["bgpd"] = "router bgp 65001\n bgp router-id 10.99.0.1\n no bgp ebgp-requires-policy\n no bgp network import-check\n" +
                       " neighbor 10.99.0.2 remote-as 65002\n address-family ipv4 unicast\n  network 203.0.113.0/24\n exit-address-family\nexit\n",
        });
        var vty = new UnixVty(router.VtyOptions);
        var show = new FrrShow(vty);

        Assert.Empty(await show.GetOspfNeighborsAsync());

        var summary = await show.GetBgpSummaryAsync();
        var peer = Assert.Single(summary.Ipv4Unicast!.Peers);
        Assert.Equal("10.99.0.2", peer.Neighbor);
        Assert.False(peer.Established); // nobody speaks BGP on the far end
        output.WriteLine($"peer {peer.Neighbor} state {peer.State}");

        var route = await TestNetns.PollAsync(() => show.GetBgpRouteAsync(IpPrefix.Parse("203.0.113.0/24")), r => r?.BestPath is not null,
            TimeSpan.FromSeconds(15), "locally originated prefix in the BGP table with a best path");
        Assert.NotNull(route!.BestPath);
        Assert.Equal("Local", route.BestPath!.AsPath);
        Assert.Equal("IGP", route.BestPath.Origin);

        Assert.Null(await show.GetBgpRouteAsync(IpPrefix.Parse("198.51.100.99/32")));
        Assert.Null(await show.GetBgpRouteAsync(IpPrefix.Parse("2001:db8:99::/64")));

        // The text form answers "% Network not in table" with status Warning.
        var warning = await Assert.ThrowsAsync<FrrVtyException>(() => vty.ExecuteAsync(FrrDaemon.Bgpd, "show bgp ipv4 unicast 198.51.100.99/32"));
        Assert.Equal(VtyStatus.Warning, warning.Status);
        Assert.True(ShowParsers.IsNetworkNotInTable(warning.Output));

        var unknown = await Assert.ThrowsAsync<FrrVtyException>(() => vty.ExecuteAsync(FrrDaemon.Ospfd, "show nonsense"));
        Assert.Equal(VtyStatus.NoMatch, unknown.Status);
        Assert.Contains("Unknown command", unknown.Output);
    }
}
