using System.Net;
using Overlay.Core.Net;
using Overlay.Core.Config;
using Overlay.Core.Model;

namespace Overlay.Core.Tests.Config;

public class NodeConfigLoaderTests
{
    internal const string Key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

    internal static readonly string Sample = $$"""
        node: dc1-edge1
        site: dc1
        api:
          socket: /run/overlay/overlayd.sock
          mode: "0660"
          group: overlay
        metrics:
          listen: 127.0.0.1:9474
        frr:
          pathspace: ""
          vtyDir: /var/run/frr
          grpc:
            host: 127.0.0.1
            zebra: 50051
            staticd: 50052
            bfdd: 50053
        interfaces:
          - name: wg-e1-up1
            peer: upstream1
            peerPublicKey: "{{Key}}"
            listenPort: 51820
            keepalive: 25s
            localAddress: 10.255.1.1/31
            peerAddress: 10.255.1.0
            bfd: true
            gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        policies:
          default:
            interval: 1s
            fastInterval: 200ms
            rise: 3
            fall: 2
            minHealthyInterfaces: 1
            handshakeMaxAge: 180s
            rxStallAfter: 60s
            bfd: required
            holdDown:
              advertise: 5s
              withdraw: 2s
            dampening:
              halfLife: 60s
              penaltyPerFlap: 1000
              suppressAbove: 2500
              reuseBelow: 800
              maxPenalty: 6000
            require:
              ospfFullNeighbors: 0
              bgpEstablished: []
        vips:
          - name: web
            prefix: 203.0.113.10/32
            policy: default
            lease: ovl-web
            interfaces: [wg-e1-up1]
        routes:
          - prefix: 10.20.0.0/16
            dev: wg-e1-up1
            metric: 100
        drain:
          file: /etc/overlay/drain
          shutdownTimeout: 5s
        """;

    [Fact]
    public void Documented_example_loads_with_every_field()
    {
        var r = NodeConfigYaml.Read(Sample, "overlayd.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        var c = r.Config!;
        Assert.Equal("dc1-edge1", c.Node);
        Assert.Equal("dc1", c.Site);
        Assert.Equal(0x1B0, c.Api.Mode); // 0660
        Assert.Equal("overlay", c.Api.Group);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9474), c.Metrics!.Listen);
        Assert.Equal("/var/run/frr/zebra.vty", c.Frr.VtyPath("zebra"));
        Assert.Equal(50053, c.Frr.Grpc.Bfdd);
        var wg = Assert.Single(c.Interfaces);
        Assert.Equal(TimeSpan.FromSeconds(25), wg.Keepalive);
        Assert.Equal(WireGuardKey.Parse(Key), wg.PeerPublicKey);
        Assert.Equal(3, wg.Gate.Count);
        Assert.True(wg.Bfd);
        var p = c.Policies["default"];
        Assert.Equal(TimeSpan.FromMilliseconds(200), p.FastInterval);
        Assert.Equal((3, 2), (p.Rise, p.Fall));
        Assert.Equal(new HoldDown(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2)), p.HoldDown);
        Assert.Equal(new Dampening(TimeSpan.FromSeconds(60), 1000, 2500, 800, 6000), p.Dampening);
        Assert.Equal(BfdRequirement.Required, p.Bfd);
        var vip = Assert.Single(c.Vips);
        Assert.Equal(IpPrefix.Parse("203.0.113.10/32"), vip.Prefix);
        Assert.Equal("ovl-web", vip.Lease);
        Assert.Equal(new OwnedRoute(IpPrefix.Parse("10.20.0.0/16"), "wg-e1-up1", 100), Assert.Single(c.Routes));
        Assert.Equal("/etc/overlay/drain", c.Drain.File);
    }

    [Fact]
    public void Omitted_sections_take_documented_defaults()
    {
        var r = NodeConfigYaml.Read("node: n1\npolicies:\n  default: {}\n", "f.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        var c = r.Config!;
        Assert.Equal(ApiConfig.DefaultSocket, c.Api.Socket);
        Assert.Null(c.Metrics);
        Assert.Equal(HealthPolicy.Default("default"), c.Policies["default"] with { Require = RoutingRequirements.None });
        Assert.Null(c.Policies["default"].Dampening);
        Assert.Equal(TimeSpan.FromSeconds(5), c.Drain.ShutdownTimeout);
    }

    public static TheoryData<string, string, string, int, int> BadInputs => new()
    {
        // replace "from" with "to" in the sample; expect an error at path, line, column (1-based)
        { "node: dc1-edge1\n", "", "node", 1, 1 },
        { "  mode: \"0660\"", "  mode: \"0667\"", "api.mode", 5, 9 },
        { "  socket: /run/overlay/overlayd.sock", "  socket: run/overlayd.sock", "api.socket", 4, 11 },
        { "listen: 127.0.0.1:9474", "listen: 0.0.0.0:9474", "metrics.listen", 8, 11 },
        { "listen: 127.0.0.1:9474", "listen: 127.0.0.1", "metrics.listen", 8, 11 },
        { "    zebra: 50051", "    zebra: 70000", "frr.grpc.zebra", 14, 12 },
        { "  - name: wg-e1-up1", "  - name: wg-e1-up1-much-too-long", "interfaces[0].name", 18, 11 },
        { $"peerPublicKey: \"{Key}\"", "peerPublicKey: \"abc\"", "interfaces[0].peerPublicKey", 20, 20 },
        { "keepalive: 25s", "keepalive: 25", "interfaces[0].keepalive", 22, 16 },
        { "localAddress: 10.255.1.1/31", "localAddress: 10.255.1.1", "interfaces[0].localAddress", 23, 19 },
        { "peerAddress: 10.255.1.0", "peerAddress: 10.255.1.0/31", "interfaces[0].peerAddress", 24, 18 },
        { "peerAddress: 10.255.1.0", "peerAddress: 10.9.9.9", "interfaces[0].peerAddress", 24, 18 },
        { "bfd: true", "bfd: yes", "interfaces[0].bfd", 25, 10 },
        { "gate: [10.0.0.0/8,", "gate: [10.0.0.1/8,", "interfaces[0].gate[0]", 26, 12 },
        { "    fastInterval: 200ms", "    fastInterval: 2s", "policies.default.fastInterval", 30, 19 },
        { "    rise: 3", "    rise: 0", "policies.default.rise", 31, 11 },
        { "    fall: 2", "    fall: two", "policies.default.fall", 32, 11 },
        { "handshakeMaxAge: 180s", "handshakeMaxAge: 60s", "policies.default.handshakeMaxAge", 34, 22 },
        { "rxStallAfter: 60s", "rxStallAfter: 30s", "vips[0].policy", 52, 13 },
        { "    bfd: required", "    bfd: maybe", "policies.default.bfd", 36, 10 },
        { "      reuseBelow: 800", "      reuseBelow: 3000", "policies.default.dampening.reuseBelow", 44, 19 },
        { "      maxPenalty: 6000", "      maxPenalty: 2000", "policies.default.dampening.maxPenalty", 45, 19 },
        { "bgpEstablished: []", "bgpEstablished: [10.0.0.300]", "policies.default.require.bgpEstablished[0]", 48, 24 },
        { "    prefix: 203.0.113.10/32", "    prefix: 203.0.113.0/24", "vips[0].prefix", 51, 13 },
        { "    prefix: 203.0.113.10/32", "    prefix: 203.0.113.10/24", "vips[0].prefix", 51, 13 },
        { "    policy: default", "    policy: strict", "vips[0].policy", 52, 13 },
        { "    lease: ovl-web", "    lease: wg-e1-up1", "vips[0].lease", 53, 12 },
        { "    interfaces: [wg-e1-up1]", "    interfaces: [wg-e1-up2]", "vips[0].interfaces[0]", 54, 18 },
        { "    interfaces: [wg-e1-up1]", "    interfaces: []", "vips[0].interfaces", 54, 17 },
        { "    dev: wg-e1-up1", "    dev: eth0", "routes[0].dev", 57, 10 },
        { "  file: /etc/overlay/drain", "  file: drain", "drain.file", 60, 9 },
        { "  shutdownTimeout: 5s", "  shutdownTimeout: 5 s", "drain.shutdownTimeout", 61, 20 },
        { "    rise: 3", "    rize: 3", "policies.default.rize", 31, 5 },
        { "  - name: web", "  - name: web\n    ttl: 3", "vips[0].ttl", 51, 5 },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_reported_at_its_location_with_a_fix(string from, string to, string path, int line, int column)
    {
        Assert.Contains(from, Sample);
        var r = NodeConfigYaml.Read(Sample.Replace(from, to), "/etc/overlay/overlayd.yaml");
        Assert.False(r.Ok);
        Assert.Null(r.Config);
        var e = r.Errors.FirstOrDefault(e => e.Path == path);
        Assert.True(e is not null, $"no error at {path}; got:\n{string.Join("\n", r.Errors)}");
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Equal("/etc/overlay/overlayd.yaml", e.File);
        Assert.False(string.IsNullOrWhiteSpace(e.Hint));
        Assert.Matches($"^/etc/overlay/overlayd\\.yaml:{line}:{column}: error CFG0[0-9][0-9]: {System.Text.RegularExpressions.Regex.Escape(path)}: ", e.ToString());
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var text = Sample
            .Replace("    rise: 3", "    rise: 0")
            .Replace("    policy: default", "    policy: nope")
            .Replace("listen: 127.0.0.1:9474", "listen: 10.0.0.1:9474")
            .Replace("  shutdownTimeout: 5s", "  shutdownTimeout: soon");
        var r = NodeConfigYaml.Read(text, "f.yaml");
        Assert.Equal(
            ["drain.shutdownTimeout", "metrics.listen", "policies.default.rise", "vips[0].policy"],
            r.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Unknown_key_suggests_the_near_miss()
    {
        var r = NodeConfigYaml.Read(Sample.Replace("    rise: 3", "    rize: 3"), "f.yaml");
        var e = Assert.Single(r.Errors);
        Assert.Contains("'rise'", e.Hint);
    }

    [Fact]
    public void Yaml_syntax_error_is_located()
    {
        var r = NodeConfigYaml.Read("node: a\napi:\n  socket: [unclosed\n", "f.yaml");
        var e = Assert.Single(r.Errors);
        Assert.True(e.Line >= 3, e.ToString());
    }

    [Fact]
    public void Duplicate_keys_are_an_error()
    {
        var r = NodeConfigYaml.Read("node: a\nnode: b\n", "f.yaml");
        Assert.False(r.Ok);
        Assert.Equal(2, Assert.Single(r.Errors).Line);
    }

    [Fact]
    public void A_duplicate_key_is_located_at_the_second_with_its_path_and_the_rest_is_still_checked()
    {
        var r = NodeConfigYaml.Read("node: a\nfrr:\n  pathspace: e1\n  pathspace: e2\n  vtydir: /run/frr\n", "f.yaml");
        Assert.False(r.Ok);
        var dup = Assert.Single(r.Errors, e => e.Code == ConfigCodes.Syntax);
        Assert.Equal((4, 3), (dup.Line, dup.Column));
        Assert.Equal("frr.pathspace", dup.Path);
        Assert.Contains("line 3", dup.Hint);
        // Reading goes on past the duplicate: the typo below it is reported in the same run.
        var typo = Assert.Single(r.Errors, e => e.Code == ConfigCodes.UnknownKey);
        Assert.Equal("frr.vtydir", typo.Path);
        Assert.Contains("vtyDir", typo.Hint);
    }

    [Fact]
    public void A_second_document_is_reported_at_its_root_and_a_syntax_error_in_it_too()
    {
        var second = Assert.Single(NodeConfigYaml.Read("node: a\n---\nnode: b\n", "f.yaml").Errors);
        Assert.Equal((3, 1), (second.Line, second.Column));
        Assert.Contains("more than one YAML document", second.Message);
        var broken = Assert.Single(NodeConfigYaml.Read("node: a\n---\nnode: [b\n", "f.yaml").Errors);
        Assert.Equal(ConfigCodes.Syntax, broken.Code);
        Assert.True(broken.Line >= 3, broken.ToString());
    }

    [Fact]
    public void An_empty_file_is_not_a_mapping() =>
        Assert.Contains("mapping", Assert.Single(NodeConfigYaml.Read("# nothing here\n", "f.yaml").Errors).Message);

    [Fact]
    public void Non_mapping_document_is_an_error() =>
        Assert.Contains("mapping", Assert.Single(NodeConfigYaml.Read("- a\n- b\n", "f.yaml").Errors).Message);

    [Fact]
    public void Ipv6_vip_and_loopback_metrics_are_accepted()
    {
        var text = Sample.Replace("203.0.113.10/32", "2001:db8::10/128").Replace("listen: 127.0.0.1:9474", "listen: \"[::1]:9474\"");
        var r = NodeConfigYaml.Read(text, "f.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        Assert.Equal(128, r.Config!.Vips[0].Prefix.Length);
    }
}
