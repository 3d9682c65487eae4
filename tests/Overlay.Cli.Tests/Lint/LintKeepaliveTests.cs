using System.Text.Json;
using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests.Lint;

/// <summary>'overlayctl lint --keepalive': why each NATed node keeps alive as it does, and what the keepalives cost.</summary>
public sealed class LintKeepaliveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlay-lint-keepalive-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Inventory = """
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        sites: { home: { natUdpTimeout: 20s } }
        topology:
          type: hubAndSpoke
          primary: { node: hub1, cost: 10 }
        nodes:
          - { name: hub1, id: 1, short: h1, role: hub, overlay: { v4: 10.0.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU= }
          - { name: spoke1, id: 11, short: s1, site: home, overlay: { v4: 10.0.1.1 }, nat: true, publicKey: LWuSTXwiLXih8cOVSH6DO3T7QwGcBViRGMgoAa8+tUc= }
          - { name: spoke2, id: 12, short: s2, overlay: { v4: 10.0.1.2 }, endpoint: 198.51.100.12:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= }
        """;

    private (int Code, string Out, string Err) Lint(bool json)
    {
        string path = Path.Combine(_dir, "inv.yaml");
        File.WriteAllText(path, Inventory);
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = LintCommand.Run(path, [], null, json, o, e, keepalive: true);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Text_explains_the_choice_and_sums_the_fleet()
    {
        var (code, stdout, _) = Lint(json: false);
        Assert.Equal(0, code);
        Assert.Contains("32-byte WireGuard keepalive + 8 UDP + 20 IPv4 (40 IPv6) = 60 (80) bytes", stdout);
        // spoke1: site home says 20 s, so 16 s; one tunnel, so 1/16 pkt/s and 60/16 B/s each way.
        Assert.Matches(@"spoke1\s+yes\s+1\s+16s\s+0\.06[23]\s+3\.[78]\s+'spoke1' is behind NAT; its NAT's UDP timeout is 20s \(natUdpTimeout of site 'home'\); keepalive 16s", stdout);
        Assert.Matches(@"hub1\s+no\s+1\s+16s\s+0\.06[23]\s+3\.[78]\s+peer of a node behind NAT", stdout);
        Assert.DoesNotContain("spoke2 ", stdout);
        Assert.Contains("fleet: 1 of 2 tunnels keep alive: 0.125 pkt/s, 7.5 B/s (0.65 MB/day)", stdout);
    }

    [Fact]
    public void Json_lists_every_node_with_its_rates()
    {
        var (code, stdout, _) = Lint(json: true);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        var k = doc.RootElement.GetProperty("keepalive");
        Assert.Equal(60, k.GetProperty("packetBytesIPv4").GetInt32());
        Assert.Equal(1, k.GetProperty("keepaliveTunnels").GetInt32());
        Assert.Equal(0.125, k.GetProperty("fleetPacketsPerSecond").GetDouble());
        var spoke = k.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node").GetString() == "spoke1");
        Assert.Equal("16s", spoke.GetProperty("keepalive").GetString());
        Assert.Equal(3.75, spoke.GetProperty("sentBytesPerSecond").GetDouble());
    }
}
