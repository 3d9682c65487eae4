using System.Net;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Render;
using Overlay.Core.Tests.Render;
using Overlay.Core.Model;

namespace Overlay.Core.Tests.Config;

/// <summary>overlayd.yaml's one read/write pair: write → read gives an equal config, and writing that again gives the same bytes.</summary>
public sealed class NodeConfigRoundTripTests
{
    [Theory]
    [InlineData("anycast-2dc")]
    [InlineData("anycast-wireguard")]
    [InlineData("hub-spoke")]
    [InlineData("mesh-40")]
    public void Every_rendered_overlayd_yaml_reads_back_and_writes_to_the_same_bytes(string example)
    {
        string path = Path.Combine(RepoPaths.Examples, example + ".yaml");
        var inventory = InventoryParser.Parse(File.ReadAllText(path), path).Inventory!;
        foreach (var file in Renderer.Render(inventory).Where(f => f.RelativePath.EndsWith("/overlayd.yaml", StringComparison.Ordinal)))
        {
            var read = NodeConfigYaml.Read(file.Utf8.Span, file.RelativePath);
            Assert.True(read.Ok, $"{file.RelativePath}: {string.Join("; ", read.Errors)}");
            Assert.Equal(file.Utf8.ToArray(), NodeConfigYaml.WriteUtf8(read.Config!, Renderer.Header));
            AssertRoundTrips(read.Config!);
        }
    }

    [Fact]
    public void A_config_with_every_optional_part_round_trips() => AssertRoundTrips(Full());

    [Fact]
    public void A_minimal_config_round_trips()
    {
        var c = new NodeConfig("n1", null, NodeConfigDefaults.Api, null, NodeConfigDefaults.Frr, [], new Dictionary<string, HealthPolicy>(), [], [], NodeConfigDefaults.Drain);
        string text = AssertRoundTrips(c);
        Assert.DoesNotContain("metrics:", text);
        Assert.DoesNotContain("file:", text);
        Assert.Contains("policies: {}", text);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("on")]
    [InlineData("0660")]
    [InlineData("1.5")]
    [InlineData("123")]
    public void Names_that_would_read_as_something_else_are_quoted_and_read_back(string name)
    {
        var c = Full();
        c = c with { Site = name, Policies = new Dictionary<string, HealthPolicy> { [name] = NodeConfigDefaults.Policy(name) }, Vips = [c.Vips[0] with { Policy = name }] };
        Assert.Contains($"site: \"{name}\"", AssertRoundTrips(c));
    }

    [Fact]
    public void Equality_compares_lists_by_content()
    {
        var a = Full();
        var b = Full();
        Assert.Equal(a, b);
        Assert.NotEqual(a, b with { Vips = [b.Vips[0] with { Interfaces = ["wg-other"] }] });
        Assert.NotEqual(a, b with { Transit = !b.Transit });
    }

    private static string AssertRoundTrips(NodeConfig config)
    {
        string text = NodeConfigYaml.Write(config);
        var read = NodeConfigYaml.Read(text, "f.yaml");
        Assert.True(read.Ok, text + "\n" + string.Join("\n", read.Errors));
        Assert.Equal(config, read.Config);
        Assert.Equal(text, NodeConfigYaml.Write(read.Config!));
        return text;
    }

    /// <summary>Every optional part present: site, group, metrics on IPv6, a watchdog, dampening, routing requirements, routes, a drain file.</summary>
    private static NodeConfig Full()
    {
        var key = WireGuardKey.Parse(NodeConfigLoaderTests.Key);
        var policy = NodeConfigDefaults.Policy("edge") with
        {
            Interval = TimeSpan.FromMilliseconds(100), FastInterval = TimeSpan.FromMilliseconds(50), Bfd = BfdRequirement.Ignored, Dampening = NodeConfigDefaults.Dampening with { PenaltyPerFlap = 1.5 },
            Require = new RoutingRequirements(2, [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1")]),
        };
        return new NodeConfig(
            "edge1", "dc1",
            new ApiConfig("/run/overlay/x.sock", 0b110_100_000, "overlay"),
            new MetricsConfig(new IPEndPoint(IPAddress.IPv6Loopback, 9474)),
            new FrrConfig("edge1", "/var/run/frr", new FrrGrpcConfig("127.0.0.1", 1, 2, 3)),
            [
                new WgInterfaceConfig("wg-e1-up1", "up1", key, 51820, TimeSpan.FromSeconds(25), new TunnelAddress(IPAddress.Parse("10.255.1.1"), 31),
                    IPAddress.Parse("10.255.1.0"), true, [IpPrefix.Parse("10.0.0.0/8"), IpPrefix.Parse("2001:db8::/32")]),
                new WgInterfaceConfig("wg-e1-p51900", "web", key, 0, TimeSpan.Zero, new TunnelAddress(IPAddress.Parse("10.99.0.2"), 24),
                    IPAddress.Parse("10.99.0.1"), false, [IpPrefix.Parse("10.99.0.1/32")]) { Watchdog = NodeConfigDefaults.Watchdog with { Misses = 5 } },
            ],
            new Dictionary<string, HealthPolicy> { ["edge"] = policy, ["default"] = NodeConfigDefaults.Policy("default") },
            [new VipConfig("web", IpPrefix.Parse("203.0.113.10/32"), "edge", "ovl-web", ["wg-e1-up1", "wg-e1-p51900"])],
            [new OwnedRoute(IpPrefix.Parse("10.20.0.0/16"), "wg-e1-up1", 10)],
            new DrainConfig("/etc/overlay/drain", TimeSpan.FromSeconds(3)),
            "/etc/overlay/inventory.yaml")
        { Transit = true };
    }
}
