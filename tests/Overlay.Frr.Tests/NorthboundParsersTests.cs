using System.Net;
using Overlay.Core.Net;
using Overlay.Frr.Routing;
using Overlay.Frr.Tests.Support;
using Overlay.Core.Model;

namespace Overlay.Frr.Tests;

/// <summary>Parsers over data trees captured from FRR 8.4.4 (Fixtures/).</summary>
public sealed class NorthboundParsersTests
{
    [Fact]
    public void Rib_lists_every_entry_with_flags_and_nexthops()
    {
        var rib = NorthboundParsers.ParseRib(Fixture.Read("zebra-lib-state.json"));

        Assert.All(rib, e => Assert.Equal("default", e.Vrf));
        Assert.Contains(rib, e => e.AfiSafi == "ipv4-multicast");

        // 198.51.100.1/32: learned by OSPF (not selected) and eBGP (selected, in the FIB).
        var entries = rib.Where(e => e.Prefix == IpPrefix.Parse("198.51.100.1/32") && e.AfiSafi == "ipv4-unicast").ToList();
        Assert.Equal(["ospf", "bgp"], entries.Select(e => e.Protocol));
        var ospf = entries[0];
        Assert.Equal((110, 10, false, false), (ospf.Distance, ospf.Metric, ospf.Selected, ospf.Installed));
        var ospfHop = Assert.Single(ospf.Nexthops);
        Assert.Equal(("ip4-ifindex", IPAddress.Parse("10.0.12.2"), "eth0", true, false), (ospfHop.Type, ospfHop.Gateway, ospfHop.Interface, ospfHop.Active, ospfHop.Fib));
        var bgp = entries[1];
        Assert.Equal((20, 0, true, true, 254u), (bgp.Distance, bgp.Metric, bgp.Selected, bgp.Installed, bgp.TableId));
        Assert.True(Assert.Single(bgp.Nexthops).Fib);
        Assert.Equal(DateTimeOffset.Parse("2026-11-22T00:24:01.978026+00:00"), bgp.Uptime);
    }

    [Fact]
    public void Rib_blackhole_and_interface_statics_have_no_gateway()
    {
        var rib = NorthboundParsers.ParseRib(Fixture.Read("zebra-lib-state.json"));

        var blackhole = Assert.Single(rib, e => e.Prefix == IpPrefix.Parse("203.0.113.10/32"));
        Assert.Equal(("static", 1, true, true), (blackhole.Protocol, blackhole.Distance, blackhole.Selected, blackhole.Installed));
        Assert.Equal(new RibNexthop(null, null, true) { Type = "blackhole", Fib = true, Weight = 1 }, Assert.Single(blackhole.Nexthops));

        var viaInterface = Assert.Single(rib, e => e.Prefix == IpPrefix.Parse("203.0.113.11/32"));
        Assert.Equal(new RibNexthop(null, "eth0", true) { Type = "ifindex", Fib = true, Weight = 1 }, Assert.Single(viaInterface.Nexthops));

        var v6 = Assert.Single(rib, e => e.Prefix == IpPrefix.Parse("2001:db8:ff::10/128"));
        Assert.Equal("ipv6-unicast", v6.AfiSafi);
    }

    public static TheoryData<string, BfdSessionState, BfdSessionState, BfdDiagnostic, uint?, uint, uint> BfdFixtures => new()
    {
        { "bfdd-state-up.json", BfdSessionState.Up, BfdSessionState.Up, BfdDiagnostic.Ok, 1637122u, 1u, 0u },
        { "bfdd-state-down.json", BfdSessionState.Down, BfdSessionState.Down, BfdDiagnostic.ControlExpired, null, 1u, 1u },
        { "bfdd-all.json", BfdSessionState.Up, BfdSessionState.Up, BfdDiagnostic.Ok, 1637122u, 1u, 0u },
    };

    [Theory]
    [MemberData(nameof(BfdFixtures))]
    public void Bfd_sessions_report_states_and_diagnostics(string fixture, BfdSessionState local, BfdSessionState remote, BfdDiagnostic diagnostic,
        uint? remoteDiscriminator, uint ups, uint downs)
    {
        var session = Assert.Single(NorthboundParsers.ParseBfdSessions(Fixture.Read(fixture)));

        Assert.Equal(IPAddress.Parse("10.0.12.2"), session.Peer);
        Assert.Equal(("eth0", "default", false), (session.Interface, session.Vrf, session.MultiHop));
        Assert.Equal((local, remote, diagnostic), (session.State, session.RemoteState, session.LocalDiagnostic));
        Assert.Equal(remoteDiscriminator, session.RemoteDiscriminator);
        Assert.Equal(TimeSpan.FromMilliseconds(100), session.NegotiatedTransmitInterval);
        Assert.Equal((ups, downs), (session.UpCount, session.DownCount));
        Assert.Equal(local == BfdSessionState.Up, session.IsUp);
    }

    [Theory]
    [InlineData("admin-down", BfdSessionState.AdminDown)]
    [InlineData("down", BfdSessionState.Down)]
    [InlineData("init", BfdSessionState.Init)]
    [InlineData("up", BfdSessionState.Up)]
    [InlineData("bogus", null)]
    [InlineData(null, null)]
    public void Bfd_state_names_follow_the_yang_enum(string? text, BfdSessionState? expected)
    {
        Assert.Equal(expected, NorthboundParsers.ParseBfdState(text));
    }

    [Fact]
    public void Static_routes_come_out_one_per_nexthop()
    {
        var routes = NorthboundParsers.ParseStaticRoutes(Fixture.Read("staticd-config.json"));

        Assert.Equal(
        [
            new StaticRoute(IpPrefix.Parse("192.0.2.0/24"), StaticNexthop.Blackhole),
            new StaticRoute(IpPrefix.Parse("2001:db8:aa::/64"), StaticNexthop.Blackhole),
            new StaticRoute(IpPrefix.Parse("203.0.113.10/32"), StaticNexthop.Blackhole),
            new StaticRoute(IpPrefix.Parse("203.0.113.11/32"), StaticNexthop.Via("eth0")),
            new StaticRoute(IpPrefix.Parse("2001:db8:ff::10/128"), StaticNexthop.Blackhole),
        ], routes);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"frr-vrf:lib\":{}}")]
    public void Empty_trees_are_empty_lists(string json)
    {
        Assert.Empty(NorthboundParsers.ParseRib(json));
        Assert.Empty(NorthboundParsers.ParseBfdSessions(json));
        Assert.Empty(NorthboundParsers.ParseStaticRoutes(json));
    }

    [Fact]
    public void Malformed_json_names_the_source()
    {
        var error = Assert.Throws<FrrParseException>(() => NorthboundParsers.ParseRib("{\"frr-vrf:lib\": "));
        Assert.Contains("zebra RIB", error.Message);
    }

    [Fact]
    public void Bad_prefix_names_the_value()
    {
        const string json = """{"frr-vrf:lib":{"vrf":[{"name":"default","frr-zebra:zebra":{"ribs":{"rib":[{"afi-safi-name":"frr-routing:ipv4-unicast","table-id":254,"route":[{"prefix":"nonsense"}]}]}}}]}}""";
        var error = Assert.Throws<FrrParseException>(() => NorthboundParsers.ParseRib(json));
        Assert.Contains("'nonsense'", error.Message);
    }
}
