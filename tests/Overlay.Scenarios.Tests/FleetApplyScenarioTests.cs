using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Overlay.Lab;
using Overlay.Lab.Fleet;
using Xunit;
using Xunit.Abstractions;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// The operator's story with 'overlayctl plan' and 'apply' (real processes) against fresh namespace nodes running real
/// FRR and wireguard-go: keys are generated on the nodes and recorded in the inventory, a hub-and-spoke inventory is
/// applied, a second apply changes nothing, then a spoke is added while a client behind the first spoke talks to the
/// hub at 100 packets per second: no packet lost on the existing tunnel, its OSPF adjacency and WireGuard session untouched.
/// </summary>
public sealed class FleetApplyScenarioTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Apply_to_fresh_nodes_then_adding_a_spoke_leaves_the_running_tunnel_untouched()
    {
        string? missing = LabPreflight.MissingRequirements();
        Skip.If(missing is not null, missing);
        Skip.If(!File.Exists(OverlayctlDll), $"overlayctl not built next to the tests ({OverlayctlDll})");
        var setup = Stopwatch.StartNew();
        await using var lab = await FleetLab.StartAsync();
        output.WriteLine($"lab {lab.Lab.RunId} up in {setup.ElapsedMilliseconds} ms");

        // Fresh nodes have no keys: the inventory starts with placeholders; apply generates keys on the nodes and says so.
        var keys = new Dictionary<string, string> { ["hub"] = Placeholder("hub"), ["s1"] = Placeholder("s1"), ["s2"] = Placeholder("s2") };
        string inventory = lab.WriteInventory(lab.InventoryYaml(keys, "s1"));
        var first = await CliAsync(["apply", inventory, "--yes", "-o", "json", .. lab.Transport]);
        Assert.Equal(3, first.Code);
        foreach (var (node, key) in GeneratedKeys(first.StdOut)) keys[node] = key;
        Assert.True(keys["hub"] != Placeholder("hub") && keys["s1"] != Placeholder("s1"));
        Assert.False((await lab.Lab.ExecAsync(lab.Hub, "ip link show type tun")).StdOut.Contains("wg-"), "no tunnel before the keys are recorded");

        inventory = lab.WriteInventory(lab.InventoryYaml(keys, "s1"));
        var plan1 = await CliAsync(["plan", inventory, .. lab.Transport]);
        Assert.Equal(2, plan1.Code);
        Assert.Contains("+ peer " + keys["s1"], plan1.StdOut);
        Assert.DoesNotContain("PrivateKey", plan1.StdOut);
        var apply1 = await CliAsync(["apply", inventory, "--yes", .. lab.Transport]);
        Assert.True(apply1.Code == 0, apply1.StdErr);
        Assert.Contains("every changed node matches the inventory", apply1.StdOut);
        var converged = await lab.WaitForClientPathAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"FLEET-RESULT fresh apply hub+s1: apply_ms={(long)apply1.Took.TotalMilliseconds} path_after_ms={(long)converged.TotalMilliseconds}");

        // The second apply changes nothing: plan says so with exit 0, apply says nothing to change.
        var again = await CliAsync(["plan", inventory, "-o", "json", .. lab.Transport]);
        Assert.True(again.Code == 0, again.StdOut);
        var noop = await CliAsync(["apply", inventory, "--yes", .. lab.Transport]);
        Assert.Equal(0, noop.Code);
        Assert.Contains("nothing to change", noop.StdOut);

        // Add s2 while the client's echo runs over hub–s1.
        await using var traffic = lab.StartTraffic(100);
        // One clean second (the latest, less what may be in flight) before the change: the measurement starts from there.
        await Poll.UntilAsync("one second of answered echoes", () => traffic.Sent > 150 && traffic.AllAnswered(traffic.Sent - 150, traffic.Sent - 50), TimeSpan.FromSeconds(90));
        var before = await HubToS1Async(lab);
        inventory = lab.WriteInventory(lab.InventoryYaml(keys, "s1", "s2"));
        var s2Key = await CliAsync(["apply", inventory, "--node", "s2", "--yes", "-o", "json", .. lab.Transport]);
        Assert.Equal(3, s2Key.Code);
        foreach (var (node, key) in GeneratedKeys(s2Key.StdOut)) keys[node] = key;
        inventory = lab.WriteInventory(lab.InventoryYaml(keys, "s1", "s2"));

        var plan2 = await CliAsync(["plan", inventory, "-o", "json", .. lab.Transport]);
        Assert.Equal(2, plan2.Code);
        using (var doc = JsonDocument.Parse(plan2.StdOut))
        {
            var nodes = doc.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!);
            Assert.False(nodes["s1"].GetProperty("changes").GetBoolean(), "s1 is not changed by adding s2");
            Assert.True(nodes["hub"].GetProperty("changes").GetBoolean());
            foreach (var n in nodes.Values) output.WriteLine($"FLEET-RESULT plan node={n.GetProperty("node").GetString()} read_ms={n.GetProperty("readMs").GetInt64()}");
        }
        int sentBefore = traffic.Sent - 150;
        var apply2 = await CliAsync(["apply", inventory, "--yes", .. lab.Transport]);
        output.WriteLine(apply2.StdOut + apply2.StdErr);
        Assert.True(apply2.Code == 0, apply2.StdErr);
        await Poll.UntilAsync("s2 reaches the hub over its new tunnel", c => lab.Lab.PingAsync(lab.S2, FleetLab.HubOverlay, c), TimeSpan.FromSeconds(60));
        int sentAfter = traffic.Sent;
        await Poll.UntilAsync("two clean seconds after the apply", () => traffic.AllAnswered(sentAfter, sentAfter + 200), TimeSpan.FromSeconds(60));
        var after = await HubToS1Async(lab);
        int lost = traffic.Missing(sentBefore, sentAfter + 200);
        var result = await traffic.StopAsync();
        output.WriteLine($"FLEET-RESULT add spoke under traffic: apply_ms={(long)apply2.Took.TotalMilliseconds} sent={result.Sent} lost_from_plan_to_end={lost} lost_overall={result.Lost} "
            + $"during_apply={sentAfter - sentBefore} ospf_before='{before.Ospf}' ospf_after='{after.Ospf}' handshake_before={before.Handshake} handshake_after={after.Handshake}");

        Assert.True(lost == 0, $"lost {lost} packet(s) on the unchanged tunnel while s2 was added");
        // The hub–s1 adjacency did not flap: the same OSPF neighbor kept counting up (its uptime only grew), and the
        // WireGuard session was not re-keyed by apply (a new handshake within 2 minutes only comes from a reset).
        Assert.True(after.UpMs >= before.UpMs, $"hub–s1 OSPF adjacency restarted: up {before.UpMs} ms before, {after.UpMs} ms after");
        Assert.Equal(before.Handshake, after.Handshake);

        var final = await CliAsync(["plan", inventory, .. lab.Transport]);
        Assert.True(final.Code == 0, final.StdOut);

        // And s2 leaves again: its tunnel is costed out, drained and removed on the hub; s1's traffic never notices.
        await using var traffic2 = lab.StartTraffic(100);
        await Poll.UntilAsync("one second of answered echoes", () => traffic2.Sent > 150 && traffic2.AllAnswered(traffic2.Sent - 150, traffic2.Sent - 50), TimeSpan.FromSeconds(90));
        int from = traffic2.Sent - 150;
        before = await HubToS1Async(lab);
        inventory = lab.WriteInventory(lab.InventoryYaml(keys, "s1"));
        var remove = await CliAsync(["apply", inventory, "--node", "hub", "--yes", .. lab.Transport]);
        Assert.True(remove.Code == 0, remove.StdErr);
        Assert.Contains("costed out", remove.StdOut);
        string p = lab.Lab.RunId[..4];
        Assert.False((await lab.Lab.ExecAsync(lab.Hub, $"ip link show dev wg-{p}h-{p}b")).Succeeded, "the hub's tunnel to s2 is gone");
        int to = traffic2.Sent;
        await Poll.UntilAsync("two clean seconds after the removal", () => traffic2.AllAnswered(to, to + 200), TimeSpan.FromSeconds(60));
        int lostRemoving = traffic2.Missing(from, to + 200);
        after = await HubToS1Async(lab);
        output.WriteLine($"FLEET-RESULT remove spoke under traffic: apply_ms={(long)remove.Took.TotalMilliseconds} lost={lostRemoving} ospf_before='{before.Ospf}' ospf_after='{after.Ospf}'");
        Assert.True(lostRemoving == 0, $"lost {lostRemoving} packet(s) on the unchanged tunnel while s2 was removed");
        Assert.True(after.UpMs >= before.UpMs, "hub–s1 OSPF adjacency restarted while s2 was removed");
        Assert.Equal(0, (await CliAsync(["plan", inventory, "--node", "hub", .. lab.Transport])).Code);
    }

    /// <summary>A valid key nobody holds: what an inventory carries for a node before its key exists.</summary>
    private static string Placeholder(string node) => Convert.ToBase64String(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("placeholder " + node)));

    private static IEnumerable<(string Node, string Key)> GeneratedKeys(string jsonLines)
    {
        foreach (var line in jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("type").GetString() != "result") continue;
            foreach (var p in doc.RootElement.GetProperty("generatedKeys").EnumerateObject()) yield return (p.Name, p.Value.GetString()!);
        }
    }

    private static async Task<(string Ospf, long UpMs, string Handshake)> HubToS1Async(FleetLab lab)
    {
        string iface = (await lab.Lab.ExecAsync(lab.Hub, "ip -o link show | grep -o 'wg-[a-z0-9]*h-[a-z0-9]*a' | head -1")).StdOut.Trim();
        string json = (await lab.Lab.VtyshAsync(lab.Hub, Overlay.Frr.Northbound.FrrDaemon.Ospfd, "show ip ospf neighbor json")).StdOut;
        long up = 0;
        string state = "";
        using (var doc = JsonDocument.Parse(json))
            foreach (var n in doc.RootElement.GetProperty("neighbors").EnumerateObject())
                foreach (var e in n.Value.EnumerateArray())
                    if (e.TryGetProperty("ifaceName", out var i) && i.GetString()!.StartsWith(iface, StringComparison.Ordinal))
                    {
                        state = e.GetProperty("nbrState").GetString()!;
                        up = e.TryGetProperty("upTimeInMsec", out var u) ? u.GetInt64() : 0;
                    }
        string hs = (await lab.Lab.ExecAsync(lab.Hub, $"wg show {iface} latest-handshakes")).StdOut.Trim();
        return ($"{iface} {state} up {up} ms", up, hs);
    }

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
        output.WriteLine($"$ overlayctl {string.Join(' ', args.Take(2))} ... -> exit {r.ExitCode} in {r.Elapsed.TotalMilliseconds:0} ms\n{r.Item2}{r.Item3}");
        return r;
    }
}
