using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Render;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Inventories;

/// <summary>
/// A node's <c>anycastEndpoint</c> (docs/inventory.md): read strictly, rendered as overlayd.yaml's <c>watchdog</c> block on
/// its interfaces toward the VIP's sites, and loaded back by overlayd with the same settings.
/// </summary>
public sealed class AnycastEndpointTests
{
    private const string ExampleBlock = """
            anycastEndpoint:
              vip: web
              watchdog: { interval: 100ms, misses: 3, backoff: 250ms, maxBackoff: 30s }

        """;

    private static string Example => File.ReadAllText(Path.Combine(RepoPaths.Examples, "anycast-2dc.yaml")).ReplaceLineEndings("\n");

    /// <summary>The example with client1's anycastEndpoint block replaced by <paramref name="lines"/> (indented as node keys).</summary>
    private static string WithClientBlock(string lines)
    {
        string text = Example;
        string block = ExampleBlock.ReplaceLineEndings("\n");
        Assert.Contains(block, text);
        return text.Replace(block, lines.Length == 0 ? "" : lines.ReplaceLineEndings("\n").TrimEnd('\n') + "\n", StringComparison.Ordinal);
    }

    private static InventoryParseResult Parse(string text) => InventoryParser.Parse(text, "anycast.yaml");

    /// <summary>
    /// The diagnostics about client1's block. A node with an error stays out of the tunnel plan (the reader's rule), so
    /// the example's VIP web6 (policy strict: 2 interfaces) then also reports INV028 for dc1-edge1; that echo is left out.
    /// </summary>
    private static List<Diagnostic> Own(InventoryParseResult r) => [.. r.Diagnostics.Where(d => d.Code != InventoryCodes.PolicyUnsatisfiable)];

    private static Overlay.Core.Inventories.Inventory Ok(string text)
    {
        var r = Parse(text);
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    [Fact]
    public void The_example_marks_client1_as_a_client_of_vip_web_with_the_documented_defaults()
    {
        var inv = Ok(Example);
        var a = inv.GetNode("client1").AnycastEndpoint;
        Assert.NotNull(a);
        Assert.Equal("web", a.Vip);
        Assert.Equal(SessionWatchdogConfig.Standard, a.Watchdog);
        Assert.True(a.Location.Line > 0);
        Assert.Null(inv.GetNode("dc1-edge1").AnycastEndpoint);
        Assert.Null(inv.GetNode("dc2-edge1").AnycastEndpoint);
    }

    [Theory]
    [InlineData("    anycastEndpoint: { vip: web }", 100, 3, 250, 30_000)]
    [InlineData("    anycastEndpoint: { vip: web, watchdog: true }", 100, 3, 250, 30_000)]
    [InlineData("    anycastEndpoint: { vip: web, watchdog: { misses: 5 } }", 100, 5, 250, 30_000)]
    [InlineData("    anycastEndpoint: { vip: web, watchdog: { interval: 150ms, misses: 4, backoff: 500ms, maxBackoff: 1m } }", 150, 4, 500, 60_000)]
    public void Watchdog_settings_default_field_by_field(string block, int intervalMs, int misses, int backoffMs, int maxBackoffMs)
    {
        var w = Ok(WithClientBlock(block)).GetNode("client1").AnycastEndpoint!.Watchdog;
        Assert.Equal(new SessionWatchdogConfig(TimeSpan.FromMilliseconds(intervalMs), misses, TimeSpan.FromMilliseconds(backoffMs), TimeSpan.FromMilliseconds(maxBackoffMs)), w);
    }

    [Fact]
    public void Watchdog_false_marks_the_client_without_a_watchdog()
    {
        var inv = Ok(WithClientBlock("    anycastEndpoint: { vip: web, watchdog: false }"));
        var a = inv.GetNode("client1").AnycastEndpoint!;
        Assert.Equal("web", a.Vip);
        Assert.Null(a.Watchdog);
        // client1 is behind NAT: its tunnels keep alive, so lint has nothing to say (OVL018 needs neither).
        Assert.Empty(Linter.Lint(inv, FileSystemView.Unknown));
    }

    public static TheoryData<string, string, string> BadBlocks() => new()
    {
        { "    anycastEndpoint: { vip: webb }", InventoryCodes.InvalidValue, "anycastEndpoint.vip 'webb', which is not a VIP | did you mean 'web'?" },
        { "    anycastEndpoint: { watchdog: true }", InventoryCodes.MissingField, "vip" },
        { "    anycastEndpoint: web", InventoryCodes.WrongType, "anycastEndpoint must be a mapping" },
        { "    anycastEndpoint: { vip: \"web; reboot\" }", InventoryCodes.InvalidName, "anycastEndpoint.vip 'web; reboot' is not a VIP name" },
        { "    anycastEndpoint: { vip: \"web\\nrm -rf /\" }", InventoryCodes.InvalidName, "is not a VIP name" },
        { "    anycastEndpoint: { vip: web, watchdog: yes }", InventoryCodes.WrongType, "anycastEndpoint.watchdog must be true or false" },
        { "    anycastEndpoint: { vip: web, watchdgo: true }", InventoryCodes.UnknownKey, "unknown key 'watchdgo' in anycastEndpoint | did you mean 'watchdog'?" },
        { "    anycastEndpoint: { vip: web, watchdog: { intreval: 100ms } }", InventoryCodes.UnknownKey, "did you mean 'interval'?" },
        { "    anycastEndpoint: { vip: web, watchdog: { interval: 100 } }", InventoryCodes.InvalidDuration, "watchdog.interval:" },
        { "    anycastEndpoint: { vip: web, watchdog: { interval: \"100ms\\n  evil: 1\" } }", InventoryCodes.InvalidDuration, "watchdog.interval:" },
        { "    anycastEndpoint: { vip: web, watchdog: { interval: 5ms } }", InventoryCodes.TimerInvalid, "watchdog.interval 5ms is outside 10ms..10s" },
        { "    anycastEndpoint: { vip: web, watchdog: { interval: 20s, backoff: 30s } }", InventoryCodes.TimerInvalid, "watchdog.interval 20s is outside 10ms..10s" },
        { "    anycastEndpoint: { vip: web, watchdog: { misses: 0 } }", InventoryCodes.OutOfRange, "watchdog.misses 0 is out of range 1..100" },
        { "    anycastEndpoint: { vip: web, watchdog: { misses: 101 } }", InventoryCodes.OutOfRange, "watchdog.misses 101 is out of range 1..100" },
        { "    anycastEndpoint: { vip: web, watchdog: { backoff: 50ms } }", InventoryCodes.TimerInvalid, "watchdog.backoff 50ms is shorter than watchdog.interval 100ms" },
        { "    anycastEndpoint: { vip: web, watchdog: { interval: 300ms } }", InventoryCodes.TimerInvalid, "watchdog.backoff 250ms is shorter than watchdog.interval 300ms" },
        { "    anycastEndpoint: { vip: web, watchdog: { maxBackoff: 100ms } }", InventoryCodes.TimerInvalid, "watchdog.maxBackoff 100ms is shorter than watchdog.backoff 250ms" },
        { "    anycastEndpoint: { vip: web, watchdog: { maxBackoff: 2h } }", InventoryCodes.TimerInvalid, "watchdog.maxBackoff 2h is above 1h" },
    };

    [Theory]
    [MemberData(nameof(BadBlocks))]
    public void Bad_anycastEndpoint_is_rejected_with_a_located_error_and_a_fix(string block, string code, string text)
    {
        var r = Parse(WithClientBlock(block));
        Assert.False(r.Success);
        var d = Assert.Single(Own(r));
        Assert.Equal(code, d.Code);
        Assert.Equal("anycast.yaml", d.File);
        int line = Array.IndexOf(WithClientBlock(block).Split('\n'), block) + 1;
        Assert.Equal(line, d.Line);
        Assert.False(string.IsNullOrWhiteSpace(d.Hint), $"{d} has no fix");
        Assert.Contains(text, $"{d.Message} | {d.Hint}", StringComparison.Ordinal);
    }

    [Fact]
    public void Every_watchdog_error_is_reported_at_once()
    {
        var r = Parse(WithClientBlock("    anycastEndpoint: { vip: web, watchdog: { interval: 5ms, misses: 0, maxBackoff: 2h } }"));
        Assert.Equal(
            [InventoryCodes.TimerInvalid, InventoryCodes.OutOfRange, InventoryCodes.TimerInvalid],
            Own(r).Select(d => d.Code));
    }

    [Fact]
    public void A_site_of_the_vip_cannot_be_its_client()
    {
        string text = Example.Replace("    asn: 65002\n", "    asn: 65002\n    anycastEndpoint: { vip: web }\n", StringComparison.Ordinal);
        var d = Assert.Single(Own(Parse(text)));
        Assert.Equal(InventoryCodes.Conflict, d.Code);
        Assert.Contains("node 'dc2-edge1' is a member of VIP 'web' and also its anycastEndpoint client", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_without_a_tunnel_to_the_vips_sites_is_rejected()
    {
        // Hub and spoke: spoke3 has tunnels only to the hubs (the shortcut joins spoke1 and spoke2), so VIP app on spoke1 is out of its reach.
        string text = File.ReadAllText(Path.Combine(RepoPaths.Examples, "hub-spoke.yaml")).ReplaceLineEndings("\n");
        string spoke3 = text.Split('\n').Single(l => l.Contains("name: spoke3,", StringComparison.Ordinal));
        text = text.Replace(spoke3, spoke3[..spoke3.LastIndexOf('}')] + ", anycastEndpoint: { vip: app } }", StringComparison.Ordinal)
            + "\nvips:\n  - { name: app, prefix: 203.0.113.20/32, members: [spoke1] }\n";
        var d = Assert.Single(Parse(text).Diagnostics);
        Assert.Equal(InventoryCodes.Unreachable, d.Code);
        Assert.Contains("node 'spoke3' has anycastEndpoint.vip 'app' but no tunnel to any of its members (spoke1)", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    anycastEndpoint: { vip: web }")]
    [InlineData("    anycastEndpoint: { vip: web, watchdog: { interval: 150ms, misses: 4, backoff: 500ms, maxBackoff: 1m } }")]
    [InlineData("    anycastEndpoint: { vip: web, watchdog: { interval: 10ms, misses: 100, backoff: 10ms, maxBackoff: 1h } }")]
    public void Rendered_watchdog_loads_back_into_overlayd_with_the_inventorys_settings(string block)
    {
        var inv = Ok(WithClientBlock(block));
        var want = inv.GetNode("client1").AnycastEndpoint!.Watchdog!;
        foreach (var file in Renderer.Render(inv).Where(f => f.RelativePath.EndsWith("/overlayd.yaml", StringComparison.Ordinal)))
        {
            var loaded = NodeConfigYaml.Read(file.Content, file.RelativePath);
            Assert.True(loaded.Ok, $"{file.RelativePath}: {string.Join("; ", loaded.Errors)}");
            var ifaces = loaded.Config!.Interfaces;
            if (file.RelativePath.StartsWith("client1/", StringComparison.Ordinal))
            {
                // Both of its tunnels end at a site of VIP web; the watchdog probes each far end's tunnel address.
                Assert.Equal(2, ifaces.Count);
                Assert.All(ifaces, i => Assert.Equal(want, i.Watchdog));
                var tunnels = inv.TunnelsOf("client1");
                Assert.Equal(tunnels.Select(t => t.AddressOf(t.PeerOf("client1"))).Order(new AddressOrder()), ifaces.Select(i => i.PeerAddress).Order(new AddressOrder()));
            }
            else
                Assert.All(ifaces, i => Assert.Null(i.Watchdog)); // the sites never need it
        }
    }

    [Fact]
    public void Watchdog_false_renders_no_watchdog_block()
    {
        var inv = Ok(WithClientBlock("    anycastEndpoint: { vip: web, watchdog: false }"));
        var file = Renderer.Render(inv).Single(f => f.RelativePath == "client1/overlayd.yaml");
        Assert.DoesNotContain("watchdog", file.Content, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_tunnels_to_the_vips_members_get_the_watchdog()
    {
        // VIP web6 is served by dc1-edge1 alone: client1's tunnel to dc2-edge1 is an ordinary one.
        var inv = Ok(WithClientBlock("    anycastEndpoint: { vip: web6 }"));
        var file = Renderer.Render(inv).Single(f => f.RelativePath == "client1/overlayd.yaml");
        var loaded = NodeConfigYaml.Read(file.Content, file.RelativePath).Config!;
        Assert.Equal(SessionWatchdogConfig.Standard, loaded.Interfaces.Single(i => i.Peer == "dc1-edge1").Watchdog);
        Assert.Null(loaded.Interfaces.Single(i => i.Peer == "dc2-edge1").Watchdog);
    }

    private sealed class AddressOrder : IComparer<System.Net.IPAddress>
    {
        public int Compare(System.Net.IPAddress? x, System.Net.IPAddress? y) => string.CompareOrdinal(x?.ToString(), y?.ToString());
    }
}
