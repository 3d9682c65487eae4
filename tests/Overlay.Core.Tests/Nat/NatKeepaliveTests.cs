using System.Text.RegularExpressions;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Nat;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Nat;

/// <summary>NAT UDP timeouts in the inventory, the keepalive render derives from them, lint's advice and the traffic report.</summary>
public class NatKeepaliveTests
{
    private const string HubKey = "qLdwVCGS8DnyzaQ2VGlKEGmvyn9SnxaD3s0blMvmCFE=";
    private const string S1Key = "4xNWqKSj3xdb0pYXQZVdDXLKEFG5QHZWWWzTTmOJZ2Y=";
    private const string S2Key = "B0FUevEww5tvKGB/1cUMTh21kR0dQU6rVjPgceHERSk=";
    private const string S3Key = "2yNHrIXx+hL3qzvSYCR9yqa2+nOMbTN2MKZJwnr0u0w=";

    private static string Yaml(string defaults = "", string sites = "", string s1 = "nat: true", string s2 = "nat: true", string s3 = "endpoint: 192.0.2.3:51820") => $$"""
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        {{defaults}}
        {{sites}}
        nodes:
          - { name: hub, id: 1, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: "192.0.2.1:51820", publicKey: "{{HubKey}}" }
          - { name: s1, id: 2, site: home, overlay: { v4: 10.10.1.1 }, {{s1}}, publicKey: "{{S1Key}}" }
          - { name: s2, id: 3, site: shop, overlay: { v4: 10.10.1.2 }, {{s2}}, publicKey: "{{S2Key}}" }
          - { name: s3, id: 4, site: dc, overlay: { v4: 10.10.1.3 }, {{s3}}, publicKey: "{{S3Key}}" }
        topology:
          type: hubAndSpoke
          primary: { node: hub, cost: 10 }

        """;

    private static Overlay.Core.Inventories.Inventory Parse(string yaml)
    {
        var r = InventoryParser.Parse(yaml, "nat.yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    private static int RenderedKeepalive(Overlay.Core.Inventories.Inventory inv, string node, string peer)
    {
        var f = Renderer.Render(inv, node).Single(x => x.RelativePath == $"{node}/wireguard/{Renderer.InterfaceName(inv.GetNode(node), inv.GetNode(peer))}.conf");
        var m = Regex.Match(f.Content, @"^PersistentKeepalive = (\d+)$", RegexOptions.Multiline);
        return m.Success ? int.Parse(m.Groups[1].Value) : 0;
    }

    [Theory]
    [InlineData(30, 25)]
    [InlineData(8, 6)]
    [InlineData(2, 1)]
    [InlineData(120, 100)]
    [InlineData(20, 16)]
    public void Keepalive_is_five_sixths_of_the_nat_timeout_in_whole_seconds(int timeout, int keepalive)
    {
        var k = KeepaliveAdvice.ForNatTimeout(TimeSpan.FromSeconds(timeout));
        Assert.Equal(TimeSpan.FromSeconds(keepalive), k);
        Assert.True(k < TimeSpan.FromSeconds(timeout));
    }

    [Fact]
    public void Without_a_stated_timeout_render_keeps_the_documented_default_of_25s()
    {
        var inv = Parse(Yaml());
        Assert.Equal(NatTimeoutSource.Standard, inv.GetNode("s1").NatUdpTimeout!.Source);
        Assert.Equal(NatUdpTimeout.Standard, inv.GetNode("s1").NatUdpTimeout!.Value);
        Assert.Null(inv.GetNode("s3").NatUdpTimeout);
        Assert.Equal(25, RenderedKeepalive(inv, "s1", "hub"));
        Assert.Equal(25, RenderedKeepalive(inv, "hub", "s1"));
        Assert.Equal(0, RenderedKeepalive(inv, "s3", "hub"));
    }

    [Fact]
    public void Node_beats_site_beats_defaults_and_both_ends_render_the_same_keepalive()
    {
        var inv = Parse(Yaml(defaults: "defaults: { natUdpTimeout: 60s }", sites: "sites: { home: { natUdpTimeout: 20s } }",
            s1: "nat: true", s2: "nat: true, natUdpTimeout: 8s"));
        Assert.Equal((TimeSpan.FromSeconds(20), NatTimeoutSource.Site), (inv.GetNode("s1").NatUdpTimeout!.Value, inv.GetNode("s1").NatUdpTimeout!.Source));
        Assert.Equal((TimeSpan.FromSeconds(8), NatTimeoutSource.Node), (inv.GetNode("s2").NatUdpTimeout!.Value, inv.GetNode("s2").NatUdpTimeout!.Source));
        Assert.Equal(16, RenderedKeepalive(inv, "s1", "hub"));
        Assert.Equal(16, RenderedKeepalive(inv, "hub", "s1"));
        Assert.Equal(6, RenderedKeepalive(inv, "s2", "hub"));
        Assert.Equal(6, RenderedKeepalive(inv, "hub", "s2"));
        var overlayd = Renderer.Render(inv, "hub").Single(f => f.RelativePath == "hub/overlayd.yaml").Content;
        Assert.Contains("keepalive: 16s", overlayd);
        Assert.Contains("keepalive: 6s", overlayd);

        var other = Parse(Yaml(defaults: "defaults: { natUdpTimeout: 60s }"));
        Assert.Equal(NatTimeoutSource.Defaults, other.GetNode("s1").NatUdpTimeout!.Source);
        Assert.Equal(50, RenderedKeepalive(other, "s1", "hub"));
    }

    [Fact]
    public void A_written_keepalive_is_used_as_written_and_lint_warns_when_the_nat_outruns_it()
    {
        var inv = Parse(Yaml(defaults: "defaults: { keepalive: 25s }", s2: "nat: true, natUdpTimeout: 20s"));
        Assert.Equal(25, RenderedKeepalive(inv, "s2", "hub"));
        var d = Assert.Single(Linter.Lint(inv, FileSystemView.Unknown), x => x.Code == LintRules.KeepaliveOutlivesNat.Id);
        Assert.Equal(Severity.Warning, d.Severity);
        Assert.Contains("'s2'", d.Message);
        Assert.Contains("20s", d.Message);
        Assert.Contains("16s", d.Hint);
        Assert.Equal(7, d.Line); // at the natUdpTimeout that says so
    }

    [Fact]
    public void Derived_keepalives_raise_no_lint_finding()
    {
        var inv = Parse(Yaml(s2: "nat: true, natUdpTimeout: 8s"));
        Assert.DoesNotContain(Linter.Lint(inv, FileSystemView.Unknown), x => x.Code == LintRules.KeepaliveOutlivesNat.Id || x.Code == LintRules.NatWithoutKeepalive.Id);
    }

    [Theory]
    [InlineData("s1: \"nat: true, natUdpTimeout: 1s\"", InventoryCodes.TimerInvalid)]
    [InlineData("s1: \"nat: true, natUdpTimeout: 2500ms\"", InventoryCodes.TimerInvalid)]
    [InlineData("s1: \"nat: true, natUdpTimeout: soon\"", InventoryCodes.InvalidDuration)]
    [InlineData("s3: \"endpoint: 192.0.2.3:51820, natUdpTimeout: 30s\"", InventoryCodes.Conflict)]
    [InlineData("sites: \"sites: { home: { natUdpTimout: 30s } }\"", InventoryCodes.UnknownKey)]
    [InlineData("sites: \"sites: [home]\"", InventoryCodes.WrongType)]
    public void Bad_nat_timeouts_are_reported_where_they_are_written(string what, string code)
    {
        string arg = what[(what.IndexOf('"') + 1)..what.LastIndexOf('"')];
        string yaml = what.Split(':')[0] switch
        {
            "s1" => Yaml(s1: arg),
            "s3" => Yaml(s3: arg),
            _ => Yaml(sites: arg),
        };
        var r = InventoryParser.Parse(yaml, "nat.yaml");
        Assert.False(r.Success);
        var d = Assert.Single(r.Diagnostics);
        Assert.Equal(code, d.Code);
        Assert.True(d.Line > 0);
    }

    [Fact]
    public void Keepalive_packet_is_32_bytes_of_wireguard_plus_udp_and_ip_headers()
    {
        Assert.Equal(32, KeepalivePacket.WireGuardBytes);
        Assert.Equal(60, KeepalivePacket.IpBytes(System.Net.Sockets.AddressFamily.InterNetwork));
        Assert.Equal(80, KeepalivePacket.IpBytes(System.Net.Sockets.AddressFamily.InterNetworkV6));
    }

    [Fact]
    public void Traffic_report_counts_each_end_of_every_keepalive_tunnel()
    {
        // s1 (30 s → 25 s) and s2 (8 s → 6 s) behind NAT, s3 not: two keepalive tunnels of three.
        var inv = Parse(Yaml(s2: "nat: true, natUdpTimeout: 8s"));
        var r = KeepaliveTrafficReport.Compute(inv);
        Assert.Equal(3, r.Tunnels);
        Assert.Equal(2, r.KeepaliveTunnels);
        Assert.Equal(2.0 / 25 + 2.0 / 6, r.FleetPacketsPerSecond, 9);
        Assert.Equal(60 * (2.0 / 25 + 2.0 / 6), r.FleetBytesPerSecond, 9);
        Assert.Equal(3 * 2.0 / 25, r.EverywherePacketsPerSecond, 9);
        var hub = r.Nodes.Single(n => n.Node == "hub");
        Assert.Equal(1.0 / 25 + 1.0 / 6, hub.PacketsPerSecond, 9);
        Assert.Equal(2, hub.KeepaliveTunnels);
        Assert.Equal(TimeSpan.FromSeconds(6), hub.ShortestKeepalive);
        Assert.False(hub.BehindNat);
        var s2 = r.Nodes.Single(n => n.Node == "s2");
        Assert.Equal(1.0 / 6, s2.PacketsPerSecond, 9);
        Assert.Contains("8s (natUdpTimeout of the node)", s2.Explanation);
        Assert.Contains("keepalive 6s", s2.Explanation);
        Assert.DoesNotContain(r.Nodes, n => n.Node == "s3");
        Assert.Equal("hub", r.Nodes[0].Node); // busiest first
    }

    [Fact]
    public void Mesh_40_keepalive_traffic_is_the_one_nat_node_with_its_39_tunnels()
    {
        var r = KeepaliveTrafficReport.Compute(InventoryParser.Parse(File.ReadAllText(Path.Combine(Render.RepoPaths.Examples, "mesh-40.yaml")), "mesh-40.yaml").Inventory!);
        Assert.Equal(780, r.Tunnels);
        Assert.Equal(39, r.KeepaliveTunnels);
        Assert.Equal("m40", r.Nodes[0].Node);
        Assert.Equal(39.0 / 25, r.Nodes[0].PacketsPerSecond, 9);
        Assert.Equal(40, r.Nodes.Count);
        Assert.Equal(2 * 39.0 / 25, r.FleetPacketsPerSecond, 9);
    }
}
