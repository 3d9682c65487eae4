using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Overlay.Frr.Northbound;
using Overlay.Lab;
using Overlay.Lab.Fleet;
using Xunit;
using Xunit.Abstractions;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// 'overlayctl owners' and apply's saved FRR configuration, on the fleet lab (real FRR and wireguard-go, real
/// overlayctl processes): the fleet is applied from an inventory with s1's subnet and a VIP whose only member is s1.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FleetOwnersScenarioTests(ITestOutputHelper output)
{
    private const string Vip = "203.0.113.10/32";
    private const string Subnet = "10.21.0.0/24";
    private const string VipYaml = "  - { name: web, prefix: 203.0.113.10/32, members: [s1] }";

    /// <summary>
    /// The subnet is s1's and the hub prefers s1; the VIP is advertised nowhere (no overlayd holds it: exit 2); once s1
    /// holds the VIP's route (as overlayd would) everything is as intended (exit 0); when s2's prefix list is widened so
    /// s2 redistributes the VIP too, owners names s2 as an unexpected origin (exit 2); undone, exit 0 again.
    /// </summary>
    [SkippableFact]
    public async Task Owners_names_each_origin_finds_a_vip_advertised_nowhere_and_a_site_advertising_a_vip_it_should_not()
    {
        var lab = await StartAsync();
        await using var _ = lab;
        string inventory = await ApplyFleetAsync(lab);
        await Poll.UntilAsync("s2 reaches s1's client through the hub", c => lab.Lab.PingAsync(lab.S2, FleetLab.ClientAddress, c), TimeSpan.FromSeconds(60));

        // 1. No overlayd holds the VIP: advertised nowhere; the subnet is s1's and every node sends it to s1.
        var nowhere = await OwnersAsync(inventory, "-o", "json");
        Assert.Equal(2, nowhere.Code);
        using (var doc = JsonDocument.Parse(nowhere.StdOut))
        {
            var vip = Row(doc, Vip);
            Assert.False(vip.GetProperty("asIntended").GetBoolean());
            Assert.Equal(0, vip.GetProperty("originators").GetArrayLength());
            Assert.Contains(vip.GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "advertisedNowhere"
                && f.GetProperty("text").GetString()!.Contains("s1 (overlayd not answering: no control socket", StringComparison.Ordinal));
            var subnet = Row(doc, Subnet);
            Assert.True(subnet.GetProperty("asIntended").GetBoolean());
            Assert.Equal("s1", Assert.Single(subnet.GetProperty("originators").EnumerateArray()).GetProperty("node").GetString());
            foreach (var observer in new[] { "hub", "s2" })
                Assert.Equal(["s1"], Preference(subnet, observer));
        }
        output.WriteLine((await OwnersAsync(inventory)).StdOut);

        // 2. s1 holds the VIP's route (what overlayd does through its lease): redistributed by render's route-map.
        await VtyshConfigAsync(lab, lab.S1, $"ip route {Vip} blackhole");
        await Poll.UntilAsync("the hub has the VIP from s1", async c => (await lab.Lab.VtyshAsync(lab.Hub, $"show ip route {Vip} json", c)).StdOut.Contains("\"ospf\"", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var served = await OwnersAsync(inventory, "-o", "json");
        Assert.True(served.Code == 0, served.StdOut + served.StdErr);
        using (var doc = JsonDocument.Parse(served.StdOut))
        {
            var vip = Row(doc, Vip);
            var origin = Assert.Single(vip.GetProperty("originators").EnumerateArray());
            Assert.Equal("s1", origin.GetProperty("node").GetString());
            Assert.Equal(["ospf external"], origin.GetProperty("how").EnumerateArray().Select(h => h.GetString()!));
            Assert.Equal(["s1"], Preference(vip, "hub"));
            Assert.Equal(["s1"], Preference(vip, "s2"));
            // overlayd is not running on s1: said, as a note (FRR is what the upstreams see).
            Assert.Contains(vip.GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "overlaydNotAnswering" && !f.GetProperty("difference").GetBoolean());
        }

        // 3. The wrong state: s2, not a member, has the VIP's route and its prefix list lets it out.
        await VtyshConfigAsync(lab, lab.S2, $"ip route {Vip} blackhole", $"ip prefix-list OVERLAY-VIPS seq 1 permit {Vip}");
        (int Code, string StdOut, string StdErr, TimeSpan Took) wrong = default;
        await Poll.UntilAsync("owners sees s2 originate the VIP", async c =>
        {
            wrong = await OwnersAsync(inventory, "-o", "json");
            return wrong.StdOut.Contains("\"unexpectedOrigin\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, wrong.Code);
        using (var doc = JsonDocument.Parse(wrong.StdOut!))
        {
            var vip = Row(doc, Vip);
            Assert.Equal(["s1", "s2"], vip.GetProperty("originators").EnumerateArray().Select(o => o.GetProperty("node").GetString()!));
            var f = Assert.Single(vip.GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "unexpectedOrigin");
            Assert.Equal("s2", f.GetProperty("node").GetString());
            Assert.Contains("s2 originates VIP web (203.0.113.10/32) (ospf external), but the inventory gives it to s1", f.GetProperty("text").GetString());
            Assert.True(Row(doc, Subnet).GetProperty("asIntended").GetBoolean());
        }
        var text = await OwnersAsync(inventory, Vip);
        output.WriteLine(text.StdOut);
        Assert.Contains("DIFF  s2 originates VIP web", text.StdOut);

        // 4. Undone: as intended again.
        await VtyshConfigAsync(lab, lab.S2, $"no ip route {Vip} blackhole", $"no ip prefix-list OVERLAY-VIPS seq 1 permit {Vip}");
        (int Code, string StdOut, string StdErr, TimeSpan Took) clean = default;
        int runs = 0;
        var cleanAfter = await Poll.UntilAsync("owners is clean again", async c => { runs++; return (clean = await OwnersAsync(inventory)).Code == 0; }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        output.WriteLine($"FLEET-RESULT owners clean after s2 stopped originating: {(long)cleanAfter.TotalMilliseconds} ms, {runs} run(s)");

        // Timing for docs/benchmarks.md: owners over 3 nodes (plus the lab's client-less read), 5 runs.
        var took = new List<(long Wall, long Read)>();
        for (int i = 0; i < 5; i++)
        {
            var r = await OwnersAsync(inventory, "-o", "json");
            using var doc = JsonDocument.Parse(r.StdOut);
            took.Add(((long)r.Took.TotalMilliseconds, doc.RootElement.GetProperty("readMs").GetInt64()));
        }
        output.WriteLine($"FLEET-RESULT owners 3 nodes: wall_ms={string.Join(",", took.Select(t => t.Wall))} read_ms={string.Join(",", took.Select(t => t.Read))} load={File.ReadAllText("/proc/loadavg").Trim()}");
    }

    /// <summary>
    /// apply changes FRR through vtysh, which changes the running configuration only; apply saves it ('write memory'),
    /// so FRR restarted on the hub and on s1 comes back with the applied configuration: the client's path returns and
    /// plan is clean (exit 0).
    /// </summary>
    [SkippableFact]
    public async Task FRR_restarted_after_apply_comes_back_with_what_apply_set_and_plan_is_clean()
    {
        var lab = await StartAsync();
        await using var _ = lab;
        string inventory = await ApplyFleetAsync(lab);
        string saved = await File.ReadAllTextAsync(Path.Combine(lab.Lab.RunDirectory, "hub", "ospfd.conf"));
        Assert.Contains("interface wg-", saved);

        foreach (var node in new[] { lab.Hub, lab.S1 })
        {
            var daemons = node.FrrDaemons.Keys.Order().ToList();
            var stopped = Stopwatch.StartNew();
            // As 'systemctl restart frr' does: SIGTERM to every daemon (zebra last), then start them again (zebra first).
            var processes = daemons.Select(d => lab.Lab.Daemon(node, d)).ToList();
            foreach (var p in Enumerable.Reverse(processes)) await p.StopAsync(TimeSpan.FromSeconds(5));
            long down = stopped.ElapsedMilliseconds;
            foreach (var p in processes) await lab.Lab.RestartAsync(p);
            long answering = stopped.ElapsedMilliseconds;
            var path = await Poll.UntilAsync("the client reaches the hub again", c => lab.Lab.PingAsync(lab.Client, FleetLab.HubOverlay, c), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            long pathMs = stopped.ElapsedMilliseconds;
            // Polled: under load a read can time out (exit 1); what must come is exit 0 with nothing to change.
            (int Code, string StdOut, string StdErr, TimeSpan Took) plan = default;
            await Poll.UntilAsync("plan is clean after the FRR restart", async c => (plan = await CliAsync(["plan", inventory, .. lab.Transport])).Code != 1,
                TimeSpan.FromSeconds(180), TimeSpan.FromMilliseconds(500));
            Assert.True(plan.Code == 0, plan.StdOut + plan.StdErr);
            output.WriteLine($"FLEET-RESULT frr restart node={node.Name}: stopped_ms={down} answering_ms={answering} client_path_ms={pathMs} plan_exit={plan.Code} plan_ms={(long)plan.Took.TotalMilliseconds} load={File.ReadAllText("/proc/loadavg").Trim()}");
        }
    }

    private async Task<FleetLab> StartAsync()
    {
        string? missing = LabPreflight.MissingRequirements();
        Skip.If(missing is not null, missing);
        Skip.If(!File.Exists(OverlayctlDll), $"overlayctl not built next to the tests ({OverlayctlDll})");
        var setup = Stopwatch.StartNew();
        var lab = await FleetLab.StartAsync();
        output.WriteLine($"lab {lab.Lab.RunId} up in {setup.ElapsedMilliseconds} ms");
        LabOwnersTransport = lab.OwnersTransport;
        return lab;
    }

    /// <summary>Keys generated on the nodes and recorded, then hub, s1 and s2 (and the VIP) applied; returns the inventory.</summary>
    private async Task<string> ApplyFleetAsync(FleetLab lab)
    {
        var keys = new Dictionary<string, string> { ["hub"] = Placeholder("hub"), ["s1"] = Placeholder("s1"), ["s2"] = Placeholder("s2") };
        string[] spokes = ["s1", "s2"];
        string inventory = lab.WriteInventory(lab.InventoryYaml(keys, spokes, VipYaml));
        var first = await CliAsync(["apply", inventory, "--yes", "-o", "json", .. lab.Transport]);
        Assert.True(first.Code == 3, first.StdOut + first.StdErr);
        foreach (var line in first.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("type").GetString() != "result") continue;
            foreach (var p in doc.RootElement.GetProperty("generatedKeys").EnumerateObject()) keys[p.Name] = p.Value.GetString()!;
        }
        inventory = lab.WriteInventory(lab.InventoryYaml(keys, spokes, VipYaml));
        var apply = await CliAsync(["apply", inventory, "--yes", .. lab.Transport]);
        Assert.True(apply.Code == 0, apply.StdOut + apply.StdErr);
        Assert.Contains("FRR configuration saved (write memory)", apply.StdOut);
        await lab.WaitForClientPathAsync(TimeSpan.FromSeconds(60));
        return inventory;
    }

    /// <summary>Configuration lines on a node's FRR by hand (vtysh takes several lines in one -c).</summary>
    private static async Task VtyshConfigAsync(FleetLab lab, LabNode node, params string[] lines)
    {
        var r = await lab.Lab.VtyshAsync(node, string.Join('\n', ["configure terminal", .. lines]));
        Assert.True(r.Succeeded && !r.StdOut.Contains("% ", StringComparison.Ordinal), r.StdOut + r.StdErr);
    }

    private static JsonElement Row(JsonDocument doc, string prefix) =>
        doc.RootElement.GetProperty("prefixes").EnumerateArray().Single(p => p.GetProperty("prefix").GetString() == prefix);

    private static string[] Preference(JsonElement row, string observer) =>
        [.. row.GetProperty("preferences").EnumerateArray().Single(p => p.GetProperty("node").GetString() == observer).GetProperty("origins").EnumerateArray().Select(o => o.GetString()!)];

    private static string Placeholder(string node) => Convert.ToBase64String(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("placeholder " + node)));

    private Task<(int Code, string StdOut, string StdErr, TimeSpan Took)> OwnersAsync(string inventory, params string[] more) =>
        CliAsync(["owners", inventory, .. more, .. LabOwnersTransport]);

    private string[] LabOwnersTransport { get; set; } = [];

    // The build the lab finds: overlayctl.dll beside the tests, or $OVERLAYCTL_DLL (the NativeAOT overlayctl in CI).
    private static string OverlayctlDll => Overlay.Lab.Scenarios.Overlayctl.Find() ?? Path.Combine(AppContext.BaseDirectory, "overlayctl.dll");

    private async Task<(int Code, string StdOut, string StdErr, TimeSpan Took)> CliAsync(string[] args)
    {
        var (file, arguments) = Overlay.Lab.Scenarios.BuiltDll.Command(OverlayctlDll, args);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"overlayctl {string.Join(' ', args)} did not finish: {await so}{await se}");
        }
        var r = (p.ExitCode, await so, await se, sw.Elapsed);
        output.WriteLine($"$ overlayctl {string.Join(' ', args.Take(2))} ... -> exit {r.ExitCode} in {r.Elapsed.TotalMilliseconds:0} ms\n{(r.ExitCode is 0 or 2 && args[0] == "owners" ? "" : r.Item2)}{r.Item3}");
        return r;
    }
}
