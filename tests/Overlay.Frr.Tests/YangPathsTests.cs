using System.Net;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;

namespace Overlay.Frr.Tests;

public sealed class YangPathsTests
{
    private const string Staticd =
        "/frr-routing:routing/control-plane-protocols/control-plane-protocol[type='frr-staticd:staticd'][name='staticd'][vrf='default']/frr-staticd:staticd";

    public static TheoryData<string, string> Paths => new()
    {
        // The exact path measured to install "blackhole 203.0.113.10 proto static" on FRR 8.4.4.
        {
            YangPaths.StaticBlackholeType(IpPrefix.Parse("203.0.113.10/32")),
            Staticd + "/route-list[prefix='203.0.113.10/32'][afi-safi='frr-routing:ipv4-unicast']/path-list[table-id='0'][distance='1']/frr-nexthops/nexthop[nh-type='blackhole'][vrf='default'][gateway=''][interface='(null)']/bh-type"
        },
        {
            YangPaths.StaticInterfaceNexthop(IpPrefix.Parse("2001:db8::10/128"), "ovl-web"),
            Staticd + "/route-list[prefix='2001:db8::10/128'][afi-safi='frr-routing:ipv6-unicast']/path-list[table-id='0'][distance='1']/frr-nexthops/nexthop[nh-type='ifindex'][vrf='default'][gateway=''][interface='ovl-web']"
        },
        {
            YangPaths.StaticInterfaceNexthop(IpPrefix.Parse("203.0.113.10/32"), "wg-e1-up1", distance: 200),
            Staticd + "/route-list[prefix='203.0.113.10/32'][afi-safi='frr-routing:ipv4-unicast']/path-list[table-id='0'][distance='200']/frr-nexthops/nexthop[nh-type='ifindex'][vrf='default'][gateway=''][interface='wg-e1-up1']"
        },
        {
            YangPaths.StaticRoute(IpPrefix.Parse("198.51.100.7/32")),
            Staticd + "/route-list[prefix='198.51.100.7/32'][afi-safi='frr-routing:ipv4-unicast']"
        },
        {
            YangPaths.BfdSingleHop(IPAddress.Parse("10.255.1.2"), "wg-e1-up1"),
            "/frr-bfdd:bfdd/bfd/sessions/single-hop[dest-addr='10.255.1.2'][interface='wg-e1-up1'][vrf='default']"
        },
        {
            YangPaths.BfdSingleHop(IPAddress.Parse("2001:db8:ff::2"), "wg-x", "blue"),
            "/frr-bfdd:bfdd/bfd/sessions/single-hop[dest-addr='2001:db8:ff::2'][interface='wg-x'][vrf='blue']"
        },
        { YangPaths.VrfLib, "/frr-vrf:lib" },
        { YangPaths.Bfdd, "/frr-bfdd:bfdd" },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Paths_are_the_ones_frr_8_4_accepts(string actual, string expected)
    {
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-name-longer-than-15")]
    [InlineData("wg'x")]
    [InlineData("wg]x")]
    [InlineData("wg x")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Unusable_interface_names_are_rejected_with_the_name(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => YangPaths.StaticInterfaceNexthop(IpPrefix.Parse("203.0.113.1/32"), name));
        Assert.Contains($"'{name}'", error.Message);
    }

    [Fact]
    public void Scoped_ipv6_bfd_peer_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => YangPaths.BfdSingleHop(IPAddress.Parse("fe80::1%2"), "wg-x"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Distance_outside_1_to_255_is_rejected(int distance)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => YangPaths.StaticRoutePath(IpPrefix.Parse("203.0.113.1/32"), distance));
    }
}
