using Overlay.Frr.Northbound;

namespace Overlay.Frr.Tests;

public sealed class QuirksAndEndpointsTests
{
    private const string KeyedRibs = "/frr-vrf:lib/vrf[name='default']/frr-zebra:zebra/ribs";

    public static TheoryData<FrrDaemon, string?, NorthboundDataType, string, bool> GetRequests => new()
    {
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.State, KeyedRibs, true },
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.All, KeyedRibs, true },
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.State, KeyedRibs + "/rib[afi-safi-name='frr-routing:ipv4-unicast'][table-id='254']", true },
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.State, "/frr-vrf:lib/vrf[name='red']/frr-zebra:zebra/ribs/rib", true },
        { FrrDaemon.Zebra, null, NorthboundDataType.State, KeyedRibs, true },           // unknown version: assume the worst
        { FrrDaemon.Zebra, "10.2.1", NorthboundDataType.State, KeyedRibs, true },       // no fixed release verified
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.Config, KeyedRibs, false },      // config reads never touch the RIB callbacks
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.State, "/frr-vrf:lib", false },
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.State, "/frr-vrf:lib/vrf[name='default']", false },
        { FrrDaemon.Zebra, "8.4.4", NorthboundDataType.State, "/frr-vrf:lib/vrf[name='default']/frr-zebra:zebra/ribsx", false },
        { FrrDaemon.Staticd, "8.4.4", NorthboundDataType.State, KeyedRibs, false },
    };

    [Theory]
    [MemberData(nameof(GetRequests))]
    public void Quirk_table_matches_only_known_crashing_gets(FrrDaemon daemon, string? version, NorthboundDataType type, string path, bool refused)
    {
        var quirk = FrrQuirks.FindForGet(daemon, FrrCapabilities.ParseVersion(version), type, path);
        Assert.Equal(refused, quirk is not null);
    }

    [Theory]
    [InlineData(FrrDaemon.Staticd, "8.4.4", true, true)]
    [InlineData(FrrDaemon.Bfdd, "8.4.4", true, true)]
    [InlineData(FrrDaemon.Zebra, null, true, true)]
    [InlineData(FrrDaemon.Staticd, "8.4.4", false, false)]
    public void Deleting_a_candidate_after_apply_or_abort_is_refused(FrrDaemon daemon, string? version, bool applyOrAbortSent, bool refused)
    {
        var quirk = FrrQuirks.FindForDeleteCandidate(daemon, FrrCapabilities.ParseVersion(version), applyOrAbortSent);
        Assert.Equal(refused, quirk is not null);
    }

    [Fact]
    public void Every_known_quirk_says_what_to_do_instead()
    {
        Assert.All(FrrQuirks.Known, q => Assert.False(string.IsNullOrWhiteSpace(q.Safe)));
        Assert.Equal(FrrQuirks.Known.Count, FrrQuirks.Known.Select(q => q.Id).Distinct().Count());
    }

    [Theory]
    [InlineData("8.4.4", "8.4.4")]
    [InlineData("8.4.4-dev", "8.4.4")]
    [InlineData("10.1", "10.1")]
    [InlineData("9", "9.0")]
    [InlineData("", null)]
    [InlineData("dev", null)]
    [InlineData(null, null)]
    public void Version_text_is_parsed_leniently(string? text, string? expected)
    {
        Assert.Equal(expected is null ? null : Version.Parse(expected), FrrCapabilities.ParseVersion(text));
    }

    [Fact]
    public void Serves_matches_module_names_exactly()
    {
        var caps = new FrrCapabilities(FrrDaemon.Bfdd, "8.4.4", false,
            [new YangModule("frr-bfdd", "FRRouting", "2019-05-09"), new YangModule("frr-vrf", "FRRouting", "2019-12-06")], ["Json"]);
        Assert.True(caps.Serves("frr-bfdd"));
        Assert.False(caps.Serves("frr-bfd"));
        Assert.False(caps.Serves("frr-ospfd"));
    }

    [Fact]
    public void Default_endpoints_give_each_daemon_its_own_port_on_loopback()
    {
        var endpoints = FrrEndpoints.Default;
        Assert.Equal(new Uri("http://127.0.0.1:50051/"), endpoints.GetAddress(FrrDaemon.Zebra));
        Assert.Equal(new Uri("http://127.0.0.1:50052/"), endpoints.GetAddress(FrrDaemon.Staticd));
        Assert.Equal(new Uri("http://127.0.0.1:50053/"), endpoints.GetAddress(FrrDaemon.Bfdd));
        var missing = Assert.Throws<InvalidOperationException>(() => endpoints.GetAddress(FrrDaemon.Bgpd));
        Assert.Contains("bgpd", missing.Message);
        Assert.Equal(new Uri("http://127.0.0.1:50055/"), endpoints.With(FrrDaemon.Bgpd, 50055).GetAddress(FrrDaemon.Bgpd));
        Assert.Equal("127.0.0.1", new FrrEndpoints(new Dictionary<FrrDaemon, int> { [FrrDaemon.Zebra] = 2620 }).Host);
    }

    [Fact]
    public void Endpoint_errors_are_reported_together()
    {
        var error = Assert.Throws<ArgumentException>(() => new FrrEndpoints("127.0.0.1", new Dictionary<FrrDaemon, int>
        {
            [FrrDaemon.Zebra] = 0,
            [FrrDaemon.Staticd] = 50052,
            [FrrDaemon.Bfdd] = 50052,
            [FrrDaemon.Bgpd] = 70000,
        }));
        Assert.Contains("zebra: port 0", error.Message);
        Assert.Contains("bgpd: port 70000", error.Message);
        Assert.Contains("port 50052 is given to several daemons (staticd, bfdd)", error.Message);
    }
}
