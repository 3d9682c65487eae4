using Overlay.Core.Api;
using Overlay.Core.Health;
using Overlay.Core.Anycast;
using Overlay.Core.Model;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Tests;

/// <summary>What overlayd's /metrics says, written by prometheus-net from <see cref="DaemonMetrics"/>.</summary>
public class ExpositionTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 1, 0, 0, TimeSpan.Zero);

    private static PeerStatus Peer(string iface, string peer, double? age, long rx = 10, long tx = 20, bool healthy = true) =>
        new(iface, peer, "k", LinkOperState.Up, healthy, [], age is { } a ? Now.AddSeconds(-a) : null, age, rx, tx, Now, BfdSessionState.Up, null);

    private static VipStatus Vip(string name, VipState state) =>
        new(name, "203.0.113.10/32", "ovl-" + name, true, state, false, "x", 0, 2, 1000, 1, Now, Now);

    private static DaemonState.Snapshot Snapshot(IReadOnlyList<VipStatus> vips, IReadOnlyList<PeerStatus> peers) =>
        new(vips, peers, RoutingSnapshot.Empty, [], Now);

    [Fact]
    public async Task Daemon_metrics_render_ages_states_and_every_family_once()
    {
        var m = new DaemonMetrics();
        m.ObserveApply(ApplyOperation.Withdraw, 0.02, ok: false);
        m.VipTransition("web", VipState.Withdrawn);
        var text = await m.RenderAsync(Snapshot([Vip("web", VipState.Withdrawn)], [Peer("wg-a", "up1", 42.5), Peer("wg-b", "up2", null, 0, 0, healthy: false)]), Now);
        output.WriteLine(text);
        Assert.Contains("overlay_wireguard_peer_last_handshake_age_seconds{interface=\"wg-a\",peer=\"up1\"} 42.5\n", text);
        Assert.DoesNotContain("last_handshake_age_seconds{interface=\"wg-b\"", text); // never handshaked: no sample, not a fake age
        Assert.Contains("overlay_vip_state{vip=\"web\",state=\"Withdrawn\"} 1\n", text);
        Assert.Contains("overlay_vip_state{vip=\"web\",state=\"Advertised\"} 0\n", text);
        Assert.Contains("overlay_frr_errors_total{operation=\"Withdraw\"} 1\n", text);
        Assert.Contains("overlay_apply_total{operation=\"Withdraw\",result=\"error\"} 1\n", text);
        Assert.Contains("overlay_wireguard_peer_receive_bytes_total{interface=\"wg-a\",peer=\"up1\"} 10\n", text);
        Assert.Contains("overlay_interface_healthy{interface=\"wg-b\"} 0\n", text);
        var types = text.Split('\n').Where(l => l.StartsWith("# TYPE ")).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(types.Count, types.Distinct().Count());
        // Every family is declared, even one with no sample yet (as the hand-written writer did), and nothing else is.
        Assert.Equal(m.Families.Select(f => f.Name).Order(StringComparer.Ordinal), types.Order(StringComparer.Ordinal));
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')))
            Assert.Matches(@"^[a-z_]+(\{([a-z_]+=""([^""\\]|\\.)*"",?)*\})? ([-+0-9.eE]+|\+Inf|NaN)$", line);
    }

    [Fact]
    public async Task Apply_histogram_buckets_are_cumulative_with_sum_and_count()
    {
        var m = new DaemonMetrics();
        foreach (var v in new[] { 0.004, 0.05, 0.05, 0.5, 30 }) m.ObserveApply(ApplyOperation.Advertise, v, ok: true);
        var text = await m.RenderAsync(Snapshot([], []), Now);
        foreach (var expected in new[]
        {
            "overlay_apply_duration_seconds_bucket{operation=\"Advertise\",le=\"0.005\"} 1\n",
            "overlay_apply_duration_seconds_bucket{operation=\"Advertise\",le=\"0.05\"} 3\n",
            "overlay_apply_duration_seconds_bucket{operation=\"Advertise\",le=\"0.5\"} 4\n",
            "overlay_apply_duration_seconds_bucket{operation=\"Advertise\",le=\"10\"} 4\n",
            "overlay_apply_duration_seconds_bucket{operation=\"Advertise\",le=\"+Inf\"} 5\n",
            "overlay_apply_duration_seconds_sum{operation=\"Advertise\"} 30.604\n",
            "overlay_apply_duration_seconds_count{operation=\"Advertise\"} 5\n",
        })
            Assert.Contains(expected, text);
    }

    [Fact]
    public async Task Series_of_peers_and_vips_that_are_gone_disappear_and_a_counter_that_went_down_starts_again()
    {
        var m = new DaemonMetrics();
        await m.RenderAsync(Snapshot([Vip("web", VipState.Advertised), Vip("db", VipState.Advertised)], [Peer("wg-a", "up1", 3, rx: 5000), Peer("wg-b", "up2", 4)]), Now);
        var text = await m.RenderAsync(Snapshot([Vip("web", VipState.Advertised)], [Peer("wg-a", "up1", 3, rx: 70)]), Now);
        Assert.DoesNotContain("wg-b", text);
        Assert.DoesNotContain("vip=\"db\"", text);
        // wireguard-go restarted: its counter began again; the series follows it (Prometheus reads a drop as a reset).
        Assert.Contains("overlay_wireguard_peer_receive_bytes_total{interface=\"wg-a\",peer=\"up1\"} 70\n", text);
    }

    [Fact]
    public async Task Label_values_are_escaped()
    {
        var m = new DaemonMetrics();
        var text = await m.RenderAsync(Snapshot([], [Peer("wg-a", "q\"uote back\\slash\nnl", 1)]), Now);
        Assert.Contains("overlay_interface_healthy{interface=\"wg-a\"} 1\n", text);
        Assert.Contains("peer=\"q\\\"uote back\\\\slash\\nnl\"", text);
    }

    /// <summary>prometheus-net writes HELP verbatim: a newline or backslash in one would break the scrape.</summary>
    [Fact]
    public void Every_help_text_is_one_line_without_backslashes()
    {
        var families = new DaemonMetrics().Families;
        Assert.True(families.Count >= 20, $"only {families.Count} families");
        foreach (var (name, help) in families)
        {
            Assert.False(string.IsNullOrWhiteSpace(help), name);
            Assert.True(help.IndexOfAny(['\n', '\r', '\\']) < 0, $"{name}: HELP must be one line without backslashes: {help}");
        }
    }

    [Fact]
    public async Task Transit_gauge_has_no_sample_before_the_forwarding_switches_are_read()
    {
        var m = new DaemonMetrics();
        var before = await m.RenderAsync(Snapshot([], []), Now);
        Assert.Contains("# TYPE overlay_transit_forwarding_off gauge\n", before);
        Assert.DoesNotContain("\noverlay_transit_forwarding_off ", before);
        m.ObserveForwarding(transit: true, new ForwardingState(false, null));
        var after = await m.RenderAsync(Snapshot([], []), Now);
        Assert.Contains("\noverlay_transit_forwarding_off 1\n", after);
        Assert.Contains("overlay_node_forwarding_enabled{family=\"ipv4\"} 0\n", after);
        Assert.DoesNotContain("family=\"ipv6\"", after);
    }

    /// <summary>Prometheus's own parser (promtool check metrics) accepts what overlayd serves, every family filled.</summary>
    [SkippableFact]
    public async Task Promtool_accepts_the_exposition()
    {
        Promtool.Find();
        var m = new DaemonMetrics();
        m.ObserveApply(ApplyOperation.Advertise, 0.02, ok: true);
        m.VipTransition("web", VipState.Advertised);
        m.ConfigReload(true);
        m.SessionReset("wg-a", ok: true);
        m.SessionRecovered("wg-a");
        m.ObserveForwarding(transit: true, new ForwardingState(true, true));
        var text = await m.RenderAsync(Snapshot([Vip("web", VipState.Advertised)], [Peer("wg-a", "up1", 1.5)]), Now,
            new DaemonMetrics.NodeFacts("n1", "dc1", [new Overlay.Daemon.Anycast.DrainSince("operator", null, Now)], [(Overlay.Core.Events.EventSource.Vip, 2)]));
        // check metrics reads the exposition from stdin.
        var psi = new System.Diagnostics.ProcessStartInfo(Promtool.Find(), ["check", "metrics"])
        { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        string lint = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        output.WriteLine($"promtool check metrics (exit {p.ExitCode}):\n{lint}");
        // Exit 3 = lint findings only (naming advice), 1 = the text does not parse.
        Assert.True(p.ExitCode is 0 or 3, $"promtool could not parse the exposition:\n{lint}\n{text}");
        Assert.DoesNotContain("error while linting", lint);
    }
}
