using System.Diagnostics;
using System.Text.Json;
using Overlay.Lab;
using Overlay.Lab.Scenarios;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// The operator's story on a real lab (namespaces, wireguard-go, FRR with OSPF+BFD, the real overlayd on each
/// spoke, the real overlayctl): s1 reaches s2's LAN via the primary hub h1; h1's wireguard-go for s1's tunnel is
/// killed; the route moves to h2 (timed) and explain says so; it comes back (timed). Then the same without BFD
/// (OSPF dead interval only) as the baseline, and explain's end-to-end latency against its hand-run equivalent.
/// Timings are printed, never asserted.
/// </summary>
public sealed class HubFailoverTests(ITestOutputHelper output)
{
    private const int BfdRuns = 5;
    private const int DeadIntervalRuns = 5;
    private const int ExplainCalls = 20;
    private static readonly TimeSpan Converge = HubLab.ConvergeTimeout;

    [SkippableFact]
    public async Task Hub_failover_moves_the_route_to_the_secondary_hub_and_back_and_explain_follows()
    {
        string? missing = LabPreflight.MissingRequirements();
        Skip.If(missing is not null, missing);
        Skip.If(OverlaydBinary.Find() is null || Overlayctl.Find() is null,
            $"overlayd/overlayctl not built next to the tests (set {OverlaydBinary.EnvironmentVariable} / {Overlayctl.EnvironmentVariable})");

        // The lab with overlayd on each spoke over the lab inventory (the same code path as "overlay-lab demo hub").
        var hs = HubSpokeTopology.Create();
        await using var hub = await HubLab.StartAsync(hs);
        var lab = hub.Lab;
        output.WriteLine($"lab {lab.RunId} up: {string.Join(", ", lab.StartupTimings.Select(t => $"{t.Step} {t.Took.TotalMilliseconds:0} ms"))}");

        var s1 = hs.S1;
        string viaH1 = hub.ViaPrimary, viaH2 = hub.ViaSecondary;

        // Converged: s1 -> s2's LAN via h1, in the kernel and in FRR's RIB, with BFD up on both tunnels.
        var took = await hub.WaitUntilRouteViaAsync(viaH1, Converge);
        output.WriteLine($"converged via h1 after {took.TotalSeconds:0.0} s");
        await hub.WaitUntilBfdAsync(s1, s1.ToPrimary, up: true, Converge);
        await hub.WaitUntilBfdAsync(s1, s1.ToSecondary, up: true, Converge);
        await AssertRib(lab, s1.Node, hs.S2.Lan, viaH1);
        await AssertExplain(hub, viaH1, "h1");
        var peers = await hub.OverlayctlAsync(["peers"]);
        output.WriteLine($"overlayctl peers (exit {peers.Code}):\n{peers.StdOut}{peers.StdErr}");
        Assert.True(peers.Code is 0 or 1, peers.StdErr);
        Assert.Contains($"{viaH1} ", peers.StdOut);
        Assert.Contains($"{viaH2} ", peers.StdOut);
        Assert.Matches(@"\bh1\b", peers.StdOut);
        Assert.Matches(@"\bh2\b", peers.StdOut);

        await TransitForwardingStory(hub);
        await MeasureExplainLatency(hub);

        // Failover with BFD, then the dead-interval baseline in the same lab.
        var killed = await FailoverRuns(hub, HubBreak.KillHubWireGuard, bfd: true, BfdRuns);
        var cutBfd = await FailoverRuns(hub, HubBreak.UnderlayDown, bfd: true, BfdRuns);
        await hs.SetBfdAsync(lab, on: false);
        var cutDead = await FailoverRuns(hub, HubBreak.UnderlayDown, bfd: false, DeadIntervalRuns);

        Summary("h1 wireguard-go SIGKILL, BFD on", killed);
        Summary("underlay s1-h1 down, BFD 100ms x3", cutBfd);
        Summary("underlay s1-h1 down, OSPF dead interval 3 s only (baseline)", cutDead);
    }

    /// <summary>
    /// Render's sysctl drop-in made h1 forward (and its rp_filter loose), so s1's LAN reaches s2's LAN through the hub.
    /// With forwarding switched off on h1 by hand, the pings stop although every route is right, and h1's overlayd says
    /// why in overlayctl status (exit 1); applying the rendered drop-in again clears it.
    /// </summary>
    private async Task TransitForwardingStory(HubLab hub)
    {
        var (lab, hs) = (hub.Lab, hub.Topology);
        var h1 = hs.H1;
        string sysctl = RenderedDeployment.SysctlPath(hub.RenderedNodeDirectory(h1));
        Assert.Equal("1", (await lab.ExecAsync(h1, "cat /proc/sys/net/ipv4/ip_forward")).EnsureSuccess().StdOut.Trim());
        Assert.Equal("2", (await lab.ExecAsync(h1, "cat /proc/sys/net/ipv4/conf/all/rp_filter")).EnsureSuccess().StdOut.Trim());
        string ping = $"ping -n -q -c 1 -W 1 -I {hs.S1.LanAddress} {hs.S2.LanAddress}";
        await Poll.UntilAsync("s1's LAN pings s2's LAN through h1", async c => (await lab.ExecAsync(hs.S1.Node, ping, ct: c)).Succeeded, Converge);
        var ok = await hub.OverlayctlOnAsync(h1, ["status", "-o", "json"]);
        Assert.Empty(JsonDocument.Parse(ok.StdOut).RootElement.GetProperty("findings").EnumerateArray());

        (await lab.ExecAsync(h1, "sysctl -qw net.ipv4.ip_forward=0")).EnsureSuccess();
        Assert.False((await lab.ExecAsync(hs.S1.Node, ping)).Succeeded);
        OverlayctlResult status = default!;
        await Poll.UntilAsync("h1's overlayd reports the transit node without forwarding", async c =>
        {
            status = await hub.OverlayctlOnAsync(h1, ["status"], c);
            return status.StdOut.Contains("transit-forwarding-off", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30));
        output.WriteLine($"h1$ overlayctl status (exit {status.Code}):\n{status.StdOut}");
        Assert.Equal(1, status.Code);

        (await lab.ExecAsync(h1, $"sysctl -q -p {sysctl}")).EnsureSuccess();
        await Poll.UntilAsync("h1's overlayd clears the finding", async c =>
            JsonDocument.Parse((await hub.OverlayctlOnAsync(h1, ["status", "-o", "json"], c)).StdOut).RootElement.GetProperty("findings").GetArrayLength() == 0,
            TimeSpan.FromSeconds(30));
        await Poll.UntilAsync("s1's LAN pings s2's LAN through h1 again", async c => (await lab.ExecAsync(hs.S1.Node, ping, ct: c)).Succeeded, Converge);
    }

    private void Summary(string what, List<(TimeSpan Failover, TimeSpan Restore)> runs) =>
        output.WriteLine($"SUMMARY {what}: failover median {Median(runs.Select(r => r.Failover))} ms over {runs.Count} runs " +
                         $"[{string.Join(", ", runs.Select(r => r.Failover.TotalMilliseconds.ToString("0")))}]; " +
                         $"back via h1 median {Median(runs.Select(r => r.Restore))} ms [{string.Join(", ", runs.Select(r => r.Restore.TotalMilliseconds.ToString("0")))}]");

    private async Task<List<(TimeSpan Failover, TimeSpan Restore)>> FailoverRuns(HubLab hub, HubBreak how, bool bfd, int runs)
    {
        var hs = hub.Topology;
        bool story = how == HubBreak.KillHubWireGuard; // the operator's story checks explain on the first run
        var results = new List<(TimeSpan, TimeSpan)>();
        for (int run = 1; run <= runs; run++)
        {
            // Start from a converged state: via h1, adjacency Full on both ends (and BFD up when on).
            await hub.WaitUntilPrimaryReadyAsync(bfd, Converge);

            var sw = Stopwatch.StartNew();
            await hub.BreakPrimaryAsync(how);
            var failover = await hub.WaitUntilRouteViaAsync(hub.ViaSecondary, Converge, sw);
            if (story && run == 1)
            {
                await AssertRib(hub.Lab, hs.S1.Node, hs.S2.Lan, hub.ViaSecondary);
                await AssertExplain(hub, hub.ViaSecondary, "h2");
            }

            // Restore: a new wireguard-go (configured again) or the underlay back up; OSPF re-forms and the route returns.
            sw.Restart();
            await hub.RestorePrimaryAsync(how);
            var restore = await hub.WaitUntilRouteViaAsync(hub.ViaPrimary, Converge, sw);
            if (story && run == 1) await AssertExplain(hub, hub.ViaPrimary, "h1");
            output.WriteLine($"run {run} ({how}, BFD {(bfd ? "on" : "off")}): failover {failover.TotalMilliseconds:0} ms, back via h1 {restore.TotalMilliseconds:0} ms");
            results.Add((failover, restore));
        }
        return results;
    }

    private async Task AssertRib(RunningLab lab, LabNode node, string prefix, string dev)
    {
        var r = await lab.VtyshAsync(node, $"show ip route {prefix} json");
        output.WriteLine($"FRR RIB on {node}: {r.StdOut.ReplaceLineEndings(" ")}");
        using var doc = JsonDocument.Parse(r.StdOut);
        var entry = doc.RootElement.GetProperty(prefix).EnumerateArray().Single(e => e.TryGetProperty("selected", out var s) && s.GetBoolean());
        Assert.Equal("ospf", entry.GetProperty("protocol").GetString());
        Assert.True(entry.GetProperty("installed").GetBoolean());
        Assert.Contains(entry.GetProperty("nexthops").EnumerateArray(), n => n.GetProperty("interfaceName").GetString() == dev);
    }

    /// <summary>The real overlayctl against s1's overlayd: the peer on the egress tunnel, FRR's OSPF entry, owner s2.</summary>
    private async Task AssertExplain(HubLab hub, string dev, string peerHub)
    {
        var root = await hub.WaitUntilExplainViaAsync(dev, TimeSpan.FromSeconds(20));
        output.WriteLine($"explain -o json: {root.GetRawText()}");
        Assert.Equal(dev, root.GetProperty("kernel").GetProperty("dev").GetString());
        Assert.Equal("ospf", root.GetProperty("rib").GetProperty("protocol").GetString());
        Assert.True(root.GetProperty("rib").GetProperty("installed").GetBoolean());
        Assert.Equal("s2", root.GetProperty("owner").GetProperty("node").GetString());

        var table = await hub.OverlayctlAsync(["explain", hub.Destination]);
        output.WriteLine("overlayctl explain:\n" + table.StdOut);
        Assert.Contains($"peer {peerHub} on {dev}", table.StdOut);
        Assert.Contains("s2 (", table.StdOut);
    }

    private async Task MeasureExplainLatency(HubLab hub)
    {
        var (lab, node, dest) = (hub.Lab, hub.Topology.S1.Node, hub.Destination);
        var cli = new List<TimeSpan>();
        var cliJson = new List<TimeSpan>();
        var api = new List<TimeSpan>();
        var manual = new List<TimeSpan>();
        var startup = new List<TimeSpan>();
        for (int i = 0; i < ExplainCalls; i++)
        {
            startup.Add((await hub.OverlayctlRawAsync("--version")).Took); // the process alone: runtime start, no request
            var r = await hub.OverlayctlAsync(["explain", dest]);
            Assert.True(r.Code is 0 or 1, r.StdErr);
            cli.Add(r.Took);
            cliJson.Add((await hub.OverlayctlAsync(["explain", dest, "-o", "json"])).Took);
            var sw = Stopwatch.StartNew();
            // A fresh client (and connection) per call, as a one-shot caller would have.
            using (var once = new OverlaydApi(hub.OverlaydSocketPath(hub.Topology.S1)))
                Assert.NotEmpty(await once.ExplainJsonAsync(dest));
            api.Add(sw.Elapsed);
            // What an operator runs by hand for the same answer (each a process, as typed).
            sw.Restart();
            (await lab.ExecAsync(node, $"ip route get {dest}")).EnsureSuccess();
            (await lab.VtyshAsync(node, $"show ip route {dest} json")).EnsureSuccess();
            (await lab.ExecAsync(node, "wg show")).EnsureSuccess();
            manual.Add(sw.Elapsed);
        }
        output.WriteLine($"SUMMARY explain latency over {ExplainCalls} calls: overlayctl process median {Median(cli)} ms " +
                         $"(min {cli.Min().TotalMilliseconds:0}, max {cli.Max().TotalMilliseconds:0}), with -o json median {Median(cliJson)} ms; control API alone median {Median(api)} ms; " +
                         $"baseline ip route get + vtysh show ip route json + wg show median {Median(manual)} ms; " +
                         $"overlayctl --version (process start only) median {Median(startup)} ms; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }

    private static string Median(IEnumerable<TimeSpan> values)
    {
        var v = values.Select(t => t.TotalMilliseconds).Order().ToList();
        return (v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2).ToString("0");
    }
}
