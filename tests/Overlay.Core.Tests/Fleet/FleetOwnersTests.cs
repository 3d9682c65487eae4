using System.Net;
using Overlay.Core.Fleet;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Xunit;
using Inventory = Overlay.Core.Inventories.Inventory;
using Overlay.Core.Model;

namespace Overlay.Core.Tests.Fleet;

/// <summary>The join behind 'overlayctl owners': what the nodes show against what the inventory says, table by table.</summary>
public sealed class FleetOwnersTests
{
    private const string Yaml = """
        gate: [10.0.0.0/8, 224.0.0.5/32]
        nodes:
          - { name: hub, id: 1, short: h, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU= }
          - { name: s1, id: 2, short: a, overlay: { v4: 10.10.0.2 }, subnets: [10.21.0.0/24], endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= }
          - { name: s2, id: 3, short: b, overlay: { v4: 10.10.0.3 }, subnets: [10.22.0.0/24], endpoint: 192.0.2.3:51820, publicKey: rlIXxwvQmHiH2BmeY45WxD63TH5NDL3dfH/fOtctLiw= }
        topology:
          type: hubAndSpoke
          primary: { node: hub, cost: 10 }
        vips:
          - { name: web, prefix: 203.0.113.10/32, members: [s1, s2] }
          - { name: api, prefix: 203.0.113.20/32, members: [s1] }
        """;

    private static readonly Inventory Inv = InventoryParser.Parse(Yaml, "t.yaml").Inventory ?? throw new InvalidOperationException("bad test inventory");

    private static readonly IpPrefix Web = IpPrefix.Parse("203.0.113.10/32"), Api = IpPrefix.Parse("203.0.113.20/32"),
        Lan1 = IpPrefix.Parse("10.21.0.0/24"), Lan2 = IpPrefix.Parse("10.22.0.0/24");

    private static readonly IPAddress Hub = IPAddress.Parse("10.10.0.1"), S1 = IPAddress.Parse("10.10.0.2"), S2 = IPAddress.Parse("10.10.0.3");

    /// <summary>The OSPF database every node shares when each owner originates what the inventory gives it.</summary>
    private static List<LsaOrigin> Lsdb(params (IpPrefix P, IPAddress R, LsaKind K)[] extra) =>
        [new(Lan1, S1, LsaKind.Stub), new(Lan2, S2, LsaKind.Stub), .. extra.Select(e => new LsaOrigin(e.P, e.R, e.K))];

    private static OverlaydView Overlayd(params (string Name, string State)[] vips) =>
        new(true, null, [.. vips.Select(v => new OverlaydVip(v.Name, "", v.State, v.State is "Advertised" or "PendingWithdraw", v.State == "Advertised" ? "healthy" : "wg-s1-h down"))]);

    private static NodeRouting Node(string name, List<LsaOrigin> lsdb, Dictionary<IpPrefix, RibEntry>? rib = null, OverlaydView? overlayd = null,
        Dictionary<string, IReadOnlyList<IpPrefix>>? bgp = null) =>
        new(name, lsdb, rib ?? new(), bgp ?? new(), overlayd ?? Overlayd(), []);

    private static RibEntry Ospf(params string[] interfaces) => R("ospf", [.. interfaces.Select(i => new RibNexthop(IPAddress.Parse("10.255.0.1"), i, true))]);

    // The join reads a selected route's protocol and nexthops only; the prefix is its dictionary key.
    private static RibEntry R(string protocol, IReadOnlyList<RibNexthop> hops) => new(IpPrefix.Parse("0.0.0.0/0"), protocol, 0, 0, true, true, hops);

    private static NodeOwnershipRead Read(NodeRouting r) => new(r.Node, r, null);

    /// <summary>Everything as intended: web at both sites (hub splits), api at s1, each LAN from its owner.</summary>
    private static List<NodeOwnershipRead> Healthy()
    {
        var lsdb = Lsdb((Web, S1, LsaKind.External), (Web, S2, LsaKind.External), (Api, S1, LsaKind.External));
        return
        [
            Read(Node("hub", lsdb, new() { [Web] = Ospf("wg-h-a", "wg-h-b"), [Api] = Ospf("wg-h-a"), [Lan1] = Ospf("wg-h-a"), [Lan2] = Ospf("wg-h-b") })),
            Read(Node("s1", lsdb, new() { [Web] = R("static", [new(null, "ovl-web", true)]), [Api] = R("static", [new(null, "ovl-api", true)]), [Lan1] = R("connected", [new(null, "eth1", true)]), [Lan2] = Ospf("wg-a-h") },
                Overlayd(("web", "Advertised"), ("api", "Advertised")))),
            Read(Node("s2", lsdb, new() { [Web] = R("static", [new(null, "ovl-web", true)]), [Api] = Ospf("wg-b-h"), [Lan1] = Ospf("wg-b-h"), [Lan2] = R("connected", [new(null, "eth1", true)]) },
                Overlayd(("web", "Advertised")))),
        ];
    }

    [Fact]
    public void Intended_lists_every_vip_with_its_members_and_every_subnet_with_its_node()
    {
        var intended = FleetOwners.Intended(Inv);
        Assert.Equal(["10.21.0.0/24 Subnet s1", "10.22.0.0/24 Subnet s2", "203.0.113.10/32 Vip s1,s2", "203.0.113.20/32 Vip s1"],
            intended.Select(p => $"{p.Prefix} {p.Kind} {string.Join(",", p.Origins)}"));
    }

    [Fact]
    public void A_fleet_as_the_inventory_says_has_no_differences_and_names_each_preferred_origin()
    {
        var report = FleetOwners.Join(Inv, Healthy());
        Assert.False(report.HasDifferences, string.Join("\n", report.Rows.SelectMany(r => r.Findings).Select(f => f.Text)));
        var web = report.Rows.Single(r => r.Prefix == Web);
        Assert.Equal(["s1", "s2"], web.Originators.Select(o => o.Node));
        Assert.All(web.Originators, o => Assert.Equal(["ospf external"], o.How));
        var hub = web.Preferences.Single(p => p.Observer == "hub");
        Assert.Equal(["s1", "s2"], hub.Origins); // ECMP: one next hop toward each site
        Assert.Equal(["s1", "s2"], hub.Via);
        var lan1 = report.Rows.Single(r => r.Prefix == Lan1);
        Assert.Equal("s1", Assert.Single(lan1.Originators).Node);
        Assert.Equal(["s1"], lan1.Preferences.Single(p => p.Observer == "s2").Origins); // via the hub, single origin
        Assert.Equal(["hub"], lan1.Preferences.Single(p => p.Observer == "s2").Via);
    }

    [Fact]
    public void A_site_advertising_a_vip_it_is_not_a_member_of_is_an_unexpected_origin_and_observers_that_prefer_it_are_named()
    {
        var reads = Healthy();
        // s2 also originates api (say, a static route someone left behind, redistributed without the route-map).
        var lsdb = Lsdb((Web, S1, LsaKind.External), (Web, S2, LsaKind.External), (Api, S1, LsaKind.External), (Api, S2, LsaKind.External));
        reads = [.. reads.Select(r => Read(r.Routing! with { Lsdb = lsdb, Rib = new Dictionary<IpPrefix, RibEntry>(r.Routing.Rib) { [Api] = r.Node == "hub" ? Ospf("wg-h-b") : r.Routing.Rib[Api] } }))];
        var report = FleetOwners.Join(Inv, reads);
        Assert.True(report.HasDifferences);
        var api = report.Rows.Single(r => r.Prefix == Api);
        Assert.False(api.AsIntended);
        var unexpected = Assert.Single(api.Findings, f => f.Kind == OwnerFindingKind.UnexpectedOrigin);
        Assert.Equal("s2", unexpected.Node);
        Assert.Contains("s2 originates VIP api (203.0.113.20/32) (ospf external), but the inventory gives it to s1", unexpected.Text);
        Assert.Contains(api.Findings, f => f.Kind == OwnerFindingKind.PrefersUnexpected && f.Node == "hub");
        Assert.True(report.Rows.Single(r => r.Prefix == Web).AsIntended, "the other rows are unaffected");
    }

    [Fact]
    public void A_vip_no_member_originates_is_advertised_nowhere_with_each_members_overlayd_reason()
    {
        var lsdb = Lsdb((Web, S1, LsaKind.External), (Web, S2, LsaKind.External));
        var reads = Healthy().Select(r => Read(r.Routing! with
        {
            Lsdb = lsdb,
            Overlayd = r.Node == "s1" ? OverlaydView.NotAnswering("no control socket at '/run/overlay/overlayd.sock'") : r.Routing.Overlayd,
            Rib = r.Routing.Rib.Where(kv => kv.Key != Api).ToDictionary(),
        })).ToList();
        var api = FleetOwners.Join(Inv, reads).Rows.Single(r => r.Prefix == Api);
        Assert.Empty(api.Originators);
        var nowhere = Assert.Single(api.Findings, f => f.Kind == OwnerFindingKind.AdvertisedNowhere);
        Assert.Contains("advertised by none of its members (s1): s1 (overlayd not answering: no control socket", nowhere.Text);
        Assert.Contains(api.Findings, f => f.Kind == OwnerFindingKind.OverlaydNotAnswering && !f.IsDifference);
        Assert.All(api.Preferences, p => Assert.Null(p.Protocol)); // nobody has a route
    }

    [Fact]
    public void A_member_withdrawn_by_overlayd_while_the_other_site_serves_is_a_note_not_a_difference()
    {
        var lsdb = Lsdb((Web, S2, LsaKind.External), (Api, S1, LsaKind.External));
        var reads = Healthy().Select(r => Read(r.Routing! with
        {
            Lsdb = lsdb,
            Overlayd = r.Node == "s1" ? Overlayd(("web", "Withdrawn"), ("api", "Advertised")) : r.Routing.Overlayd,
            Rib = new Dictionary<IpPrefix, RibEntry>(r.Routing.Rib) { [Web] = r.Node == "hub" ? Ospf("wg-h-b") : r.Node == "s1" ? Ospf("wg-a-h") : r.Routing.Rib[Web] },
        })).ToList();
        var web = FleetOwners.Join(Inv, reads).Rows.Single(r => r.Prefix == Web);
        Assert.True(web.AsIntended);
        var note = Assert.Single(web.Findings);
        Assert.Equal(OwnerFindingKind.MemberNotOriginating, note.Kind);
        Assert.Contains("member s1 does not originate it (overlayd: Withdrawn, wg-s1-h down)", note.Text);
        Assert.Equal(["s2"], web.Preferences.Single(p => p.Observer == "s1").Origins);
    }

    [Fact]
    public void Overlayd_advertising_while_frr_does_not_originate_is_a_mismatch()
    {
        var lsdb = Lsdb((Web, S2, LsaKind.External), (Api, S1, LsaKind.External));
        var reads = Healthy().Select(r => Read(r.Routing! with { Lsdb = lsdb })).ToList();
        var web = FleetOwners.Join(Inv, reads).Rows.Single(r => r.Prefix == Web);
        var mismatch = Assert.Single(web.Findings, f => f.Kind == OwnerFindingKind.OverlaydFrrMismatch);
        Assert.Equal("s1", mismatch.Node);
        Assert.Contains("overlayd says Advertised (lease held) but FRR does not originate it", mismatch.Text);
    }

    [Fact]
    public void A_subnet_from_a_router_the_inventory_does_not_know_and_not_from_its_owner_is_two_differences()
    {
        var stranger = IPAddress.Parse("10.99.0.9");
        var lsdb = new List<LsaOrigin> { new(Lan1, stranger, LsaKind.Stub), new(Lan2, S2, LsaKind.Stub), new(Web, S1, LsaKind.External), new(Web, S2, LsaKind.External), new(Api, S1, LsaKind.External) };
        var reads = Healthy().Select(r => Read(r.Routing! with { Lsdb = lsdb })).ToList();
        var lan1 = FleetOwners.Join(Inv, reads).Rows.Single(r => r.Prefix == Lan1);
        var o = Assert.Single(lan1.Originators);
        Assert.Equal("router 10.99.0.9", o.Node);
        Assert.False(o.Known);
        Assert.Contains(lan1.Findings, f => f.Kind == OwnerFindingKind.UnexpectedOrigin && f.Text.Contains("no node of the inventory has this router id"));
        Assert.Contains(lan1.Findings, f => f.Kind == OwnerFindingKind.OwnerNotOriginating && f.Node == "s1");
    }

    [Fact]
    public void Bgp_advertisements_to_upstreams_count_as_origins_and_unreadable_nodes_are_reported_apart()
    {
        var reads = Healthy();
        reads[1] = Read(reads[1].Routing! with { AdvertisedToUpstream = new Dictionary<string, IReadOnlyList<IpPrefix>> { ["198.51.100.1"] = [Web] } });
        reads[2] = new NodeOwnershipRead("s2", null, "s2: ssh: connect to host s2 port 22: Connection refused");
        var report = FleetOwners.Join(Inv, reads);
        Assert.Equal("s2", Assert.Single(report.Unreadable).Node);
        var s1 = report.Rows.Single(r => r.Prefix == Web).Originators.Single(x => x.Node == "s1");
        Assert.Equal(["bgp to 198.51.100.1", "ospf external"], s1.How);
        var lan2 = report.Rows.Single(r => r.Prefix == Lan2);
        Assert.True(lan2.AsIntended, "s2's stub is in the hub's database even when s2 itself cannot be read");
    }

    [Theory]
    [InlineData("203.0.113.10", "203.0.113.10/32")]
    [InlineData("10.20.0.0/14", "10.21.0.0/24 10.22.0.0/24")]
    [InlineData("10.22.0.7", "10.22.0.0/24")]
    public void The_prefix_filter_keeps_the_rows_that_overlap_it(string filter, string expected)
    {
        var f = FleetOwners.ParseFilter(filter, out var error);
        Assert.Null(error);
        Assert.Equal(expected, string.Join(" ", FleetOwners.Join(Inv, Healthy(), f).Rows.Select(r => r.Prefix)));
    }

    [Theory]
    [InlineData("web")]
    [InlineData("10.0.0.0/99")]
    [InlineData("$(reboot)")]
    public void A_filter_that_is_no_prefix_is_an_error(string filter)
    {
        Assert.Null(FleetOwners.ParseFilter(filter, out var error));
        Assert.Contains("neither an address nor a prefix", error);
    }
}
