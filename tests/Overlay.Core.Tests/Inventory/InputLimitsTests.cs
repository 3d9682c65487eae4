using System.Net;
using System.Text;
using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Net;
using Overlay.Core.Render;
using Overlay.Core.Rotation;
using Overlay.Core.Tests.Config;

namespace Overlay.Core.Tests.Inventories;

/// <summary>
/// Addresses, keys, encoding, nesting depth, error cascades and floods (issue 13 items 2-7), for both readers.
/// </summary>
public class InputLimitsTests
{
    private static readonly string K1 = Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray());
    private static readonly string K2 = Convert.ToBase64String(Enumerable.Repeat((byte)2, 32).ToArray());
    private static readonly string K3 = Convert.ToBase64String(Enumerable.Repeat((byte)3, 32).ToArray());

    private static string HubSpoke(string hubV4 = "10.0.0.1", string hubEndpoint = "192.0.2.1:51820", string hubKey = "", string extraSpokeLines = "",
        string secondaryCost = "100", string primaryCost = "10", string extraTop = "") => $$"""
        {{extraTop}}gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        nodes:
          - name: hub1
            id: 1
            role: hub
            overlay: { v4: {{hubV4}} }
            endpoint: {{hubEndpoint}}
            publicKey: {{(hubKey.Length > 0 ? hubKey : K1)}}
          - name: hub2
            id: 2
            role: hub
            overlay: { v4: 10.0.0.2 }
            endpoint: 192.0.2.2:51820
            publicKey: {{K2}}
          - name: spoke1
            id: 3
            overlay: { v4: 10.0.0.3 }
            nat: true
            publicKey: {{K3}}{{extraSpokeLines}}
        topology:
          type: hubAndSpoke
          primary: { node: hub1, cost: {{primaryCost}} }
          secondary: { node: hub2, cost: {{secondaryCost}} }
        vips:
          - name: web
            prefix: 203.0.113.10/32
            members: [spoke1, hub2]
        """;

    private static InventoryParseResult Parse(string text) => InventoryParser.Parse(text, "t.yaml");

    private static string Codes(InventoryParseResult r) => string.Join(" ", r.Diagnostics.Select(d => $"{d.Line}:{d.Code}"));

    // ---- the one address parser ------------------------------------------------------------------

    [Theory]
    [InlineData("10.0.1.2", "10.0.1.2")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("::ffff:10.0.0.1", "::ffff:10.0.0.1")]
    [InlineData("::", "::")]
    public void Address_parser_accepts_plain_forms(string text, string canonical)
    {
        Assert.True(IpAddressText.TryParse(text, out var a, out var error), error);
        Assert.Equal(IPAddress.Parse(canonical), a);
    }

    [Theory]
    [InlineData("010.0.1.2")]        // octal in inet_aton: 8.0.1.2
    [InlineData("10.0.1.02")]
    [InlineData("00.0.0.0")]
    [InlineData("0x0a.0.0.1")]       // hex in inet_aton
    [InlineData("10.1")]             // 10.0.0.1 in inet_aton
    [InlineData("167772161")]        // 10.0.0.1 as one number
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1.2.3.4/32")]
    [InlineData("1.2.3.0004")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:010.0.0.1")]
    [InlineData("2001:db8::g")]
    [InlineData("１.２.３.４")]        // full-width digits
    [InlineData("")]
    public void Address_parser_refuses_ambiguous_forms(string text) =>
        Assert.False(IpAddressText.TryParse(text, out _, out _));

    [Fact]
    public void Leading_zero_is_refused_in_the_inventory_with_its_location()
    {
        var r = Parse(HubSpoke(hubV4: "010.0.0.1"));
        var d = Assert.Single(r.Diagnostics);
        Assert.Equal((InventoryCodes.InvalidAddress, 6), (d.Code, d.Line));
        Assert.Contains("leading zero", d.Message);

        r = Parse(HubSpoke(hubEndpoint: "192.0.2.01:51820"));
        d = Assert.Single(r.Diagnostics);
        Assert.Equal((InventoryCodes.InvalidEndpoint, 7), (d.Code, d.Line));

        r = Parse(HubSpoke().Replace("gate: [10.0.0.0/8,", "gate: [010.0.0.0/8,"));
        Assert.Equal(InventoryCodes.InvalidPrefix, Assert.Single(r.Diagnostics).Code);

        r = Parse(HubSpoke(extraTop: "daemon: { metrics: \"127.000.0.1:9474\" }\n"));
        Assert.Equal(InventoryCodes.InvalidValue, Assert.Single(r.Diagnostics).Code);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("127.0.0.1")]
    [InlineData("224.0.0.5")]
    [InlineData("239.1.1.1")]
    [InlineData("255.255.255.255")]
    [InlineData("0.1.2.3")]
    public void Special_addresses_cannot_be_a_router_id(string address)
    {
        var d = Assert.Single(Parse(HubSpoke(hubV4: address)).Diagnostics);
        Assert.Equal((InventoryCodes.InvalidAddress, 6), (d.Code, d.Line));
    }

    [Theory]
    [InlineData("0.0.0.0:51820")]
    [InlineData("127.0.0.1:51820")]
    [InlineData("224.0.0.1:51820")]
    [InlineData("255.255.255.255:51820")]
    [InlineData("\"[::]:51820\"")]
    [InlineData("\"[::1]:51820\"")]
    [InlineData("\"[ff02::1]:51820\"")]
    [InlineData("\"[::ffff:127.0.0.1]:51820\"")]
    [InlineData("localhost:51820")]
    [InlineData("0x7f.1:51820")]
    [InlineData("vpn.0x7f:51820")]
    [InlineData("192.0.2.1:051820")]
    public void Special_addresses_and_numeric_names_cannot_be_an_endpoint(string endpoint)
    {
        var d = Assert.Single(Parse(HubSpoke(hubEndpoint: endpoint)).Diagnostics);
        Assert.Equal((InventoryCodes.InvalidEndpoint, 7), (d.Code, d.Line));
    }

    [Fact]
    public void Special_addresses_are_refused_as_neighbors_vips_and_link_pools()
    {
        var up = Parse(HubSpoke(extraSpokeLines: "\n    asn: 65001\n    upstreams: [{ neighbor: 0.0.0.0, remoteAsn: 64500 }]"));
        Assert.Equal(InventoryCodes.InvalidAddress, Assert.Single(up.Diagnostics).Code);
        var vip = Parse(HubSpoke().Replace("prefix: 203.0.113.10/32", "prefix: 127.0.0.1/32"));
        Assert.Equal(InventoryCodes.InvalidAddress, Assert.Single(vip.Diagnostics).Code);
        foreach (var pool in new[] { "127.0.0.0/16", "224.0.0.0/16", "0.0.0.0/0", "240.0.0.0/8" })
            Assert.Equal(InventoryCodes.InvalidValue, Assert.Single(Parse(HubSpoke(extraTop: $"defaults: {{ linkPool: {pool} }}\n")).Diagnostics).Code);
    }

    [Fact]
    public void Node_config_refuses_leading_zeros_and_special_link_addresses()
    {
        var r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("peerAddress: 10.255.1.0", "peerAddress: 010.255.1.0"), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "interfaces[0].peerAddress" && e.Message.Contains("leading zero"));
        r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("peerAddress: 10.255.1.0", "peerAddress: 0.0.0.0"), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "interfaces[0].peerAddress");
        r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("localAddress: 10.255.1.1/31", "localAddress: 127.0.0.1/31"), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "interfaces[0].localAddress");
        r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("listen: 127.0.0.1:9474", "listen: 0177.0.0.1:9474"), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "metrics.listen");
        r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("host: 127.0.0.1", "host: 0.0.0.0"), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "frr.grpc.host");
        r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("host: 127.0.0.1", "host: evil.example.net"), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "frr.grpc.host");
    }

    [Theory]
    [InlineData("99999999999999999999h")]
    [InlineData("9223372036854775807h")]
    [InlineData("999999999999999s")]
    [InlineData("87601h")]
    public void Huge_durations_are_errors_not_exceptions(string duration)
    {
        Assert.False(DurationText.TryParse(duration, out _, out _));
        var d = Assert.Single(Parse(HubSpoke(extraTop: $"defaults: {{ keepalive: {duration} }}\n")).Diagnostics);
        Assert.Equal(InventoryCodes.InvalidDuration, d.Code);
        var r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("halfLife: 60s", $"halfLife: {duration}"), "f.yaml");
        Assert.Single(r.Errors);
    }

    // ---- keys ---------------------------------------------------------------------------------------

    private const string P = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

    /// <summary>The points of order 1, 2, 4 and 8 as X25519 reads them (little-endian u; p - 1, p and p + 1 included).</summary>
    public static TheoryData<string> LowOrderPoints() =>
    [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        P,
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        // The same with the top bit set, which X25519 ignores.
        "0000000000000000000000000000000000000000000000000000000000000080",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void Low_order_points_are_recognised(string hex) => Assert.True(WireGuardKey.FromHex(hex).IsLowOrder);

    [Fact]
    public void Ordinary_keys_are_not_low_order()
    {
        for (int i = 0; i < 200; i++)
        {
            var bytes = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i));
            Assert.False(new WireGuardKey(bytes).IsLowOrder, Convert.ToHexString(bytes));
        }
        Assert.False(WireGuardKey.Parse(K1).IsLowOrder);
        Assert.False(WireGuardKey.Parse("ekH6aduKmPmWl27H56jHotwXXEWJw94v1arQf/rSPWo=").IsLowOrder);
    }

    [Fact]
    public void Low_order_public_keys_are_refused_by_both_readers()
    {
        string zero = Convert.ToBase64String(new byte[32]);
        var d = Assert.Single(Parse(HubSpoke(hubKey: zero)).Diagnostics);
        Assert.Equal((InventoryCodes.InvalidKey, 8), (d.Code, d.Line));
        string order8 = Convert.ToBase64String(Convert.FromHexString("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"));
        Assert.Equal(InventoryCodes.InvalidKey, Assert.Single(Parse(HubSpoke(hubKey: order8)).Diagnostics).Code);

        var r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace(NodeConfigLoaderTests.Key, zero), "f.yaml");
        Assert.Contains(r.Errors, e => e.Path == "interfaces[0].peerPublicKey" && e.Message.Contains("low-order"));
    }

    // ---- encoding -----------------------------------------------------------------------------------

    [Fact]
    public void Invalid_utf8_is_refused_with_its_location_by_both_readers()
    {
        var bytes = Encoding.UTF8.GetBytes(HubSpoke()).ToList();
        // Line 3 is "  - name: hub1"; put a lone continuation byte after "name: ".
        int lineStart = IndexOfLine(bytes, 3);
        bytes.Insert(lineStart + "  - name: ".Length, 0x80);
        var r = InventoryParser.Parse(bytes.ToArray(), "t.yaml");
        var d = Assert.Single(r.Diagnostics);
        Assert.Equal((InventoryCodes.NotUtf8, 3, 11), (d.Code, d.Line, d.Column));
        Assert.Null(r.Inventory);

        var withBom = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(HubSpoke())).ToArray();
        Assert.True(InventoryParser.Parse(withBom, "t.yaml").Success);
        var utf16 = new byte[] { 0xFF, 0xFE }.Concat(Encoding.Unicode.GetBytes(HubSpoke())).ToArray();
        Assert.Equal(InventoryCodes.NotUtf8, Assert.Single(InventoryParser.Parse(utf16, "t.yaml").Diagnostics).Code);
        // Overlong encoding of '/' and a UTF-16 surrogate encoded in UTF-8 are invalid too.
        foreach (var bad in new[] { new byte[] { 0xC0, 0xAF }, [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80] })
            Assert.Equal(InventoryCodes.NotUtf8, Assert.Single(InventoryParser.Parse([.. Encoding.UTF8.GetBytes("gate: ["), .. bad, .. "]"u8], "t.yaml").Diagnostics).Code);

        var config = Encoding.UTF8.GetBytes(NodeConfigLoaderTests.Sample).ToList();
        config.Insert(IndexOfLine(config, 2) + "site: ".Length, 0xFF);
        var e = Assert.Single(NodeConfigYaml.Read(config.ToArray(), "f.yaml").Errors);
        Assert.Equal((2, 7), (e.Line, e.Column));
        Assert.Contains("UTF-8", e.Message);
    }

    private static int IndexOfLine(List<byte> bytes, int line)
    {
        int i = 0;
        for (int l = 1; l < line; l++) i = bytes.IndexOf((byte)'\n', i) + 1;
        return i;
    }

    // ---- nesting depth ------------------------------------------------------------------------------

    [Theory]
    [InlineData(100_000, '[')]
    [InlineData(100_000, '{')]
    [InlineData(65, '[')]
    public void Deep_nesting_is_an_error_not_a_crash(int depth, char open)
    {
        string inner = open == '[' ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth);
        var r = Parse("gate: " + inner + "\n");
        var d = Assert.Single(r.Diagnostics);
        Assert.Equal(InventoryCodes.LimitExceeded, d.Code);
        Assert.Equal(1, d.Line);

        var c = NodeConfigYaml.Read("node: n1\nroutes: " + inner + "\n", "f.yaml");
        var e = Assert.Single(c.Errors);
        Assert.Contains("nested more than", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void Unclosed_deep_nesting_is_an_error_not_a_crash()
    {
        Assert.NotEmpty(Parse("gate: " + new string('[', 200_000)).Diagnostics);
        Assert.NotEmpty(NodeConfigYaml.Read("node: n1\nroutes: " + new string('{', 200_000), "f.yaml").Errors);
    }

    [Fact]
    public void Nesting_within_the_bound_is_read_as_before()
    {
        // 60 levels reach the reader, which reports a type error, not a depth error.
        var r = Parse("gate: " + new string('[', 60) + new string(']', 60) + "\n");
        Assert.DoesNotContain(r.Diagnostics, d => d.Code == InventoryCodes.LimitExceeded);
    }

    [Fact]
    public void An_alias_cannot_point_into_its_own_node()
    {
        var r = Parse("gate: &g [10.0.0.0/8, *g]\nnodes: []\n");
        Assert.Contains(r.Diagnostics, d => d.Code == InventoryCodes.Syntax && d.Message.Contains("unknown alias"));
    }

    // ---- cascades -----------------------------------------------------------------------------------

    [Fact]
    public void A_broken_hub_reports_only_its_own_error()
    {
        // Without hub1 the spokes' tunnels are not planned; the VIP health check (INV028) must not report that.
        var r = Parse(HubSpoke(hubKey: "not-a-key"));
        Assert.Equal("8:INV008", Codes(r));
        r = Parse(HubSpoke(hubV4: "10.0.0.300"));
        Assert.Equal("6:INV027", Codes(r));
    }

    [Fact]
    public void A_duplicate_id_reports_only_the_duplicate()
    {
        var r = Parse(HubSpoke().Replace("    id: 3\n", "    id: 2\n"));
        Assert.NotEmpty(r.Diagnostics);
        Assert.All(r.Diagnostics, d => Assert.Equal(InventoryCodes.DuplicateValue, d.Code)); // the id, and the default short n2 it implies
    }

    [Fact]
    public void Broken_defaults_and_policies_report_only_themselves()
    {
        // keepalive unreadable: the NAT rxStallAfter check would judge the stand-in default.
        Assert.Equal([InventoryCodes.InvalidDuration], Parse(HubSpoke(extraTop: "defaults: { keepalive: 25 }\n")).Diagnostics.Select(d => d.Code));
        // hello unreadable: "dead must be longer than hello" would compare against the stand-in.
        Assert.Equal([InventoryCodes.InvalidDuration], Parse(HubSpoke(extraTop: "defaults: { ospf: { hello: x, dead: 1s } }\n")).Diagnostics.Select(d => d.Code));
        // interval unreadable: "fastInterval longer than interval" would compare against the stand-in.
        var policy = "policies: { default: { interval: soon, fastInterval: 2s } }\n";
        Assert.Equal([InventoryCodes.InvalidDuration], Parse(HubSpoke(extraTop: policy)).Diagnostics.Select(d => d.Code));
        // a dampening field unreadable.
        var damp = "policies: { default: { dampening: { suppressAbove: lots, reuseBelow: 3000 } } }\n";
        Assert.Equal([InventoryCodes.WrongType], Parse(HubSpoke(extraTop: damp)).Diagnostics.Select(d => d.Code));
        // linkPool unreadable: node ids must not be judged against the default pool.
        var pool = "defaults: { linkPool: 10.0.0/24 }\n";
        Assert.Equal([InventoryCodes.InvalidPrefix], Parse(HubSpoke(extraTop: pool)).Diagnostics.Select(d => d.Code));
    }

    [Fact]
    public void Node_config_a_broken_interface_or_policy_is_not_reported_again_where_it_is_used()
    {
        var r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("localAddress: 10.255.1.1/31", "localAddress: nowhere"), "f.yaml");
        Assert.Equal(["interfaces[0].localAddress"], r.Errors.Select(e => e.Path));
        r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample.Replace("  default:\n    interval: 1s", "  default: [oops]\n  other:\n    interval: 1s"), "f.yaml");
        Assert.Equal(["policies.default"], r.Errors.Select(e => e.Path));
    }

    // ---- floods -------------------------------------------------------------------------------------

    [Fact]
    public void A_repeated_defect_is_capped_per_code_with_a_count()
    {
        var sb = new StringBuilder("gate: [10.0.0.0/8]\ntopology: { type: fullMesh }\nnodes:\n");
        for (int i = 0; i < 20_000; i++) sb.Append("  - { name: n").Append(i).Append(", bogus: 1 }\n");
        var r = Parse(sb.ToString());
        var unknown = r.Diagnostics.Where(d => d.Code == InventoryCodes.UnknownKey).ToList();
        Assert.Equal(DiagnosticCap.PerCode + 1, unknown.Count);
        Assert.Contains(unknown, d => d.Message.StartsWith($"{20_000 - DiagnosticCap.PerCode} more INV002", StringComparison.Ordinal));
        Assert.True(r.Diagnostics.Count < 4 * (DiagnosticCap.PerCode + 1), $"{r.Diagnostics.Count} diagnostics");
        Assert.Null(r.Inventory);
    }

    [Fact]
    public void Node_config_errors_are_capped_with_a_count()
    {
        var sb = new StringBuilder("node: n1\n");
        for (int i = 0; i < 5_000; i++) sb.Append("bogus").Append(i).Append(": 1\n");
        var r = NodeConfigYaml.Read(sb.ToString(), "f.yaml");
        // Capped per code, as the inventory's findings are: the unknown keys shown, then one count of the rest.
        Assert.Equal(DiagnosticCap.PerCode + 1, r.Errors.Count);
        Assert.Contains(r.Errors, e => e.Message.StartsWith($"{5_000 - DiagnosticCap.PerCode} more {ConfigCodes.UnknownKey} finding(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void Lint_findings_are_capped_per_code()
    {
        var many = Enumerable.Range(0, 100).Select(i => Diagnostic.Warning("OVL013", new SourceLocation("t.yaml", i + 1, 1), "x")).ToList();
        var capped = DiagnosticCap.Apply(many);
        Assert.Equal(DiagnosticCap.PerCode + 1, capped.Count);
        Assert.Equal(Severity.Warning, capped[^1].Severity);
    }

    // ---- hub order (lint) --------------------------------------------------------------------------

    [Fact]
    public void A_secondary_hub_cheaper_than_the_primary_is_a_warning()
    {
        var inv = Parse(HubSpoke(primaryCost: "100", secondaryCost: "10")).Inventory!;
        var d = Assert.Single(Linter.Lint(inv, FileSystemView.Unknown), x => x.Code == LintRules.SecondaryHubCheaper.Id);
        Assert.Equal((Severity.Warning, 23), (d.Severity, d.Line));
        Assert.DoesNotContain(Linter.Lint(Parse(HubSpoke()).Inventory!, FileSystemView.Unknown), x => x.Code == LintRules.SecondaryHubCheaper.Id);
        // The secondary's default cost (100) below an explicit primary cost counts too.
        var implicitCost = Parse(HubSpoke(primaryCost: "200").Replace("secondary: { node: hub2, cost: 100 }", "secondary: { node: hub2 }")).Inventory!;
        Assert.Contains(Linter.Lint(implicitCost, FileSystemView.Unknown), x => x.Code == LintRules.SecondaryHubCheaper.Id);
    }

    // ---- render guard and modes ---------------------------------------------------------------------

    [Fact]
    public void Render_and_rotation_refuse_a_model_with_an_unsafe_value_however_it_was_built()
    {
        var inv = Parse(HubSpoke()).Inventory!;
        var bad = inv with { Nodes = [.. inv.Nodes.Select(n => n.Name == "hub1" ? n with { KeyFile = "/etc/k; reboot" } : n)] };
        Assert.Throws<ArgumentException>(() => Renderer.Render(bad));
        Assert.Throws<ArgumentException>(() => RotationPlanner.Plan(bad, "spoke1"));
        var badSite = inv with { Nodes = [.. inv.Nodes.Select(n => n with { Site = "a\nb" })] };
        Assert.Throws<ArgumentException>(() => Renderer.Render(badSite));
    }

    [Fact]
    public void Rendered_files_carry_their_modes()
    {
        foreach (var f in Renderer.Render(Parse(HubSpoke()).Inventory!))
            Assert.Equal(f.RelativePath.Contains("/wireguard/") ? RenderedFile.PrivateMode : RenderedFile.DefaultMode, f.Mode);
    }
}
