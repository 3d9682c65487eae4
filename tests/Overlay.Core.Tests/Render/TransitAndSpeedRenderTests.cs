using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Render;

/// <summary>
/// What render emits for fast hub failover (intra-area subnets, throttle timers) and for transit nodes (sysctl
/// drop-in, overlayd's transit flag), from the examples and from small inventories with overrides.
/// </summary>
public class TransitAndSpeedRenderTests
{
    private static Overlay.Core.Inventories.Inventory Example(string example)
    {
        var r = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, example + ".yaml")), example + ".yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    private static InventoryParseResult Parse(string defaults) => InventoryParser.Parse($"""
        {defaults}
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        nodes:
          - {"{"} name: h1, id: 1, role: hub, overlay: {"{"} v4: 10.0.0.1 {"}"}, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU= {"}"}
          - {"{"} name: h2, id: 2, role: hub, overlay: {"{"} v4: 10.0.0.2 {"}"}, endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= {"}"}
          - {"{"} name: s1, id: 11, overlay: {"{"} v4: 10.0.1.1 {"}"}, subnets: [10.1.1.0/24], endpoint: 192.0.2.11:51820, publicKey: LWuSTXwiLXih8cOVSH6DO3T7QwGcBViRGMgoAa8+tUc= {"}"}
        topology:
          type: hubAndSpoke
          primary: {"{"} node: h1, cost: 10 {"}"}
          secondary: {"{"} node: h2, cost: 100 {"}"}
        """, "t.yaml");

    private static string Read(IReadOnlyList<RenderedFile> files, string path) => files.Single(f => f.RelativePath == path).Content;

    [Fact]
    public void Spoke_subnets_and_loopback_are_ospf_networks_not_redistributed_connected_routes()
    {
        string frr = Read(Renderer.Render(Example("hub-spoke"), "spoke1"), "spoke1/frr/frr.conf");
        Assert.DoesNotContain("redistribute connected", frr);
        Assert.Contains(" passive-interface default\n", frr);
        Assert.Contains(" network 10.0.1.1/32 area 0.0.0.0\n", frr);
        Assert.Contains(" network 10.1.1.0/24 area 0.0.0.0\n", frr);
        // Each tunnel's /31 (the network address, not the node's end of it) is an OSPF network, and the tunnel is not passive.
        Assert.Contains(" network 10.255.0.90/31 area 0.0.0.0\n", frr);
        Assert.Contains("interface wg-s1-h1\n description hub1 (hub-spoke)\n ip ospf network point-to-point\n no ip ospf passive\n", frr);
        // FRR refuses "ip ospf area" on an interface once any "network" statement exists (and the other way round).
        Assert.DoesNotContain("ip ospf area", frr);
    }

    [Fact]
    public void Throttle_timers_are_rendered_from_the_documented_defaults()
    {
        string frr = Read(Renderer.Render(Example("hub-spoke"), "hub1"), "hub1/frr/frr.conf");
        Assert.Contains(" timers throttle spf 0 50 500\n timers throttle lsa all 0\n timers lsa min-arrival 0\n", frr);
        Assert.Equal(OspfThrottle.Standard, Example("hub-spoke").Defaults.OspfThrottle);
    }

    [Fact]
    public void Throttle_timers_are_overridable()
    {
        var r = Parse("defaults: { ospf: { throttle: { spfDelay: 10ms, spfHold: 100ms, spfMaxHold: 2s, lsaAll: 20ms, lsaMinArrival: 30ms } } }");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        string frr = Read(Renderer.Render(r.Inventory!, "h1"), "h1/frr/frr.conf");
        Assert.Contains(" timers throttle spf 10 100 2000\n timers throttle lsa all 20\n timers lsa min-arrival 30\n", frr);
    }

    [Theory]
    [InlineData("spfDelay: 11m", "whole milliseconds between 0ms and 10m")]
    [InlineData("lsaAll: 6s", "between 0ms and 5s")]
    [InlineData("spfHold: 2s, spfMaxHold: 1s", "must not exceed spfMaxHold")]
    [InlineData("spfDelay: soon", "spfDelay")]
    [InlineData("spfdelay: 0ms", "spfdelay")]
    public void Bad_throttle_timers_are_errors_naming_the_field(string throttle, string expected)
    {
        var r = Parse($"defaults: {{ ospf: {{ throttle: {{ {throttle} }} }} }}");
        Assert.False(r.Success);
        Assert.Contains(r.Diagnostics, d => d.Message.Contains(expected, StringComparison.Ordinal) && d.Line == 1);
    }

    [Fact]
    public void Hubs_get_forwarding_and_loose_rp_filter_single_tunnel_nodes_get_no_sysctl_file()
    {
        var files = Renderer.Render(Example("hub-spoke"));
        string hub = Read(files, "hub1/sysctl.d/60-overlay.conf");
        Assert.Contains("\nnet.ipv4.ip_forward = 1\n", hub);
        Assert.Contains("\nnet.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.default.rp_filter = 2\n", hub);
        Assert.DoesNotContain("ipv6", hub); // hub-spoke carries no IPv6: leave the underlay's router advertisements alone
        // spoke3 (two hub tunnels, no shortcut) does not forward but sees asymmetric paths.
        string spoke3 = Read(files, "spoke3/sysctl.d/60-overlay.conf");
        Assert.DoesNotContain("ip_forward", spoke3);
        Assert.Contains("net.ipv4.conf.all.rp_filter = 2\n", spoke3);
        Assert.Contains("transit: true\n", Read(files, "hub1/overlayd.yaml"));
        Assert.Contains("transit: false\n", Read(files, "spoke3/overlayd.yaml"));

        // The anycast example's client (one tunnel per edge, ...) and an edge with a single tunnel.
        var anycast = Renderer.Render(Example("anycast-2dc"));
        foreach (var n in Example("anycast-2dc").Nodes.Where(n => Example("anycast-2dc").TunnelsOf(n.Name).Count < 2))
            Assert.DoesNotContain(anycast, f => f.RelativePath == $"{n.Name}/{SysctlRenderer.RelativePath}");
    }

    [Fact]
    public void Ipv6_forwarding_only_when_the_overlay_carries_ipv6()
    {
        var inv = Example("anycast-2dc");
        Assert.True(TransitNodes.CarriesIPv6(inv));
        foreach (var f in Renderer.Render(inv).Where(f => f.RelativePath.EndsWith(SysctlRenderer.RelativePath, StringComparison.Ordinal)))
        {
            string node = f.RelativePath[..f.RelativePath.IndexOf('/')];
            Assert.Equal(TransitNodes.IsTransit(inv, inv.GetNode(node)), f.Content.Contains("net.ipv6.conf.all.forwarding = 1\n"));
        }
    }

    [Theory]
    [InlineData("strict", "1")]
    [InlineData("off", "0")]
    [InlineData("loose", "2")]
    public void Rp_filter_is_overridable(string mode, string value)
    {
        var r = Parse($"defaults: {{ rpFilter: {mode} }}");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        Assert.Contains($"net.ipv4.conf.all.rp_filter = {value}\n", Read(Renderer.Render(r.Inventory!, "h1"), "h1/sysctl.d/60-overlay.conf"));
    }

    [Fact]
    public void Bad_rp_filter_is_an_error_with_a_suggestion()
    {
        var r = Parse("defaults: { rpFilter: loos }");
        Assert.False(r.Success);
        Assert.Contains(r.Diagnostics, d => d.Message.Contains("rpFilter must be 'loose', 'strict' or 'off'", StringComparison.Ordinal) && d.Hint!.Contains("loose", StringComparison.Ordinal));
    }

    [Fact]
    public void Daemon_inventory_path_is_rendered_and_read_back_by_the_loader()
    {
        var r = Parse("daemon: { inventory: /etc/overlay/inventory.yaml }");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        string yaml = Read(Renderer.Render(r.Inventory!, "h1"), "h1/overlayd.yaml");
        Assert.Contains("\ninventory: /etc/overlay/inventory.yaml\n", yaml);
        var loaded = NodeConfigYaml.Read(yaml, "h1/overlayd.yaml");
        Assert.True(loaded.Config is not null, string.Join("\n", loaded.Errors));
        Assert.Equal("/etc/overlay/inventory.yaml", loaded.Config!.Inventory);
        Assert.True(loaded.Config.Transit);
        Assert.False(Parse("daemon: { inventory: relative.yaml }").Success);
    }
}
