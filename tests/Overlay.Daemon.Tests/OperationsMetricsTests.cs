using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Anycast;
using Overlay.Core.Health;
using Overlay.Core.Events;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Metrics;

namespace Overlay.Daemon.Tests;

/// <summary>The metrics dashboards and alerts need across nodes: node name, VIP prefix (anycast group), drain start, events.</summary>
public sealed class OperationsMetricsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 1, 0, 0, TimeSpan.Zero);
    private readonly DaemonFixture _d = new(output);

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    [Fact]
    public void Drains_remember_when_they_began_and_draining_again_keeps_the_start()
    {
        var clock = new FakeTimeProvider(T0);
        var drain = new DrainState(clock);
        Assert.Empty(drain.Since());

        drain.Drain("web");
        clock.SetUtcNow(T0.AddMinutes(10));
        drain.Drain("web");      // again: still drained since T0
        drain.Drain(null);
        clock.SetUtcNow(T0.AddMinutes(20));
        Assert.True(drain.SetFile(true, since: T0.AddDays(-1)));   // the file's mtime, from before this process
        Assert.False(drain.SetFile(true, since: T0.AddMinutes(15))); // still present: the start does not move
        Assert.Equal(
            [new DrainSince("file", null, T0.AddDays(-1)), new DrainSince("operator", null, T0.AddMinutes(10)), new DrainSince("operator", "web", T0)],
            drain.Since());

        drain.Undrain("web");
        Assert.True(drain.SetFile(false));
        Assert.Equal([new DrainSince("operator", null, T0.AddMinutes(10))], drain.Since());
        drain.Undrain(null);
        Assert.Empty(drain.Since());

        // An mtime in the future (clock skew) is not believed: the drain starts when it was seen.
        drain.SetFile(true, since: T0.AddDays(1));
        Assert.Equal([new DrainSince("file", null, T0.AddMinutes(20))], drain.Since());
        drain.BeginShutdown(); // shutdown is not an operator drain and has no start
        Assert.Single(drain.Since());
    }

    [Fact]
    public void Event_counts_by_source_include_events_the_ring_overwrote()
    {
        var timeline = new EventTimeline(2, new FakeTimeProvider(T0));
        timeline.Append(EventSource.Vip, "web", "state");
        timeline.Append(EventSource.Vip, "web", "state");
        timeline.Append(EventSource.Operator, "all VIPs", "drain");
        var counts = timeline.CountsBySource().ToDictionary(x => x.Source, x => x.Count);
        Assert.Equal(2, counts[EventSource.Vip]);
        Assert.Equal(1, counts[EventSource.Operator]);
        Assert.Equal(0, counts[EventSource.Bfd]);
        Assert.Equal(Enum.GetValues<EventSource>().Length, counts.Count);
    }

    [Fact]
    public async Task Node_facts_render_node_vip_prefix_drain_start_and_events()
    {
        var snap = new DaemonState.Snapshot(
            [new VipStatus("web", "203.0.113.10/32", "ovl-web", true, VipState.Drained, true, "x", 0, 0, 0, 0, T0, T0)],
            [], RoutingSnapshot.Empty, [], T0);
        var facts = new DaemonMetrics.NodeFacts("dc1-edge1", "dc1",
            [new DrainSince("file", null, T0.AddMilliseconds(250)), new DrainSince("operator", "web", T0)],
            [(EventSource.Vip, 3), (EventSource.Operator, 1)]);
        var text = await new DaemonMetrics().RenderAsync(snap, T0, facts);
        output.WriteLine(text);
        Assert.Matches("""overlay_node_info\{node="dc1-edge1",site="dc1",version="[^"]+"\} 1\n""", text);
        Assert.Contains("overlay_vip_info{vip=\"web\",prefix=\"203.0.113.10/32\",lease=\"ovl-web\"} 1\n", text);
        double t0 = T0.ToUnixTimeSeconds();
        Assert.Contains($"overlay_drain_since_timestamp_seconds{{source=\"file\",vip=\"*\"}} {(t0 + 0.25).ToString("R", CultureInfo.InvariantCulture)}\n", text);
        Assert.Contains($"overlay_drain_since_timestamp_seconds{{source=\"operator\",vip=\"web\"}} {t0.ToString("R", CultureInfo.InvariantCulture)}\n", text);
        Assert.Contains("overlay_events_total{source=\"Vip\"} 3\n", text);

        // Without node facts (e.g. a test rendering only the snapshot) the families are still declared, with no samples.
        var bare = await new DaemonMetrics().RenderAsync(snap, T0);
        Assert.Contains("# TYPE overlay_drain_since_timestamp_seconds gauge\n", bare);
        Assert.DoesNotContain("overlay_node_info{", bare);
    }

    [Fact]
    public async Task A_running_overlayd_exports_its_node_and_how_long_each_drain_has_been_on()
    {
        _d.Healthy();
        var fileTime = DateTimeOffset.UtcNow.AddHours(-5);
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised");
        var before = DateTimeOffset.UtcNow;
        (await _d.Api.PostAsync("/v1/drain?vip=web", null)).EnsureSuccessStatusCode();
        // The drain file was created five hours ago (say, before an upgrade restarted overlayd): its mtime is the start.
        File.WriteAllText(_d.DrainFile, "");
        File.SetLastWriteTimeUtc(_d.DrainFile, fileTime.UtcDateTime);
        string text = "";
        await DaemonFixture.Until(async () => (text = await _d.Metrics.GetStringAsync("/metrics")).Contains("source=\"file\""), "the drain file is seen");
        output.WriteLine(text);

        Assert.Contains("overlay_node_info{node=\"test-node\",site=\"\",", text);
        Assert.Contains("overlay_vip_info{vip=\"web\",prefix=\"203.0.113.10/32\",lease=\"ovl-t-web\"} 1", text);
        Assert.InRange(Sample(text, "overlay_drain_since_timestamp_seconds{source=\"operator\",vip=\"web\"}"),
            before.ToUnixTimeMilliseconds() / 1000.0 - 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        Assert.InRange(Sample(text, "overlay_drain_since_timestamp_seconds{source=\"file\",vip=\"*\"}"),
            fileTime.ToUnixTimeSeconds() - 1, fileTime.ToUnixTimeSeconds() + 1);
        Assert.True(Sample(text, "overlay_events_total{source=\"Operator\"}") >= 2, "the drain and the drain file are events");

        File.Delete(_d.DrainFile);
        (await _d.Api.PostAsync("/v1/undrain", null)).EnsureSuccessStatusCode();
        await DaemonFixture.Until(async () => !(await _d.Metrics.GetStringAsync("/metrics")).Contains("overlay_drain_since_timestamp_seconds{"),
            "no drain sample once everything is undrained");
    }

    private static double Sample(string text, string series) =>
        double.Parse(text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..], CultureInfo.InvariantCulture);
}
