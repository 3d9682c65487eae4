using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Render;
using YamlDotNet.RepresentationModel;

namespace Overlay.Core.Tests.Render;

public class RendererTests
{
    private static Overlay.Core.Inventories.Inventory Load(string example)
    {
        var r = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, example + ".yaml")), example + ".yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    private static Dictionary<string, string> Ini(string content) =>
        content.Split('\n').Where(l => l.Contains(" = ")).ToDictionary(l => l[..l.IndexOf(" = ")], l => l[(l.IndexOf(" = ") + 3)..]);

    [Fact]
    public void Interface_names_fit_linux_and_are_unique_machine_wide()
    {
        var files = Renderer.Render(Load("mesh-40"));
        var names = files.Where(f => f.RelativePath.Contains("/wireguard/")).Select(f => Path.GetFileNameWithoutExtension(f.RelativePath)).ToList();
        Assert.Equal(40 * 39, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.InRange(n.Length, 1, 15));
    }

    [Fact]
    public void Each_wireguard_file_has_one_peer_and_references_the_key_file()
    {
        var inv = Load("anycast-2dc");
        foreach (var f in Renderer.Render(inv).Where(f => f.RelativePath.Contains("/wireguard/")))
        {
            Assert.Equal(1, f.Content.Split('\n').Count(l => l == "[Peer]"));
            var node = inv.GetNode(f.RelativePath.Split('/')[0]);
            var ini = Ini(f.Content);
            Assert.Equal($"wg set %i private-key {node.KeyFile}", ini["PostUp"]);
            Assert.Equal("off", ini["Table"]);
            Assert.Equal("10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32", ini["AllowedIPs"]);
            Assert.DoesNotContain("PrivateKey", ini.Keys);
        }
    }

    [Fact]
    public void Endpoint_only_toward_reachable_peers_and_keepalive_only_with_nat()
    {
        var inv = Load("anycast-2dc");
        var files = Renderer.Render(inv).ToDictionary(f => f.RelativePath, f => Ini(f.Content));
        // client1 is behind NAT: the edges cannot dial it, and both ends keep the mapping alive.
        Assert.False(files["dc1-edge1/wireguard/wg-e1-c1.conf"].ContainsKey("Endpoint"));
        Assert.Equal("25", files["dc1-edge1/wireguard/wg-e1-c1.conf"]["PersistentKeepalive"]);
        Assert.Equal("25", files["client1/wireguard/wg-c1-e1.conf"]["PersistentKeepalive"]);
        Assert.False(files["dc1-edge1/wireguard/wg-e1-e2.conf"].ContainsKey("PersistentKeepalive"));
        // The endpoint port is the port the peer's interface toward us listens on.
        Assert.Equal("192.0.2.11:" + files["dc1-edge1/wireguard/wg-e1-c1.conf"]["ListenPort"], files["client1/wireguard/wg-c1-e1.conf"]["Endpoint"]);
        Assert.Equal("192.0.2.21:" + files["dc2-edge1/wireguard/wg-e2-e1.conf"]["ListenPort"], files["dc1-edge1/wireguard/wg-e1-e2.conf"]["Endpoint"]);
    }

    [Fact]
    public void Listen_ports_are_unique_per_node_and_link_addresses_pair_up()
    {
        var inv = Load("hub-spoke");
        var files = Renderer.Render(inv).Where(f => f.RelativePath.Contains("/wireguard/")).ToList();
        foreach (var node in inv.Nodes)
        {
            var ports = files.Where(f => f.RelativePath.StartsWith(node.Name + "/")).Select(f => Ini(f.Content)["ListenPort"]).ToList();
            Assert.Equal(ports.Count, ports.Distinct().Count());
        }
        var hub = Ini(files.Single(f => f.RelativePath == "hub1/wireguard/wg-h1-s1.conf").Content)["Address"];
        var spoke = Ini(files.Single(f => f.RelativePath == "spoke1/wireguard/wg-s1-h1.conf").Content)["Address"];
        Assert.Equal(IpPrefixOf(hub), IpPrefixOf(spoke));
        Assert.NotEqual(hub, spoke);
    }

    private static Overlay.Core.Net.IpPrefix IpPrefixOf(string address31) => Overlay.Core.Net.IpPrefix.Parse(address31);

    [Fact]
    public void Frr_costs_follow_the_hubs()
    {
        var inv = Load("hub-spoke");
        string frr = Renderer.Render(inv, "spoke1").Single(f => f.RelativePath == "spoke1/frr/frr.conf").Content;
        Assert.Contains("interface wg-s1-h1\n description hub1 (hub-spoke)\n ip ospf network point-to-point\n no ip ospf passive\n ip ospf cost 10\n", frr);
        Assert.Contains("interface wg-s1-h2\n description hub2 (hub-spoke)\n ip ospf network point-to-point\n no ip ospf passive\n ip ospf cost 100\n", frr);
        Assert.Contains("interface wg-s1-s2\n description spoke2 (shortcut)\n ip ospf network point-to-point\n no ip ospf passive\n ip ospf cost 5\n", frr);
        Assert.Contains(" peer 10.255.0.", frr);
        Assert.DoesNotContain("router bgp", frr);
    }

    [Fact]
    public void Bgp_lets_only_the_nodes_own_vips_out()
    {
        var inv = Load("anycast-2dc");
        string e2 = Renderer.Render(inv, "dc2-edge1").Single(f => f.RelativePath.EndsWith("frr.conf")).Content;
        Assert.Contains("ip prefix-list OVERLAY-VIPS seq 5 permit 203.0.113.10/32\n", e2);
        Assert.DoesNotContain("2001:db8:10::10", e2); // web6 belongs to dc1-edge1 only
        Assert.Contains("  neighbor 198.51.100.5 route-map OVERLAY-VIPS out\n", e2);
        Assert.Contains("  redistribute static route-map OVERLAY-VIPS\n", e2);
        string client = Renderer.Render(inv, "client1").Single(f => f.RelativePath.EndsWith("frr.conf")).Content;
        Assert.Contains("ip prefix-list OVERLAY-VIPS seq 5 deny any\n", client);
    }

    [Fact]
    public void Overlayd_yaml_is_valid_yaml_with_the_documented_sections()
    {
        var inv = Load("anycast-2dc");
        string text = Renderer.Render(inv, "dc1-edge1").Single(f => f.RelativePath == "dc1-edge1/overlayd.yaml").Content;
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal(["node", "site", "transit", "api", "metrics", "frr", "interfaces", "policies", "vips", "routes", "drain"],
            root.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        var interfaces = (YamlSequenceNode)root["interfaces"];
        Assert.Equal(2, interfaces.Children.Count);
        var first = (YamlMappingNode)interfaces.Children[0];
        Assert.Equal(["name", "peer", "peerPublicKey", "listenPort", "keepalive", "localAddress", "peerAddress", "bfd", "gate"],
            first.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        Assert.Equal("0660", ((YamlScalarNode)((YamlMappingNode)root["api"])["mode"]).Value);
        var vip = (YamlMappingNode)((YamlSequenceNode)root["vips"]).Children[1];
        Assert.Equal("2001:db8:10::10/128", ((YamlScalarNode)vip["prefix"]).Value);
        Assert.Equal("ovl-web6", ((YamlScalarNode)vip["lease"]).Value);
    }

    [Fact]
    public void One_node_renders_only_its_folder_and_unknown_nodes_throw()
    {
        var inv = Load("hub-spoke");
        var files = Renderer.Render(inv, "spoke3");
        Assert.All(files, f => Assert.StartsWith("spoke3/", f.RelativePath));
        Assert.Equal(["spoke3/frr/frr.conf", "spoke3/overlayd.yaml", "spoke3/sysctl.d/60-overlay.conf", "spoke3/wireguard/wg-s3-h1.conf", "spoke3/wireguard/wg-s3-h2.conf"], files.Select(f => f.RelativePath));
        Assert.Throws<KeyNotFoundException>(() => Renderer.Render(inv, "nobody"));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "\"\"")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("0660", "\"0660\"")]
    [InlineData("1.5", "\"1.5\"")]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("a: b", "\"a: b\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("2001:db8::1", "\"2001:db8::1\"")]
    public void Yaml_scalars_are_quoted_when_needed(string value, string expected) =>
        Assert.Equal(expected, NodeConfigYaml.Q(value));
}

public class RenderScaleTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(40)]
    [InlineData(100)]
    public void Large_full_mesh_parses_and_renders(int nodes)
    {
        var sb = new System.Text.StringBuilder("gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]\ntopology: { type: fullMesh }\nnodes:\n");
        for (int i = 1; i <= nodes; i++)
        {
            string key = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));
            sb.Append($"  - {{ name: n{i}, id: {i}, overlay: {{ v4: 10.0.{i / 250}.{i % 250 + 1} }}, endpoint: 192.0.2.{i}:51820, publicKey: {key} }}\n");
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var parsed = InventoryParser.Parse(sb.ToString(), "scale.yaml");
        long parseMs = sw.ElapsedMilliseconds;
        Assert.True(parsed.Success, string.Join("\n", parsed.Diagnostics.Take(5)));
        sw.Restart();
        var files = Renderer.Render(parsed.Inventory!);
        long renderMs = sw.ElapsedMilliseconds;
        Assert.Equal(nodes * (nodes - 1) + 3 * nodes, files.Count); // + frr.conf, overlayd.yaml, sysctl.d (every mesh node forwards)
        output.WriteLine($"{nodes} nodes, {parsed.Inventory!.Tunnels.Count} tunnels: parse {parseMs} ms, render {files.Count} files ({files.Sum(f => (long)f.Content.Length) / 1024} KiB) in {renderMs} ms");
    }
}

public class RendererOrderTests
{
    [Fact]
    public void Files_are_sorted_by_path_even_when_one_node_name_extends_another()
    {
        // "a-b/..." sorts before "a/..." ('-' < '/') although "a" sorts before "a-b".
        string yaml = File.ReadAllText(Path.Combine(RepoPaths.Examples, "mesh-40.yaml"))
            .Replace("name: m01,", "name: m0,").Replace("name: m02,", "name: m0-b,").Replace("[m01,", "[m0,");
        var parsed = InventoryParser.Parse(yaml, "renamed.yaml");
        Assert.True(parsed.Success, string.Join("\n", parsed.Diagnostics));

        var paths = Renderer.Render(parsed.Inventory!).Select(f => f.RelativePath).ToList();

        Assert.Equal(paths.Order(StringComparer.Ordinal), paths);
        Assert.True(paths.FindIndex(p => p.StartsWith("m0-b/", StringComparison.Ordinal)) < paths.FindIndex(p => p.StartsWith("m0/", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_single_node_render_equals_that_nodes_part_of_the_full_render()
    {
        var inv = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, "mesh-40.yaml")), "mesh-40.yaml").Inventory!;
        var all = Renderer.Render(inv).Where(f => f.RelativePath.StartsWith("m07/", StringComparison.Ordinal)).ToList();
        Assert.Equal(all, Renderer.Render(inv, "m07"));
    }
}
