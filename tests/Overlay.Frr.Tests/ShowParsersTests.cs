using System.Net;
using System.Text.Json.Nodes;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Frr.Routing;
using Overlay.Frr.Tests.Support;
using Overlay.Frr.Vty;

namespace Overlay.Frr.Tests;

/// <summary>Parsers over `show ... json` outputs captured from FRR 8.4.4 (Fixtures/).</summary>
public sealed class ShowParsersTests
{
    /// <summary>The real 8.4 fixture with one generation of key names removed from every neighbor.</summary>
    private static string OspfWithout(params string[] keys)
    {
        var root = JsonNode.Parse(Fixture.Read("ospf-neighbor-full.json"))!;
        foreach (var (_, list) in root["neighbors"]!.AsObject())
            foreach (var neighbor in list!.AsArray())
                foreach (var key in keys)
                    Assert.True(neighbor!.AsObject().Remove(key), $"fixture lacks {key}");
        return root.ToJsonString();
    }

    public static TheoryData<string, string> OspfVariants => new()
    {
        { "8.4 (both generations of keys)", Fixture.Read("ospf-neighbor-full.json") },
        { "9.0+ (new keys only)", OspfWithout("state", "address", "deadTimeMsecs", "priority") },
        { "older (old keys only)", OspfWithout("nbrState", "ifaceAddress", "routerDeadIntervalTimerDueMsec", "nbrPriority") },
    };

    [Theory]
    [MemberData(nameof(OspfVariants))]
    public void Ospf_neighbor_reads_new_names_with_fallback(string variant, string json)
    {
        var neighbor = Assert.Single(ShowParsers.ParseOspfNeighbors(json));

        Assert.True(neighbor.IsFull, variant);
        Assert.Equal(IPAddress.Parse("10.0.12.2"), neighbor.RouterId);
        Assert.Equal(IPAddress.Parse("10.0.12.2"), neighbor.Address);
        Assert.Equal("eth0", neighbor.Interface);
        Assert.Equal("Full/-", neighbor.StateText);
        Assert.Equal(1, neighbor.Priority);
        Assert.Equal("DROther", neighbor.Role);
        Assert.NotNull(neighbor.DeadTimerDue);
        Assert.NotNull(neighbor.Uptime);
    }

    [Fact]
    public void No_ospf_neighbors_is_an_empty_list()
    {
        Assert.Empty(ShowParsers.ParseOspfNeighbors(Fixture.Read("ospf-neighbor-none.json")));
        Assert.Empty(ShowParsers.ParseOspfNeighbors("{}"));
    }

    [Theory]
    [InlineData("Full/DR", OspfNeighborState.Full)]
    [InlineData("Full/-", OspfNeighborState.Full)]
    [InlineData("2-Way/DROther", OspfNeighborState.TwoWay)]
    [InlineData("ExStart/-", OspfNeighborState.ExStart)]
    [InlineData("Exchange/-", OspfNeighborState.Exchange)]
    [InlineData("Loading/-", OspfNeighborState.Loading)]
    [InlineData("Init/-", OspfNeighborState.Init)]
    [InlineData("Down", OspfNeighborState.Down)]
    [InlineData("Deleted/-", OspfNeighborState.Unknown)]
    public void Ospf_state_is_the_part_before_the_slash(string text, OspfNeighborState expected)
    {
        Assert.Equal(expected, ShowParsers.ParseOspfState(text));
    }

    [Fact]
    public void Bgp_summary_has_ipv4_and_ipv6_sections_with_established_peers()
    {
        var summary = ShowParsers.ParseBgpSummary(Fixture.Read("bgp-summary.json"));

        Assert.Equal(["ipv4Unicast", "ipv6Unicast"], summary.Families.Select(f => f.Family));
        var v4 = summary.Ipv4Unicast!;
        Assert.Equal(("10.0.12.1", 65001L, "default"), (v4.RouterId!, v4.As!.Value, v4.Vrf!));
        Assert.Equal(["10.0.12.2", "2001:db8:12::2"], v4.Peers.Select(p => p.Neighbor));
        var peer = v4.Peers[0];
        Assert.True(peer.Established);
        Assert.Equal((IPAddress.Parse("10.0.12.2"), null, "ipv4Unicast", "vm"), (peer.Address, peer.Interface, peer.Family, peer.Hostname));
        Assert.Equal((65002L, 65001L, 1L, 2L), (peer.RemoteAs!.Value, peer.LocalAs!.Value, peer.PrefixesReceived, peer.PrefixesSent!.Value));
        Assert.Equal(TimeSpan.FromSeconds(7), peer.Uptime);
        var v6 = Assert.Single(summary.Ipv6Unicast!.Peers);
        Assert.Equal(("2001:db8:12::2", 0L, "ipv6Unicast"), (v6.Neighbor, v6.PrefixesReceived, v6.Family));
        Assert.Equal(3, summary.AllPeers.Count());
    }

    [Fact]
    public void Bgp_summary_with_peers_down()
    {
        var summary = ShowParsers.ParseBgpSummary(Fixture.Read("bgp-summary-down.json"));
        Assert.All(summary.AllPeers, p => Assert.False(p.Established));
        Assert.Equal("Active", summary.Ipv4Unicast!.Peers[0].State);
    }

    /// <summary>
    /// The real fixture with its IPv4 peer turned into an unnumbered one, as bgpd lists it: keyed by the interface
    /// name, idType "interface". (The capture lab had no unnumbered session.)
    /// </summary>
    private static string BgpSummaryWithUnnumbered(string interfaceName)
    {
        var root = JsonNode.Parse(Fixture.Read("bgp-summary.json"))!;
        var peers = root["ipv4Unicast"]!["peers"]!.AsObject();
        var peer = peers["10.0.12.2"]!.AsObject();
        Assert.True(peers.Remove("10.0.12.2"));
        peer["idType"] = "interface";
        peers[interfaceName] = peer;
        return root.ToJsonString();
    }

    [Theory]
    [InlineData("wg-u1")]
    [InlineData("10")] // a legal interface name that IPAddress would read as 0.0.0.10
    public void Bgp_summary_keeps_an_unnumbered_peer_by_its_interface(string interfaceName)
    {
        var summary = ShowParsers.ParseBgpSummary(BgpSummaryWithUnnumbered(interfaceName));

        var peer = summary.Ipv4Unicast!.Peers.Single(p => p.Neighbor == interfaceName);
        Assert.Equal(interfaceName, peer.Interface);
        Assert.Null(peer.Address);
        Assert.True(peer.Established);
        Assert.Equal((65002L, 1L, "ipv4Unicast"), (peer.RemoteAs!.Value, peer.PrefixesReceived, peer.Family));
        Assert.Equal(3, summary.AllPeers.Count());
    }

    [Fact]
    public void Bgp_summary_without_instance_is_empty()
    {
        Assert.Empty(ShowParsers.ParseBgpSummary("{}\n").Families);
    }

    [Fact]
    public void Bgp_ipv4_prefix_has_both_paths_and_the_best_one()
    {
        var route = ShowParsers.ParseBgpRoute(Fixture.Read("bgp-ipv4-prefix.json"))!;

        Assert.Equal(IpPrefix.Parse("198.51.100.1/32"), route.Prefix);
        Assert.Equal(2, route.Paths.Count);
        var best = route.BestPath!;
        Assert.Equal(("65002", "IGP", true, "Neighbor IP"), (best.AsPath, best.Origin, best.Valid, best.SelectionReason));
        Assert.Equal(("10.0.12.2", "10.0.12.2", "external"), (best.PeerId, best.PeerRouterId, best.PeerType));
        var hop = Assert.Single(best.Nexthops);
        Assert.Equal((IPAddress.Parse("10.0.12.2"), "ipv4", true, true), (hop.Address, hop.Afi, hop.Accessible, hop.Used));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795307042), best.LastUpdate);
        Assert.False(route.Paths[0].Best);
    }

    [Fact]
    public void Bgp_ipv6_prefix_has_global_and_link_local_nexthops()
    {
        var route = ShowParsers.ParseBgpRoute(Fixture.Read("bgp-ipv6-prefix.json"))!;

        Assert.Equal(IpPrefix.Parse("2001:db8:aa::/64"), route.Prefix);
        var path = Assert.Single(route.Paths);
        Assert.Equal(("65001", "incomplete", true), (path.AsPath, path.Origin, path.Best));
        Assert.Equal(["global", "link-local"], path.Nexthops.Select(n => n.Scope));
        Assert.Equal([false, true], path.Nexthops.Select(n => n.Used));
    }

    [Fact]
    public void Locally_redistributed_prefix_on_the_far_router()
    {
        var route = ShowParsers.ParseBgpRoute(Fixture.Read("bgp-ipv4-prefix-b.json"))!;
        Assert.Equal(IpPrefix.Parse("192.0.2.0/24"), route.Prefix);
        Assert.NotNull(route.BestPath);
    }

    [Theory]
    [InlineData("bgp-ipv4-prefix-missing.json")]
    [InlineData("bgp-ipv4-prefix-missing.txt")]
    public void Missing_prefix_is_null(string fixture)
    {
        Assert.Null(ShowParsers.ParseBgpRoute(Fixture.Read(fixture)));
    }

    [Fact]
    public void No_bgp_instance_is_an_error_naming_the_warning()
    {
        var error = Assert.Throws<FrrParseException>(() => ShowParsers.ParseBgpRoute("{\n  \"warning\":\"Default BGP instance not found\"\n}\n"));
        Assert.Contains("Default BGP instance not found", error.Message);
    }
}
