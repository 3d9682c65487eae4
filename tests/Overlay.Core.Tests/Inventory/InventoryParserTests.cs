using System.Net;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Inventories;

public class InventoryParserTests
{
    private static readonly string K1 = Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray());
    private static readonly string K2 = Convert.ToBase64String(Enumerable.Repeat((byte)2, 32).ToArray());
    private static readonly string K3 = Convert.ToBase64String(Enumerable.Repeat((byte)3, 32).ToArray());

    private static string Mesh(string extraNodeLines = "") => $"""
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        topology: {"{"} type: fullMesh {"}"}
        nodes:
          - {"{"} name: a, id: 1, overlay: {"{"} v4: 10.0.0.1 {"}"}, endpoint: 192.0.2.1:51820, publicKey: {K1} {"}"}
          - {"{"} name: b, id: 2, overlay: {"{"} v4: 10.0.0.2 {"}"}, nat: true, publicKey: {K2} {"}"}
          - {"{"} name: c, id: 3, overlay: {"{"} v4: 10.0.0.3 {"}"}, endpoint: "vpn.example.net:4500", publicKey: {K3}{extraNodeLines} {"}"}
        """;

    private static Overlay.Core.Inventories.Inventory Ok(string text)
    {
        var r = InventoryParser.Parse(text, "t.yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        Assert.Empty(r.Diagnostics);
        return r.Inventory!;
    }

    [Fact]
    public void Minimal_mesh_gets_documented_defaults()
    {
        var inv = Ok(Mesh());
        Assert.Equal(["a", "b", "c"], inv.Nodes.Select(n => n.Name));
        Assert.Equal(InventoryDefaults.Standard, inv.Defaults);
        Assert.Equal(FrrSettings.Standard, inv.Frr);
        Assert.Equal(DaemonSettings.Standard, inv.Daemon);
        Assert.Equal("default", Assert.Single(inv.Policies).Name);
        var c = inv.GetNode("c");
        Assert.Equal(new UnderlayEndpoint("vpn.example.net", 4500), c.Endpoint);
        Assert.Equal(4500, c.ListenPort); // the endpoint's port is the base when listenPort is absent
        Assert.Equal("n3", c.Short);
        Assert.Equal(NodeRole.Spoke, c.Role);
        Assert.True(inv.GetNode("b").BehindNat);
        Assert.Equal(51820, inv.GetNode("b").ListenPort);
        Assert.Equal(new SourceLocation("t.yaml", 4, 5), inv.GetNode("a").Location);
    }

    [Fact]
    public void Mesh_tunnels_take_stable_31s_by_id_pair()
    {
        var inv = Ok(Mesh());
        Assert.Collection(inv.Tunnels,
            t => Assert.Equal(("a", "b", "10.255.0.0/31", "10.255.0.0", "10.255.0.1", true), (t.A, t.B, t.Link.ToString(), t.AddressA.ToString(), t.AddressB.ToString(), t.Keepalive)),
            t => Assert.Equal(("a", "c", "10.255.0.2/31", false), (t.A, t.B, t.Link.ToString(), t.Keepalive)),
            t => Assert.Equal(("b", "c", "10.255.0.4/31", true), (t.A, t.B, t.Link.ToString(), t.Keepalive)));
        Assert.All(inv.Tunnels, t => Assert.Equal(TunnelKind.Mesh, t.Kind));
    }

    [Fact]
    public void Adding_a_node_keeps_existing_link_addresses()
    {
        string k4 = Convert.ToBase64String(Enumerable.Repeat((byte)4, 32).ToArray());
        var before = Ok(Mesh());
        var after = Ok(Mesh() + $"\n  - {{ name: d, id: 4, overlay: {{ v4: 10.0.0.4 }}, endpoint: 192.0.2.4:51820, publicKey: {k4} }}\n");
        foreach (var t in before.Tunnels)
            Assert.Equal(t.Link, after.Tunnels.Single(x => x.A == t.A && x.B == t.B).Link);
        Assert.Equal(6, after.Tunnels.Count);
    }

    [Theory]
    [InlineData(1, 2, 0UL)]
    [InlineData(1, 3, 1UL)]
    [InlineData(2, 3, 2UL)]
    [InlineData(1, 4, 3UL)]
    [InlineData(3, 4, 5UL)]
    [InlineData(255, 256, 32639UL)]
    public void Link_index_enumerates_pairs_densely(int a, int b, ulong index) =>
        Assert.Equal(index, InventoryReader.LinkIndex(a, b));

    [Fact]
    public void Link_index_is_a_bijection_on_small_ids()
    {
        var seen = new HashSet<ulong>();
        for (int b = 2; b <= 60; b++)
            for (int a = 1; a < b; a++)
                Assert.True(seen.Add(InventoryReader.LinkIndex(a, b)));
        Assert.Equal(Enumerable.Range(0, seen.Count).Select(i => (ulong)i), seen.Order());
    }

    [Fact]
    public void Hub_and_spoke_plans_hub_costs_hub_link_and_shortcuts()
    {
        var inv = Ok(File.ReadAllText(Path.Combine(RepoPaths.Examples, "hub-spoke.yaml")));
        Assert.Equal(TopologyKind.HubAndSpoke, inv.Topology.Kind);
        // 4 spokes x 2 hubs + hub-hub + 1 shortcut
        Assert.Equal(10, inv.Tunnels.Count);
        Assert.All(inv.Tunnels.Where(t => t.Kind == TunnelKind.HubSpoke && t.A == "hub1"), t => Assert.Equal(10, t.Cost));
        Assert.All(inv.Tunnels.Where(t => t.Kind == TunnelKind.HubSpoke && t.A == "hub2"), t => Assert.Equal(100, t.Cost));
        var hubLink = Assert.Single(inv.Tunnels, t => t.Kind == TunnelKind.HubHub);
        Assert.Equal(("hub1", "hub2", 10), (hubLink.A, hubLink.B, hubLink.Cost));
        var shortcut = Assert.Single(inv.Tunnels, t => t.Kind == TunnelKind.Shortcut);
        Assert.Equal(("spoke1", "spoke2", 5), (shortcut.A, shortcut.B, shortcut.Cost));
        Assert.True(inv.Tunnels.Single(t => t.A == "hub1" && t.B == "spoke3").Keepalive);
        Assert.Equal(inv.Tunnels.Count, inv.Tunnels.Select(t => t.Link).Distinct().Count());
    }

    [Fact]
    public void Anycast_example_reads_vips_policies_and_upstreams()
    {
        var inv = Ok(File.ReadAllText(Path.Combine(RepoPaths.Examples, "anycast-2dc.yaml")));
        var web = inv.Vips.Single(v => v.Name == "web");
        Assert.Equal(IpPrefix.Parse("203.0.113.10/32"), web.Prefix);
        Assert.Equal(["dc1-edge1", "dc2-edge1"], web.Members);
        Assert.Equal("ovl-web", web.LeaseInterface);
        var strict = inv.FindPolicy("strict")!;
        Assert.Equal((5, 1, 2), (strict.Rise, strict.Fall, strict.MinHealthyInterfaces));
        Assert.Equal(TimeSpan.FromSeconds(1), strict.Interval); // unspecified fields take defaults
        Assert.Equal([IPAddress.Parse("198.51.100.1")], strict.Require.BgpEstablished);
        var e1 = inv.GetNode("dc1-edge1");
        Assert.Equal(65001, e1.Asn);
        Assert.Equal(["198.51.100.1", "2001:db8:ffff::1"], e1.Upstreams.Select(u => u.Neighbor.ToString()));
        Assert.Equal(IPAddress.Parse("fd10::1"), e1.OverlayV6);
        Assert.Equal("/var/lib/overlay/client1.key", inv.GetNode("client1").KeyFile);
    }

    [Fact]
    public void Anchors_and_aliases_are_resolved()
    {
        var inv = Ok(Mesh().Replace("gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]", "gate: &g [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]")
            + "\nvips:\n  - { name: v, prefix: 10.9.9.9/32, members: [a, c] }\n");
        Assert.Equal(3, inv.Gate.Count);
        Assert.Single(inv.Vips);
    }

    [Fact]
    public void Every_error_is_reported_at_once_sorted_by_position()
    {
        string text = Mesh().Replace("id: 2,", "id: two,").Replace("10.0.0.3", "10.0.0.3/24") + "\nvips:\n  - { name: v, prefix: 10.9.9.0/24, members: [zz] }\n";
        var r = InventoryParser.Parse(text, "t.yaml");
        Assert.False(r.Success);
        Assert.Equal(["INV003", "INV027", "INV013", "INV011"], r.Diagnostics.Select(d => d.Code));
        Assert.Equal(r.Diagnostics.OrderBy(d => d.Line).ThenBy(d => d.Column), r.Diagnostics);
        Assert.All(r.Diagnostics, d => Assert.Equal(Severity.Error, d.Severity));
    }

    [Fact]
    public void Diagnostic_prints_as_file_line_col()
    {
        var d = Diagnostic.Error("INV002", new SourceLocation("inv.yaml", 12, 5), "unknown key 'endpiont' in node 'a'", "did you mean 'endpoint'?");
        Assert.Equal("inv.yaml:12:5: error INV002: unknown key 'endpiont' in node 'a' (did you mean 'endpoint'?)", d.ToString());
        Assert.Equal("inv.yaml:12:5: error INV002: x", (d with { Message = "x", Hint = null }).ToString());
    }

    [Fact]
    public void Load_reads_through_the_file_source()
    {
        var files = new MemoryFiles(new() { ["/inv.yaml"] = Mesh() });
        Assert.True(InventoryParser.Load(files, "/inv.yaml").Success);
        var missing = InventoryParser.Load(files, "/nope.yaml");
        Assert.Equal("INV026", Assert.Single(missing.Diagnostics).Code);
    }

    [Fact]
    public void The_example_in_docs_parses()
    {
        string doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "inventory.md"));
        int start = doc.IndexOf("```yaml\n", StringComparison.Ordinal) + 8;
        string yaml = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
        var inv = Ok(yaml);
        Assert.Equal(3, inv.Nodes.Count);
    }

    [Theory]
    [InlineData("hubAndSpoke", "hubandspoke", "did you mean 'hubAndSpoke'?")]
    [InlineData("endpoint", "endpiont", "did you mean 'endpoint'?")]
    [InlineData("publicKey", "publickey", "did you mean 'publicKey'?")]
    public void Suggest_finds_near_misses(string candidate, string given, string expected) =>
        Assert.Equal(expected, NearMiss.Suggest(given, [candidate, "zzzzzzzz"]));

    [Fact]
    public void Suggest_stays_quiet_when_nothing_is_close() =>
        Assert.Null(NearMiss.Suggest("colour", ["name", "id", "endpoint"]));

    private sealed class MemoryFiles(Dictionary<string, string> files) : IInventoryFileSource
    {
        public string? ReadAllText(string path) => files.GetValueOrDefault(path);
    }
}

public class InventoryLookupTests
{
    private static Overlay.Core.Inventories.Inventory Mesh40() =>
        InventoryParser.Parse(File.ReadAllText(Path.Combine(Overlay.Core.Tests.Render.RepoPaths.Examples, "mesh-40.yaml")), "mesh-40.yaml").Inventory!;

    [Fact]
    public void Lookups_match_a_scan_of_the_lists()
    {
        var inv = Mesh40();
        foreach (var n in inv.Nodes)
        {
            Assert.Same(n, inv.GetNode(n.Name));
            Assert.Equal(inv.Tunnels.Where(t => t.Involves(n.Name)), inv.TunnelsOf(n.Name));
            Assert.Equal(inv.Vips.Where(v => v.Members.Contains(n.Name)), inv.VipsOf(n.Name));
        }
        Assert.Null(inv.FindNode("nope"));
        Assert.Empty(inv.TunnelsOf("nope"));
        Assert.Throws<KeyNotFoundException>(() => inv.GetNode("nope"));
    }

    [Fact]
    public void A_with_copy_gets_its_own_lookups()
    {
        var inv = Mesh40();
        Assert.Equal(39, inv.TunnelsOf("m01").Count); // builds the original's index first

        var changed = inv with
        {
            Nodes = [.. inv.Nodes.Select(n => n.Name == "m02" ? n with { ListenPort = 1000 } : n)],
            Tunnels = [.. inv.Tunnels.Where(t => !t.Involves("m01"))],
        };

        Assert.Empty(changed.TunnelsOf("m01"));
        Assert.Equal(1000, changed.GetNode("m02").ListenPort);
        Assert.Equal(39, inv.TunnelsOf("m01").Count);
        Assert.NotEqual(1000, inv.GetNode("m02").ListenPort);
    }
}

public class GateLocationTests
{
    [Fact]
    public void The_gate_keeps_its_position_and_lint_points_there()
    {
        // hub-spoke.yaml has the gate on line 3; drop 224.0.0.6 so OVL008 fires.
        string text = File.ReadAllText(Path.Combine(Overlay.Core.Tests.Render.RepoPaths.Examples, "hub-spoke.yaml"));
        Assert.Equal("gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]", text.Split('\n')[2]);
        var inv = InventoryParser.Parse(text.Replace(", 224.0.0.6/32]", "]"), "hub-spoke.yaml").Inventory!;

        Assert.Equal(new SourceLocation("hub-spoke.yaml", 3, 7), inv.GateLocation);
        var finding = Assert.Single(Overlay.Core.Lint.Linter.Lint(inv, Overlay.Core.Lint.FileSystemView.Unknown), d => d.Code == "OVL008");
        Assert.Equal(inv.GateLocation, finding.Location);
    }
}
