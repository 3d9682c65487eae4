using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Net;
using static Overlay.Core.Tests.Lint.LintFixtures;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Tests.Lint;

public class LinterTests
{
    public sealed record Case(string Name, string Rule, Func<Inventory> Inventory, IFileSystemView? Files = null)
    {
        public override string ToString() => Name;
    }

    private static readonly Case[] Cases =
    [
        new("no endpoint on either side", "OVL002",
            () => Replace(Clean(), "hub1", n => n with { Endpoint = null })),
        new("NATed node without keepalive", "OVL003",
            () => Clean() with { Tunnels = Clean().Tunnels.Select(t => t with { Keepalive = false }).ToList() }),
        new("duplicate public key", "OVL004",
            () => Replace(Clean(), "edge1", n => n with { PublicKey = Key(1) })),
        new("duplicate overlay address", "OVL005",
            () => Replace(Clean(), "spoke1", n => n with { OverlayV4 = System.Net.IPAddress.Parse("10.0.0.1") })),
        new("overlay address on a link", "OVL005",
            () => Replace(Clean(), "spoke1", n => n with { OverlayV4 = System.Net.IPAddress.Parse("10.255.0.1") })),
        new("two nodes on one host with clashing ports", "OVL006",
            () => Replace(Clean(), "edge1", n => n with { Endpoint = new UnderlayEndpoint("192.0.2.1", 51820) })),
        new("VIP lease interface name too long", "OVL007",
            () => Build(Clean().Nodes, 10, 20, vipName: "checkout-api-eu")),
        new("node alias makes a long interface name", "OVL007",
            () => Replace(Clean(), "spoke1", n => n with { Short = "spoke1xyzab" })),
        new("gate without AllDRouters", "OVL008",
            () => Build(Clean().Nodes, 10, 20, gate: [IpPrefix.Parse("10.0.0.0/8"), IpPrefix.Parse("224.0.0.5/32")])),
        new("gate without the link pool", "OVL008",
            () => Build(Clean().Nodes, 10, 20, gate: [IpPrefix.Parse("10.0.0.0/9"), IpPrefix.Parse("224.0.0.0/24")])),
        new("equal hub costs", "OVL009",
            () => Build(Clean().Nodes, 10, 10)),
        new("spoke without a hub", "OVL010",
            () => Clean() with { Nodes = [.. Clean().Nodes, MakeNode("spoke2", 5, NodeRole.Spoke, "192.0.2.5")] }),
        new("VIP member without upstream", "OVL011",
            () => Clean() with { Vips = [Clean().Vips[0] with { Members = ["edge1", "hub2"] }] }),
        new("overlapping announced subnets", "OVL013",
            () => Replace(Clean(), "spoke1", n => n with { Subnets = [new AnnouncedSubnet(IpPrefix.Parse("10.1.2.0/24"), At(35))] })),
        new("written keepalive not shorter than the NAT's UDP timeout", "OVL016",
            () => Replace(Clean(), "spoke1", n => n with { NatUdpTimeout = new NatUdpTimeout(TimeSpan.FromSeconds(20), NatTimeoutSource.Node, At(30)) }) with
            {
                Defaults = InventoryDefaults.Standard with { KeepaliveGiven = true },
            }),
        new("secondary hub cheaper than the primary", "OVL015",
            () => Build(Clean().Nodes, 100, 10)),
        new("hub link dearer than the path through a spoke", "OVL017",
            () => Clean() with { Topology = Clean().Topology with { HubLinkCost = 31 } }),
        new("anycast client with watchdog: false on a tunnel without keepalive", "OVL018",
            () => Replace(Clean(), "hub2", n => n with { AnycastEndpoint = new AnycastEndpoint("web", null, At(25)) })),
        new("key file readable by group", "OVL014",
            Clean, new Files(new() { ["hub2"] = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead })),
    ];

    public static TheoryData<Case> AllCases()
    {
        var d = new TheoryData<Case>();
        foreach (var c in Cases) d.Add(c);
        return d;
    }

    [Fact]
    public void Clean_inventory_has_no_findings()
    {
        var found = Linter.Lint(Clean(), new Files());
        Assert.Empty(found);
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Each_case_triggers_exactly_its_rule(Case c)
    {
        var found = Linter.Lint(c.Inventory(), c.Files ?? new Files());
        Assert.NotEmpty(found);
        Assert.All(found, d => Assert.Equal(c.Rule, d.Code));
        var rule = LintRules.All.Single(r => r.Id == c.Rule);
        Assert.All(found, d =>
        {
            Assert.Equal(rule.Severity, d.Severity);
            Assert.Equal(FileName, d.File);
            Assert.True(d.Line > 0, $"{d} has no line");
            Assert.False(string.IsNullOrWhiteSpace(d.Hint), $"{d} has no fix hint");
        });
    }

    [Fact]
    public void Every_inventory_rule_has_a_case()
    {
        var peerListRules = new[] { "OVL001", "OVL012" };
        var covered = Cases.Select(c => c.Rule).Concat(peerListRules).ToHashSet();
        Assert.Equal(LintRules.All.Select(r => r.Id).Order(), covered.Order());
        Assert.Equal(LintRules.All.Count, LintRules.All.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public void Diagnostics_point_at_the_offending_element()
    {
        var inv = Replace(Clean(), "spoke1", n => n with { Subnets = [new AnnouncedSubnet(IpPrefix.Parse("10.1.2.0/24"), new SourceLocation(FileName, 37, 9))] });
        var d = Assert.Single(Linter.Lint(inv, new Files()));
        Assert.Equal("inv.yaml:37:9: warning OVL013: subnet 10.1.2.0/24 of 'spoke1' overlaps 10.1.0.0/16 of 'hub1'; the longer prefix wins everywhere " +
                     "(announce disjoint subnets, or use a VIP for an address served by several nodes)", d.ToString());
    }

    [Fact]
    public void Anycast_client_with_the_watchdog_or_a_keepalive_is_fine()
    {
        // hub2 reaches VIP web's member edge1 over a tunnel without keepalive: the watchdog alone satisfies OVL018.
        var watched = Replace(Clean(), "hub2", n => n with { AnycastEndpoint = new AnycastEndpoint("web", Overlay.Core.Config.SessionWatchdogConfig.Standard, At(25)) });
        Assert.Empty(Linter.Lint(watched, new Files()));
        // spoke1 is behind NAT, so its tunnel to hub1 (here the VIP's site) keeps alive: watchdog: false is then not warned about.
        var hubVip = Clean() with { Vips = [Clean().Vips[0] with { Members = ["hub1"] }] };
        var keptAlive = Replace(hubVip, "spoke1", n => n with { AnycastEndpoint = new AnycastEndpoint("web", null, At(35)) });
        Assert.Empty(Linter.Lint(keptAlive, new Files()));
        // ... unless keepalive is switched off fleet-wide.
        var silent = keptAlive with { Defaults = InventoryDefaults.Standard with { Keepalive = TimeSpan.Zero } };
        Assert.Contains(Linter.Lint(silent, new Files()), d => d.Code == "OVL018" && d.Line == 35 && d.Message.Contains("through 'hub1' with", StringComparison.Ordinal));
    }

    [Fact]
    public void Anycast_client_warning_names_the_node_the_vip_and_the_peers()
    {
        var inv = Replace(Clean(), "hub2", n => n with { AnycastEndpoint = new AnycastEndpoint("web", null, new SourceLocation(FileName, 25, 7)) });
        var d = Assert.Single(Linter.Lint(inv, new Files()));
        Assert.StartsWith("inv.yaml:25:7: warning OVL018: 'hub2' reaches anycast VIP 'web' through 'edge1' with watchdog: false and no persistent keepalive", d.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Overlay_only_VIP_without_any_upstream_is_fine()
    {
        var inv = Replace(Clean(), "edge1", n => n with { Upstreams = [] });
        Assert.Empty(Linter.Lint(inv, new Files()));
    }

    [Fact]
    public void Unknown_file_modes_skip_the_key_check()
    {
        Assert.Empty(Linter.Lint(Clean(), FileSystemView.Unknown));
    }
}

public class LintExamplesTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("hub-spoke.yaml")]
    [InlineData("mesh-40.yaml")]
    [InlineData("anycast-2dc.yaml")]
    public void Shipped_examples_lint_clean(string name)
    {
        var r = InventoryParser.Parse(File.ReadAllText(Path.Combine(Overlay.Core.Tests.Render.RepoPaths.Examples, name)), name);
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        var found = Linter.Lint(r.Inventory!, FileSystemView.Unknown);
        foreach (var d in found) output.WriteLine(d.ToString());
        Assert.Empty(found);
    }
}
