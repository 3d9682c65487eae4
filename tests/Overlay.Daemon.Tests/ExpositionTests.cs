using Overlay.Core.Health;
using Overlay.Core.Anycast;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Tests;

public class ExpositionTests
{
    [Fact]
    public void Families_samples_and_escaping_follow_the_text_format()
    {
        var w = new PrometheusTextWriter();
        w.Family("x_total", "counter", "Things.\nCounted.")
         .Sample("x_total", 3, ("a", "q\"uote"), ("b", "back\\slash\nnl"))
         .Sample("x_total", double.PositiveInfinity)
         .Sample("x_total", 0.1);
        Assert.Equal(
            "# HELP x_total Things.\\nCounted.\n# TYPE x_total counter\n" +
            "x_total{a=\"q\\\"uote\",b=\"back\\\\slash\\nnl\"} 3\nx_total +Inf\nx_total 0.1\n", w.ToString());
    }

    [Fact]
    public void Histogram_buckets_are_cumulative_with_sum_and_count()
    {
        var h = new Histogram(0.01, 0.1, 1);
        foreach (var v in new[] { 0.005, 0.05, 0.05, 0.5, 3 }) h.Observe(v);
        var w = new PrometheusTextWriter();
        h.WriteTo(w, "lat_seconds", ("op", "a"));
        Assert.Equal(
            "lat_seconds_bucket{op=\"a\",le=\"0.01\"} 1\n" +
            "lat_seconds_bucket{op=\"a\",le=\"0.1\"} 3\n" +
            "lat_seconds_bucket{op=\"a\",le=\"1\"} 4\n" +
            "lat_seconds_bucket{op=\"a\",le=\"+Inf\"} 5\n" +
            "lat_seconds_sum{op=\"a\"} 3.605\n" +
            "lat_seconds_count{op=\"a\"} 5\n", w.ToString());
    }

    [Fact]
    public void Daemon_metrics_render_ages_states_and_every_family_once()
    {
        var now = new DateTimeOffset(2026, 11, 22, 1, 0, 0, TimeSpan.Zero);
        var m = new DaemonMetrics();
        m.ObserveApply(ApplyOperation.Withdraw, 0.02, ok: false);
        m.VipTransition("web", VipState.Withdrawn);
        var snap = new DaemonState.Snapshot(
            [new VipStatus("web", "203.0.113.10/32", "ovl-web", true, VipState.Withdrawn, false, "x", 0, 2, 1000, 1, now, now)],
            [new PeerStatus("wg-a", "up1", "k", LinkOperState.Up, true, [], now.AddSeconds(-42.5), 42.5, 10, 20, now, BfdSessionState.Up, null),
             new PeerStatus("wg-b", "up2", "k", LinkOperState.Up, false, ["no handshake yet"], null, null, 0, 0, null, null, null)],
            RoutingSnapshot.Empty, [], now);
        var text = m.Render(snap, now);
        Assert.Contains("overlay_wireguard_peer_last_handshake_age_seconds{interface=\"wg-a\",peer=\"up1\"} 42.5\n", text);
        Assert.DoesNotContain("last_handshake_age_seconds{interface=\"wg-b\"", text); // never handshaked: no sample, not a fake age
        Assert.Contains("overlay_vip_state{vip=\"web\",state=\"Withdrawn\"} 1\n", text);
        Assert.Contains("overlay_vip_state{vip=\"web\",state=\"Advertised\"} 0\n", text);
        Assert.Contains("overlay_frr_errors_total{operation=\"Withdraw\"} 1\n", text);
        var types = text.Split('\n').Where(l => l.StartsWith("# TYPE ")).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(types.Count, types.Distinct().Count());
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')))
            Assert.Matches(@"^[a-z_]+(\{([a-z_]+=""([^""\\]|\\.)*"",?)*\})? [-+0-9.eE]+|\+Inf|NaN$", line);
    }
}
