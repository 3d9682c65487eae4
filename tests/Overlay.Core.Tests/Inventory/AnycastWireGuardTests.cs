using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Render;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Inventories;

/// <summary>
/// <c>vips[].wireguard</c>, <c>anycastEndpoint.address</c>, <c>topology: none</c>, <c>defaults.bgp</c> and
/// <c>dampening: false</c> (docs/inventory.md, "Anycast WireGuard endpoints"): read strictly, every new value refused
/// where it is written when hostile, and rendered into files overlayd and wg-quick read back as written.
/// </summary>
public sealed class AnycastWireGuardTests
{
    private static readonly string K1 = Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray());
    private static readonly string K2 = Convert.ToBase64String(Enumerable.Repeat((byte)2, 32).ToArray());
    private static readonly string K3 = Convert.ToBase64String(Enumerable.Repeat((byte)3, 32).ToArray());
    private static readonly string K4 = Convert.ToBase64String(Enumerable.Repeat((byte)4, 32).ToArray());
    private static readonly string K5 = Convert.ToBase64String(Enumerable.Repeat((byte)5, 32).ToArray());

    // Every placeholder on its own line, so a diagnostic's line says which value it is about.
    private static readonly string Template = $$"""
        defaults:
          bgp:
            keepalive: {BGPKA}
            hold: 3s
            connectRetry: {BGPCR}
            advertisementInterval: {BGPMRAI}
        gate: [10.0.0.0/8]
        policies:
          anycast:
            interval: 100ms
            fastInterval: 50ms
            rxStallAfter: 3s
            dampening: {DAMP}
        nodes:
          - name: site1
            id: 1
            role: edge
            overlay: { v4: 10.10.0.1 }
            endpoint: 198.51.100.2:51820
            publicKey: {{K1}}
            asn: 65011
            upstreams: [{ neighbor: 198.51.100.1, remoteAsn: 65000 }]
          - name: client1
            id: 2
            overlay: { v4: 10.10.0.2 }
            publicKey: {{K2}}
            anycastEndpoint:
              vip: web
              address: {CADDR}
        topology:
          type: {TOPO}
        vips:
          - name: web
            prefix: 203.0.113.10/32
            members: [site1]
            policy: anycast
            wireguard:
              port: {PORT}
              publicKey: {{K3}}
              keyFile: {WKEY}
              address: {WADDR}
              health:
                - member: {HMEMBER}
                  name: {HNAME}
                  publicKey: {{K4}}
                  endpoint: {HEP}
                  address: {HADDR}
                  peerAddress: {HPEER}
                  keepalive: {HKA}
        """;

    private static readonly Dictionary<string, string> Benign = new()
    {
        ["BGPKA"] = "1s", ["BGPCR"] = "1s", ["BGPMRAI"] = "0s", ["DAMP"] = "false", ["CADDR"] = "10.99.0.2/24", ["TOPO"] = "none",
        ["PORT"] = "51820", ["WKEY"] = "/etc/overlay/web.key", ["WADDR"] = "10.99.0.1/24", ["HMEMBER"] = "site1", ["HNAME"] = "upstream1",
        ["HEP"] = "198.51.100.1:51821", ["HADDR"] = "10.255.1.1/31", ["HPEER"] = "10.255.1.0", ["HKA"] = "1s",
    };

    private static string Fill(Dictionary<string, string> values)
    {
        string text = Template.Replace("\r", "");
        foreach (var (slot, v) in values) text = text.Replace("{" + slot + "}", v);
        return text;
    }

    private static string With(string slot, string value) => Fill(new Dictionary<string, string>(Benign) { [slot] = value });

    private static Overlay.Core.Inventories.Inventory Ok(string text)
    {
        var r = InventoryParser.Parse(text, "t.yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    private static Dictionary<string, string> Files(Overlay.Core.Inventories.Inventory inv) =>
        Renderer.Render(inv).ToDictionary(f => f.RelativePath, f => f.Content);

    [Fact]
    public void Benign_template_renders_the_member_and_the_client_and_overlayd_reads_them_back()
    {
        var inv = Ok(Fill(Benign));
        Assert.Empty(inv.Tunnels);
        var w = inv.Vips.Single().WireGuard!;
        Assert.Equal(51820, w.Port);
        Assert.Null(inv.Policies.Single(p => p.Name == "anycast").Dampening);
        var files = Files(inv);
        string member = files["site1/wireguard/wg-n1-p51820.conf"];
        Assert.Contains("ListenPort = 51820\n", member);
        Assert.Contains("Address = 10.99.0.1/24, 10.255.1.1/31\n", member);
        Assert.Contains("PostUp = wg set %i private-key /etc/overlay/web.key\n", member);
        Assert.Contains("AllowedIPs = 10.255.1.0/32\nEndpoint = 198.51.100.1:51821\nPersistentKeepalive = 1\n", member);
        Assert.Contains($"PublicKey = {K2}\nAllowedIPs = 10.99.0.2/32\n", member);
        Assert.DoesNotContain("PrivateKey", member);
        string client = files["client1/wireguard/wg-n2-p51820.conf"];
        Assert.Contains($"PublicKey = {K3}\nAllowedIPs = 10.99.0.1/32\nEndpoint = 203.0.113.10:51820\n", client);
        Assert.Contains(" peer 10.255.1.0 local-address 10.255.1.1 interface wg-n1-p51820\n", files["site1/frr/frr.conf"]);
        Assert.Contains(" timers bgp 1 3\n", files["site1/frr/frr.conf"]);
        Assert.Contains(" neighbor 198.51.100.1 advertisement-interval 0\n", files["site1/frr/frr.conf"]);

        var site = NodeConfigYaml.Read(files["site1/overlayd.yaml"], "site1/overlayd.yaml");
        Assert.True(site.Ok, string.Join("\n", site.Errors));
        var vip = site.Config!.Vips.Single();
        Assert.Equal(["wg-n1-p51820"], vip.Interfaces);
        var iface = site.Config.Interfaces.Single();
        Assert.Equal("upstream1", iface.Peer);
        Assert.True(iface.Bfd);
        Assert.Equal(TimeSpan.FromSeconds(1), iface.Keepalive);
        var c = NodeConfigYaml.Read(files["client1/overlayd.yaml"], "client1/overlayd.yaml");
        Assert.True(c.Ok, string.Join("\n", c.Errors));
        Assert.Equal(SessionWatchdogConfig.Standard, c.Config!.Interfaces.Single().Watchdog);
        Assert.False(c.Config.Interfaces.Single().Bfd);
        HostileInventoryTests.AssertInert(inv);
    }

    [Fact]
    public void Bgp_defaults_are_the_datacenter_profile()
    {
        var inv = Ok(Fill(Benign).Replace("  bgp:\n    keepalive: 1s\n    hold: 3s\n    connectRetry: 1s\n    advertisementInterval: 0s\n", "  bfd: { multiplier: 3 }\n", StringComparison.Ordinal));
        Assert.Equal(BgpTimers.Standard, inv.Defaults.Bgp);
        string frr = Files(inv)["site1/frr/frr.conf"];
        Assert.Contains(" timers bgp 3 9\n", frr);
        Assert.Contains(" neighbor 198.51.100.1 timers connect 10\n", frr);
    }

    [Theory]
    [InlineData("PORT", "0", "INV020")]
    [InlineData("PORT", "65536", "INV020")]
    [InlineData("PORT", "51820; reboot", "INV003")]
    [InlineData("WKEY", "relative/web.key", "INV005")]
    [InlineData("WKEY", "\"/etc/overlay/web.key;reboot\"", "INV005")]
    [InlineData("WKEY", "\"/etc/overlay/web.key\\nPostUp = id\"", "INV005")]
    [InlineData("WKEY", "/etc/overlay/%i.key", "INV005")]
    [InlineData("WADDR", "10.99.0.1", "INV027")]
    [InlineData("WADDR", "10.99.0.0/24", "INV027")]
    [InlineData("WADDR", "10.99.0.255/24", "INV027")]
    [InlineData("WADDR", "10.99.0.1/32", "INV020")]
    [InlineData("WADDR", "10.99.0.1/024", "INV027")]
    [InlineData("WADDR", "127.0.0.1/8", "INV027")]
    [InlineData("WADDR", "\"10.99.0.1/24\\n[Peer]\"", "INV027")]
    [InlineData("WADDR", "\"fd00::1/64\"", "INV027")]
    [InlineData("HMEMBER", "site2", "INV011")]
    [InlineData("HNAME", "\"u; reboot\"", "INV021")]
    [InlineData("HNAME", "\"u\\nexit\"", "INV021")]
    [InlineData("HNAME", "Upstream", "INV021")]
    [InlineData("HEP", "\"198.51.100.1:51821\\nPostUp = id\"", "INV017")]
    [InlineData("HEP", "127.0.0.1:51821", "INV017")]
    [InlineData("HEP", "198.51.100.1", "INV017")]
    [InlineData("HADDR", "10.255.1.1", "INV027")]
    [InlineData("HADDR", "10.255.1.1/8", "INV022")]
    [InlineData("HPEER", "10.255.1.1", "INV022")]
    [InlineData("HPEER", "10.255.2.0", "INV027")]
    [InlineData("HPEER", "10.255.1.0/31", "INV027")]
    [InlineData("HKA", "500ms", "INV025")]
    [InlineData("HKA", "1", "INV009")]
    [InlineData("CADDR", "10.99.0.1/24", "INV022")]
    [InlineData("CADDR", "10.98.0.2/24", "INV027")]
    [InlineData("CADDR", "\"10.99.0.2/24 ; id\"", "INV027")]
    [InlineData("TOPO", "nonee", "INV005")]
    [InlineData("DAMP", "no", "INV003")]
    [InlineData("BGPKA", "1500ms", "INV025")]
    [InlineData("BGPKA", "0s", "INV025")]
    [InlineData("BGPCR", "\"1s; reboot\"", "INV009")]
    [InlineData("BGPMRAI", "601s", "INV025")]
    public void A_bad_value_is_refused_with_its_code_on_its_line(string slot, string value, string code)
    {
        string text = With(slot, value);
        var r = InventoryParser.Parse(text, "t.yaml");
        Assert.False(r.Success, $"{slot} = {value} was accepted");
        int line = Template.Replace("\r", "").Split('\n').Select((l, i) => (l, i)).First(x => x.l.Contains("{" + slot + "}")).i + 1;
        var errors = r.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        Assert.Contains(errors, d => d.Code == code);
        // Cross-field findings (the health link overlapping the VIP's network, the client's address) are reported on the
        // block they compare; the value's own errors on its line.
        if (slot is not ("HADDR" or "HPEER" or "CADDR" or "HMEMBER") || code is "INV027" && slot != "CADDR")
            Assert.Contains(errors, d => d.Line == line);
        Assert.True(errors.Count < 5, string.Join("\n", errors));
    }

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void Hostile_value_in_a_new_field_is_refused_or_rendered_inert(string slot, int index)
    {
        string value = HostileInventoryTests.HostileValues[index];
        string quoted = "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t")
            .Replace("\0", "\\0").Replace("\u2028", "\\L").Replace("\u2029", "\\P").Replace("\u0085", "\\N") + "\"";
        var r = InventoryParser.Parse(With(slot, quoted), "t.yaml");
        foreach (var d in r.Diagnostics)
            Assert.True((d.Message + d.Hint).All(c => c >= ' ' && c != '\u007f' && c is not ('\u2028' or '\u2029' or '\u0085' or '\u202e')), $"unescaped control character in: {d}");
        if (!r.Success) return;
        HostileInventoryTests.AssertInert(r.Inventory!);
    }

    public static TheoryData<string, int> HostileCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var slot in new[] { "WKEY", "WADDR", "HNAME", "HMEMBER", "HEP", "HADDR", "HPEER", "CADDR", "TOPO" })
            for (int i = 0; i < HostileInventoryTests.HostileValues.Length; i++)
                data.Add(slot, i);
        return data;
    }

    [Fact]
    public void A_member_without_a_health_peer_and_a_client_without_an_address_are_errors()
    {
        string text = Fill(Benign).Replace("      address: 10.99.0.2/24\n", "", StringComparison.Ordinal);
        var r = InventoryParser.Parse(text, "t.yaml");
        Assert.Contains(r.Diagnostics, d => d.Code == InventoryCodes.MissingField && d.Message.Contains("anycastEndpoint.address", StringComparison.Ordinal));
        text = Fill(Benign).Replace("site1\n          name:", "site9\n          name:", StringComparison.Ordinal);
        r = InventoryParser.Parse(With("HMEMBER", "site9"), "t.yaml");
        Assert.Contains(r.Diagnostics, d => d.Code == InventoryCodes.PolicyUnsatisfiable && d.Message.Contains("no health peer", StringComparison.Ordinal));
    }

    [Fact]
    public void The_example_lints_and_renders()
    {
        var inv = Ok(File.ReadAllText(Path.Combine(RepoPaths.Examples, "anycast-wireguard.yaml")));
        Assert.Equal(TopologyKind.None, inv.Topology.Kind);
        HostileInventoryTests.AssertInert(inv);
    }
}
