using System.Diagnostics;
using System.Net.Sockets;
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
    /// <summary>
    /// How h1 is broken. Killing h1's wireguard-go deletes its TUN: h1's OSPF drops the adjacency at once and floods
    /// the change (via s2 and h2), so s1 learns without detecting anything itself. Cutting the underlay leaves both
    /// tunnel interfaces up and silent: only s1's BFD (300 ms) or OSPF dead interval (3 s) can tell.
    /// </summary>
    private enum Break { KillHubWireGuard, UnderlayDown }

    private const int BfdRuns = 5;
    private const int DeadIntervalRuns = 5;
    private const int ExplainCalls = 20;
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Hub_failover_moves_the_route_to_the_secondary_hub_and_back_and_explain_follows()
    {
        string? missing = LabPreflight.MissingRequirements();
        Skip.If(missing is not null, missing);
        Skip.If(!File.Exists(OverlaydDll) || !File.Exists(OverlayctlDll), $"overlayd/overlayctl not built next to the tests ({OverlaydDll})");

        var hs = HubSpokeTopology.Create();
        await using var lab = await RunningLab.StartAsync(hs.Topology);
        output.WriteLine($"lab {lab.RunId} up: {string.Join(", ", lab.StartupTimings.Select(t => $"{t.Step} {t.Took.TotalMilliseconds:0} ms"))}");
        await hs.AddLansAsync(lab);

        // overlayd on each spoke, over the lab inventory.
        string inventory = Path.Combine(lab.RunDirectory, "inventory.yaml");
        File.WriteAllText(inventory, hs.InventoryYaml());
        var sockets = new Dictionary<LabNode, string>();
        foreach (var s in hs.Spokes)
        {
            string dir = lab.NodeDirectory(s.Node);
            string config = Path.Combine(dir, "overlayd.yaml");
            sockets[s.Node] = Path.Combine(dir, "overlayd.sock");
            File.WriteAllText(config, hs.OverlaydYaml(s, sockets[s.Node], inventory, Path.Combine(dir, "drain")));
            var p = lab.StartProcess(s.Node, new LabProcessSpec("overlayd", "dotnet", [OverlaydDll, "--config", config]));
            await Poll.UntilAsync($"overlayd on {s.Node} answers on {sockets[s.Node]}", async ct =>
            {
                if (p.HasExited) throw new LabProcessExitedException(p, File.ReadAllText(p.OutputPath));
                return (await ApiGetAsync(sockets[s.Node], "/v1/status", ct)) is not null;
            }, Converge);
        }

        var s1 = hs.S1;
        string viaH1 = s1.ToPrimary.InterfaceOf(s1.Node), viaH2 = s1.ToSecondary.InterfaceOf(s1.Node);
        string dest = hs.S2.LanAddress.ToString();
        string socket = sockets[s1.Node];

        // Converged: s1 -> s2's LAN via h1, in the kernel and in FRR's RIB, with BFD up on both tunnels.
        var took = await UntilRouteVia(lab, s1.Node, hs.S2.Lan, viaH1, Converge);
        output.WriteLine($"converged via h1 after {took.TotalSeconds:0.0} s");
        await UntilBfdUp(lab, s1, s1.ToPrimary);
        await UntilBfdUp(lab, s1, s1.ToSecondary);
        await AssertRib(lab, s1.Node, hs.S2.Lan, viaH1);
        await AssertExplain(socket, dest, viaH1, "h1");
        var peers = await RunCli("peers", "--socket", socket);
        output.WriteLine($"overlayctl peers (exit {peers.Code}):\n{peers.StdOut}{peers.StdErr}");
        Assert.True(peers.Code is 0 or 1, peers.StdErr);
        Assert.Contains($"{viaH1} ", peers.StdOut);
        Assert.Contains($"{viaH2} ", peers.StdOut);
        Assert.Matches(@"\bh1\b", peers.StdOut);
        Assert.Matches(@"\bh2\b", peers.StdOut);

        await MeasureExplainLatency(lab, s1.Node, socket, dest);

        // Failover with BFD, then the dead-interval baseline in the same lab.
        var killed = await FailoverRuns(lab, hs, Break.KillHubWireGuard, bfd: true, BfdRuns, socket, dest, viaH1, viaH2);
        var cutBfd = await FailoverRuns(lab, hs, Break.UnderlayDown, bfd: true, BfdRuns, socket, dest, viaH1, viaH2);
        await hs.SetBfdAsync(lab, on: false);
        var cutDead = await FailoverRuns(lab, hs, Break.UnderlayDown, bfd: false, DeadIntervalRuns, socket, dest, viaH1, viaH2);

        Summary("h1 wireguard-go SIGKILL, BFD on", killed);
        Summary("underlay s1-h1 down, BFD 100ms x3", cutBfd);
        Summary("underlay s1-h1 down, OSPF dead interval 3 s only (baseline)", cutDead);
    }

    private void Summary(string what, List<(TimeSpan Failover, TimeSpan Restore)> runs) =>
        output.WriteLine($"SUMMARY {what}: failover median {Median(runs.Select(r => r.Failover))} ms over {runs.Count} runs " +
                         $"[{string.Join(", ", runs.Select(r => r.Failover.TotalMilliseconds.ToString("0")))}]; " +
                         $"back via h1 median {Median(runs.Select(r => r.Restore))} ms [{string.Join(", ", runs.Select(r => r.Restore.TotalMilliseconds.ToString("0")))}]");

    private async Task<List<(TimeSpan Failover, TimeSpan Restore)>> FailoverRuns(RunningLab lab, HubSpokeTopology hs, Break how, bool bfd, int runs,
        string socket, string dest, string viaH1, string viaH2)
    {
        var s1 = hs.S1;
        bool story = how == Break.KillHubWireGuard; // the operator's story checks explain on the first run
        var results = new List<(TimeSpan, TimeSpan)>();
        for (int run = 1; run <= runs; run++)
        {
            // Start from a converged state: via h1, adjacency Full (and BFD up when on).
            await UntilRouteVia(lab, s1.Node, hs.S2.Lan, viaH1, Converge);
            await UntilOspfFull(lab, s1.Node, s1.ToPrimary);
            await UntilOspfFull(lab, hs.H1, s1.ToPrimary); // both ends: a half-formed adjacency would shorten the next failover
            if (bfd) await UntilBfdUp(lab, s1, s1.ToPrimary);

            var hubSide = lab.WireGuardProcess(s1.ToPrimary, hs.H1);
            var sw = Stopwatch.StartNew();
            if (how == Break.KillHubWireGuard) hubSide.Kill();
            else await lab.SetLinkStateAsync(s1.ToPrimary.Underlay, up: false, side: hs.H1);
            var failover = await UntilRouteVia(lab, s1.Node, hs.S2.Lan, viaH2, Converge, sw);
            if (story && run == 1)
            {
                await AssertRib(lab, s1.Node, hs.S2.Lan, viaH2);
                await AssertExplain(socket, dest, viaH2, "h2");
            }

            // Restore: a new wireguard-go (configured again) or the underlay back up; OSPF re-forms and the route returns.
            sw.Restart();
            if (how == Break.KillHubWireGuard) await lab.RestartAsync(hubSide);
            else await lab.SetLinkStateAsync(s1.ToPrimary.Underlay, up: true, side: hs.H1);
            var restore = await UntilRouteVia(lab, s1.Node, hs.S2.Lan, viaH1, Converge, sw);
            if (story && run == 1) await AssertExplain(socket, dest, viaH1, "h1");
            output.WriteLine($"run {run} ({how}, BFD {(bfd ? "on" : "off")}): failover {failover.TotalMilliseconds:0} ms, back via h1 {restore.TotalMilliseconds:0} ms");
            results.Add((failover, restore));
        }
        return results;
    }

    private static async Task UntilOspfFull(RunningLab lab, LabNode node, LabTunnel tunnel)
    {
        string ifname = tunnel.InterfaceOf(node);
        await Poll.UntilAsync($"OSPF Full on {node} {ifname}", async ct =>
            (await lab.VtyshAsync(node, "show ip ospf neighbor", ct)).StdOut.Split('\n')
                .Any(l => l.Contains(ifname, StringComparison.Ordinal) && l.Contains("Full", StringComparison.Ordinal)), Converge);
    }

    private static async Task<TimeSpan> UntilRouteVia(RunningLab lab, LabNode node, string prefix, string dev, TimeSpan timeout, Stopwatch? since = null)
    {
        var sw = since ?? Stopwatch.StartNew();
        await Poll.UntilAsync($"{node} routes {prefix} via {dev}", async ct =>
            (await lab.ExecAsync(node, $"ip route show {prefix}", ct: ct)).StdOut.Contains($" dev {dev} ", StringComparison.Ordinal),
            timeout, TimeSpan.FromMilliseconds(5));
        return sw.Elapsed;
    }

    private static async Task UntilBfdUp(RunningLab lab, HubSpokeSpoke spoke, LabTunnel tunnel)
    {
        string peer = tunnel.AddressOf(tunnel.PeerOf(spoke.Node)).ToString();
        await Poll.UntilAsync($"BFD up on {spoke.Node} to {peer}", async ct =>
        {
            var r = await lab.VtyshAsync(spoke.Node, "show bfd peers json", ct);
            using var doc = JsonDocument.Parse(r.StdOut);
            return doc.RootElement.EnumerateArray().Any(p => p.GetProperty("peer").GetString() == peer && p.GetProperty("status").GetString() == "up");
        }, Converge);
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
    private async Task AssertExplain(string socket, string dest, string dev, string hub)
    {
        // The daemon reads FRR and the kernel per request; poll briefly in case FRR's RIB lags the kernel by a beat.
        JsonElement root = default;
        await Poll.UntilAsync($"explain {dest} via {dev}", async _ =>
        {
            var (code, stdout, stderr, _) = await RunCli("explain", dest, "--socket", socket, "-o", "json");
            if (code is not (0 or 1)) throw new InvalidOperationException($"overlayctl explain exited {code}: {stderr}");
            root = JsonDocument.Parse(stdout).RootElement.Clone();
            return root.GetProperty("peer").ValueKind == JsonValueKind.Object && root.GetProperty("peer").GetProperty("interface").GetString() == dev
                && root.GetProperty("rib").ValueKind == JsonValueKind.Object
                && root.GetProperty("rib").GetProperty("nexthops").EnumerateArray().Any(n => n.GetProperty("interface").GetString() == dev);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        output.WriteLine($"explain -o json: {root.GetRawText()}");
        Assert.Equal(dev, root.GetProperty("kernel").GetProperty("dev").GetString());
        Assert.Equal("ospf", root.GetProperty("rib").GetProperty("protocol").GetString());
        Assert.True(root.GetProperty("rib").GetProperty("installed").GetBoolean());
        Assert.Equal("s2", root.GetProperty("owner").GetProperty("node").GetString());

        var table = await RunCli("explain", dest, "--socket", socket);
        output.WriteLine("overlayctl explain:\n" + table.StdOut);
        Assert.Contains($"peer {hub} on {dev}", table.StdOut);
        Assert.Contains("s2 (", table.StdOut);
    }

    private async Task MeasureExplainLatency(RunningLab lab, LabNode node, string socket, string dest)
    {
        var cli = new List<TimeSpan>();
        var cliJson = new List<TimeSpan>();
        var api = new List<TimeSpan>();
        var manual = new List<TimeSpan>();
        var startup = new List<TimeSpan>();
        for (int i = 0; i < ExplainCalls; i++)
        {
            startup.Add((await RunCli("--version")).Took); // the process alone: runtime start, no request
            var r = await RunCli("explain", dest, "--socket", socket);
            Assert.True(r.Code is 0 or 1, r.StdErr);
            cli.Add(r.Took);
            cliJson.Add((await RunCli("explain", dest, "--socket", socket, "-o", "json")).Took);
            var sw = Stopwatch.StartNew();
            Assert.NotNull(await ApiGetAsync(socket, "/v1/explain?dest=" + dest, default));
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

    private static string OverlaydDll => Path.Combine(AppContext.BaseDirectory, "overlayd.dll");
    private static string OverlayctlDll => Path.Combine(AppContext.BaseDirectory, "overlayctl.dll");

    private static async Task<(int Code, string StdOut, string StdErr, TimeSpan Took)> RunCli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(OverlayctlDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        var took = sw.Elapsed;
        return (p.ExitCode, await so, await se, took);
    }

    /// <summary>One GET on a control socket; null when nothing answers yet.</summary>
    private static async Task<string?> ApiGetAsync(string socket, string path, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, c) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try { await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), c); return new NetworkStream(s, ownsSocket: true); }
                catch { s.Dispose(); throw; }
            },
        }) { BaseAddress = new Uri("http://overlayd"), Timeout = TimeSpan.FromSeconds(10) };
        try { return await http.GetStringAsync(path, ct); }
        catch (HttpRequestException) { return null; }
    }
}
