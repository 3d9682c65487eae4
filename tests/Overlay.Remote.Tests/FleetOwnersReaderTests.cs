using Overlay.Core.Fleet;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Remote.Fleet;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Xunit;

namespace Overlay.Remote.Tests;

/// <summary>The reader behind 'overlayctl owners': one script per node, FRR's and overlayd's JSON as data.</summary>
public sealed class FleetOwnersReaderTests
{
    private const string Yaml = """
        gate: [10.0.0.0/8, 224.0.0.5/32]
        nodes:
          - { name: hub, id: 1, short: h, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU= }
          - { name: s1, id: 2, short: a, overlay: { v4: 10.10.0.2 }, subnets: [10.21.0.0/24], endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8=, asn: 65001, upstreams: [{ neighbor: 198.51.100.1, remoteAsn: 64500 }] }
        topology:
          type: hubAndSpoke
          primary: { node: hub, cost: 10 }
        vips:
          - { name: web, prefix: 203.0.113.10/32, members: [s1] }
        """;

    private static readonly Inventory Inv = InventoryParser.Parse(Yaml, "t.yaml").Inventory ?? throw new InvalidOperationException("bad test inventory");

    // FRR 8.4.4's own output (captured from two namespaces: 10.98.0.1 redistributes 203.0.113.10/32 and has a stub).
    private const string RouterLsas = """
        { "routerId": "10.10.0.1", "routerLinkStates": { "areas": { "0.0.0.0": [ { "lsaAge": 14, "lsaType": "router-LSA", "linkStateId": "10.10.0.2", "advertisingRouter": "10.10.0.2", "numOfLinks": 3, "routerLinks": { "link0": { "linkType": "another Router (point-to-point)", "neighborRouterId": "10.10.0.1", "routerInterfaceAddress": "10.255.0.1", "tos0Metric": 10 }, "link1": { "linkType": "Stub Network", "networkAddress": "10.21.0.0", "networkMask": "255.255.255.0", "tos0Metric": 10 }, "link2": { "linkType": "Stub Network", "networkAddress": "10.10.0.2", "networkMask": "255.255.255.255", "tos0Metric": 0 } } } ] } } }
        """;

    private const string ExternalLsas = """
        { "routerId": "10.10.0.1", "asExternalLinkStates": [ { "lsaAge": 4, "lsaType": "AS-external-LSA", "linkStateId": "203.0.113.10", "advertisingRouter": "10.10.0.2", "networkMask": 32, "metricType": "E2 (Larger than any link state path)", "metric": 20, "forwardAddress": "0.0.0.0" } ] }
        """;

    private const string Rib = """
        { "203.0.113.10/32":[ { "prefix":"203.0.113.10/32", "protocol":"static", "selected":true, "installed":true, "nexthops":[ { "fib":true, "interfaceName":"ovl-web", "active":true } ] } ],
          "10.21.0.0/24":[ { "prefix":"10.21.0.0/24", "protocol":"ospf", "selected":false, "nexthops":[] }, { "prefix":"10.21.0.0/24", "protocol":"connected", "selected":true, "nexthops":[ { "directlyConnected":true, "interfaceName":"eth1\u001b[31m", "active":true } ] } ],
          "10.0.0.0/8":[ { "protocol":"kernel", "selected":true, "nexthops":[] } ] }
        """;

    private const string Bgp = """
        { "bgpTableVersion":1, "advertisedRoutes":{ "203.0.113.10/32":{ "addrPrefix":"203.0.113.10", "prefixLen":32, "nextHop":"0.0.0.0", "weight":32768, "path":"" }, "192.0.2.0/24":{ "path":"" } }, "totalPrefixCounter":2 }
        """;

    private const string Vips = """
        {"drain":{"all":false,"vips":[]},"vips":[{"name":"web","prefix":"203.0.113.10/32","lease":"ovl-web","leaseHeld":true,"state":"Advertised","healthy":true,"reason":"healthy\u001b]0;pwned\u0007","desired":"advertise","running":"advertised"}]}
        """;

    private static FakeNodeShell Answering(Func<string, string>? overlayd = null, Dictionary<string, string>? sections = null) => new((node, script, stdin) =>
    {
        string nonce = script.Split('\n')[0]["echo @@".Length..].Split(':')[0];
        string m = "@@" + nonce;
        var s = sections ?? new Dictionary<string, string> { ["router"] = RouterLsas, ["external"] = ExternalLsas, ["rib4"] = Rib, ["rib6"] = "{}", ["bgp0"] = Bgp };
        var text = new List<string>();
        foreach (var (k, v) in s) { text.Add($"{m}:{k}"); text.Add(v.Replace("@@M", m, StringComparison.Ordinal)); }
        text.Add($"{m}:overlayd");
        text.Add(overlayd is null ? Vips : overlayd(m));
        text.Add($"{m}:end");
        return FakeNodeShell.Ok(string.Join('\n', text) + "\n");
    });

    [Fact]
    public void The_script_quotes_the_socket_path_and_asks_for_each_upstream_by_address()
    {
        var o = new FleetOptions { Host = new HostRotationOptions { Vtysh = "vtysh -N lab-{node}" } };
        string script = FleetOwnersReader.Script(o, Inv, "s1", "/run/o v/'; reboot #.sock", "n0nce");
        Assert.Contains("'/run/o v/'\\''; reboot #.sock'", script);
        Assert.DoesNotContain("'; reboot #.sock --", script);
        Assert.Contains("vtysh -N lab-s1 -c 'show bgp ipv4 unicast neighbors 198.51.100.1 advertised-routes json'", script);
        Assert.Contains("vtysh -N lab-s1 -c 'show ip ospf database external json'", script);
        Assert.Contains("--unix-socket '/run/o v/'\\''; reboot #.sock' http://overlayd/v1/vips", script);
        // The hub has no upstream: no BGP question.
        Assert.DoesNotContain("bgp", FleetOwnersReader.Script(o, Inv, "hub", "/run/overlay/overlayd.sock", "n0nce"));
    }

    [Fact]
    public async Task FRR_and_overlayd_JSON_are_read_into_origins_routes_and_vip_states()
    {
        var read = await FleetOwnersReader.ReadAsync(Answering(), new FleetOptions(), Inv, "s1", "/run/overlay/overlayd.sock", default);
        Assert.Null(read.Error);
        var r = read.Routing!;
        Assert.Empty(r.Problems);
        Assert.Equal(["10.10.0.2/32 10.10.0.2 Stub", "10.21.0.0/24 10.10.0.2 Stub", "203.0.113.10/32 10.10.0.2 External"],
            r.Lsdb.Select(l => $"{l.Prefix} {l.AdvertisingRouter} {l.Kind}").Order(StringComparer.Ordinal));
        // Only the inventory's prefixes, only the selected route; a control character from the node is not printed as such.
        Assert.Equal(2, r.Rib.Count);
        Assert.Equal("static", r.Rib[IpPrefix.Parse("203.0.113.10/32")].Protocol);
        var lan = r.Rib[IpPrefix.Parse("10.21.0.0/24")];
        Assert.Equal("connected", lan.Protocol);
        Assert.Equal("eth1?[31m", Assert.Single(lan.Nexthops).Interface);
        Assert.Equal([IpPrefix.Parse("203.0.113.10/32")], r.AdvertisedToUpstream["198.51.100.1"]);
        Assert.True(r.Overlayd.Answering);
        var vip = Assert.Single(r.Overlayd.Vips);
        Assert.True(vip.Advertising);
        Assert.DoesNotContain('\u001b', vip.Reason);
        Assert.DoesNotContain('\u0007', vip.Reason);

        var report = FleetOwners.Join(Inv, [read]);
        Assert.False(report.HasDifferences, string.Join("; ", report.Rows.SelectMany(x => x.Findings).Select(f => f.Text)));
        Assert.Equal(["bgp to 198.51.100.1", "ospf external"], report.Rows.Single(x => x.Kind == OwnedKind.Vip).Originators.Single().How);
    }

    [Fact]
    public async Task An_lsa_being_flushed_at_max_age_is_no_origin()
    {
        var sections = new Dictionary<string, string>
        {
            ["router"] = RouterLsas,
            ["external"] = ExternalLsas.Replace("\"lsaAge\": 4", "\"lsaAge\": 3600", StringComparison.Ordinal),
            ["rib4"] = "{}", ["rib6"] = "{}", ["bgp0"] = "{}",
        };
        var read = await FleetOwnersReader.ReadAsync(Answering(sections: sections), new FleetOptions(), Inv, "s1", "/s", default);
        Assert.DoesNotContain(read.Routing!.Lsdb, l => l.Kind == LsaKind.External);
        Assert.Contains(read.Routing.Lsdb, l => l.Kind == LsaKind.Stub);
    }

    [Theory]
    [InlineData("no control socket at '/run/overlay/overlayd.sock'\n@@M!failed", "no control socket")]
    [InlineData("curl is not installed on the node\n@@M!failed", "curl is not installed")]
    [InlineData("{\"error\":\"unknown query parameter\",\"fix\":\"x\"}", "overlayd answered an error")]
    [InlineData("<html>", "unreadable answer")]
    public async Task An_overlayd_that_cannot_be_asked_is_said_why(string answer, string why)
    {
        var read = await FleetOwnersReader.ReadAsync(Answering(m => answer.Replace("@@M", m, StringComparison.Ordinal)), new FleetOptions(), Inv, "s1", "/run/overlay/overlayd.sock", default);
        Assert.False(read.Routing!.Overlayd.Answering);
        Assert.Contains(why, read.Routing.Overlayd.Problem);
    }

    [Fact]
    public async Task Hostile_or_broken_FRR_output_is_a_named_partial_read_never_a_crash()
    {
        var sections = new Dictionary<string, string>
        {
            ["router"] = "{ \"routerLinkStates\": { \"areas\": { \"0.0.0.0\": [ { \"advertisingRouter\": \"1\", \"routerLinks\": { \"l\": { \"linkType\": \"Stub Network\", \"networkAddress\": \"10.21.0.0\", \"networkMask\": \"255.0.255.0\" } } }, 7, [] ] } } }",
            ["external"] = "{ \"asExternalLinkStates\": [ { \"advertisingRouter\": \"10.10.0.9\", \"linkStateId\": \"203.0.113.10\", \"networkMask\": 99 } ] }",
            ["rib4"] = "% Unknown command: show ip route json\n",
            ["rib6"] = "{\"x\": [" + new string('[', 100) + "}",
            ["bgp0"] = "@@M!failed",
        };
        var read = await FleetOwnersReader.ReadAsync(Answering(sections: sections), new FleetOptions(), Inv, "s1", "/run/overlay/overlayd.sock", default);
        var r = read.Routing!;
        Assert.Empty(r.Lsdb);   // a router id "1" and a non-contiguous mask and a /99 are refused, not guessed
        Assert.Empty(r.Rib);
        Assert.Contains(r.Problems, p => p.StartsWith("zebra's IPv4 routes: no JSON", StringComparison.Ordinal));
        Assert.Contains(r.Problems, p => p.StartsWith("zebra's IPv6 routes: unreadable JSON", StringComparison.Ordinal));
        Assert.Contains("bgpd's routes to 198.51.100.1: vtysh failed", r.Problems);
    }

    [Fact]
    public async Task A_node_whose_frr_does_not_answer_at_all_or_whose_read_is_cut_short_is_an_error()
    {
        var dead = new Dictionary<string, string> { ["router"] = "@@M!failed", ["external"] = "@@M!failed", ["rib4"] = "@@M!failed", ["rib6"] = "@@M!failed" };
        var read = await FleetOwnersReader.ReadAsync(Answering(sections: dead), new FleetOptions(), Inv, "hub", "/s", default);
        Assert.Contains("FRR could not be read through vtysh", read.Error);

        var cut = new FakeNodeShell((_, _, _) => new ShellResult(137, "@@x:router\n{", "Killed"));
        Assert.Contains("did not finish", (await FleetOwnersReader.ReadAsync(cut, new FleetOptions(), Inv, "hub", "/s", default)).Error);

        var shell = new FakeNodeShell();
        shell.Unreachable.Add("hub");
        Assert.Contains("Connection refused", (await FleetOwnersReader.ReadAsync(shell, new FleetOptions(), Inv, "hub", "/s", default)).Error);
    }

    [Theory]
    [InlineData(0, "Note: this version of vtysh never writes vtysh.conf\nBuilding Configuration...\nConfiguration saved to /run/lab/hub/zebra.conf\nConfiguration saved to /run/lab/hub/ospfd.conf\n", "", null)]
    [InlineData(0, "Building Configuration...\nIntegrated configuration saved to /etc/frr/frr.conf\n[OK]\n", "", null)]
    [InlineData(0, "Building Configuration...\n% Can't open configuration file /etc/frr/frr.conf.sav\n[FAILED]\n", "", "Can't open")]
    [InlineData(1, "", "vtysh: command not found", "command not found")]
    [InlineData(0, "Building Configuration...\n", "", "(no message)")]
    public async Task Write_memory_is_checked_for_what_it_saved(int exit, string stdout, string stderr, string? error)
    {
        var shell = new FakeNodeShell((_, _, _) => new ShellResult(exit, stdout, stderr));
        var agent = new HostRotationAgent(shell, new HostRotationOptions { Vtysh = "vtysh -N lab-{node}" });
        if (error is null)
        {
            string saved = await agent.SaveFrrAsync("hub", default);
            Assert.Contains("saved to", saved);
            Assert.Equal("vtysh -N lab-hub -c 'write memory'", Assert.Single(shell.Calls).Script);
        }
        else
        {
            var e = await Assert.ThrowsAsync<HostAgentException>(() => agent.SaveFrrAsync("hub", default));
            Assert.Contains("'write memory' failed", e.Message);
            Assert.Contains(error, e.Message);
        }
    }
}
