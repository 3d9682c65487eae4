using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Overlay.Core.Health;
using Overlay.Daemon.Transit;

namespace Overlay.Daemon.Tests;

/// <summary>
/// A transit node (overlayd.yaml transit: true) whose kernel does not forward: overlayd says so in /v1/status
/// (which overlayctl status reads), in /metrics and as an event, and clears it once forwarding is on.
/// </summary>
public sealed class TransitForwardingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    private readonly SwitchableForwarding _kernel = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _d.DisposeAsync();

    private sealed class SwitchableForwarding : IForwardingSource
    {
        public volatile bool On;
        public ForwardingState Read() => new(On, On);
    }

    private async Task<JsonElement> Get(string path)
    {
        var text = await _d.Api.GetStringAsync(path);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private ForwardingService Service => _d.App!.Services.GetRequiredService<ForwardingService>();

    [Fact]
    public async Task Transit_node_with_forwarding_off_is_reported_in_status_metrics_and_events_until_forwarding_is_on()
    {
        _d.Transit = true;
        _d.Forwarding = _kernel;
        _d.Healthy();
        await _d.StartAsync();

        var status = await Get("/v1/status");
        Assert.True(status.GetProperty("transit").GetBoolean());
        var finding = Assert.Single(status.GetProperty("findings").EnumerateArray());
        Assert.Equal(TransitForwarding.ForwardingOff, finding.GetProperty("code").GetString());
        Assert.Contains("sysctl -p", finding.GetProperty("fix").GetString());
        string metrics = await _d.Metrics.GetStringAsync("/metrics");
        Assert.Contains("overlay_transit_forwarding_off 1\n", metrics);
        Assert.Contains("overlay_node_forwarding_enabled{family=\"ipv4\"} 0\n", metrics);
        var events = (await Get("/v1/events?since=0")).GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(events, e => e.GetProperty("what").GetString() == "transit forwarding" && e.GetProperty("new").GetString() == TransitForwarding.ForwardingOff);

        // The operator applies render's sysctl drop-in.
        _kernel.On = true;
        Assert.Null(Service.CheckOnce());
        Assert.Empty((await Get("/v1/status")).GetProperty("findings").EnumerateArray());
        metrics = await _d.Metrics.GetStringAsync("/metrics");
        Assert.Contains("overlay_transit_forwarding_off 0\n", metrics);
        Assert.Contains("overlay_node_forwarding_enabled{family=\"ipv4\"} 1\n", metrics);
        events = (await Get("/v1/events?since=0")).GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(events, e => e.GetProperty("what").GetString() == "transit forwarding"
            && e.GetProperty("old").GetString() == TransitForwarding.ForwardingOff && e.GetProperty("new").GetString() == "ok");
    }

    [Fact]
    public async Task A_node_that_is_not_transit_may_leave_forwarding_off()
    {
        _d.Transit = false;
        _d.Forwarding = _kernel;
        _d.Healthy();
        await _d.StartAsync();
        Assert.Null(Service.CheckOnce());
        var status = await Get("/v1/status");
        Assert.False(status.GetProperty("transit").GetBoolean());
        Assert.Empty(status.GetProperty("findings").EnumerateArray());
        Assert.Contains("overlay_transit_forwarding_off 0\n", await _d.Metrics.GetStringAsync("/metrics"));
        Assert.DoesNotContain((await Get("/v1/events?since=0")).GetProperty("events").EnumerateArray(),
            e => e.GetProperty("what").GetString() == "transit forwarding");
    }

    [Theory]
    [InlineData(true, false, TransitForwarding.ForwardingOff)]
    [InlineData(true, null, TransitForwarding.ForwardingUnknown)]
    [InlineData(true, true, null)]
    [InlineData(false, false, null)]
    public void Evaluate_reports_only_transit_nodes(bool transit, bool? ipv4, string? code) =>
        Assert.Equal(code, TransitForwarding.Evaluate(transit, new ForwardingState(ipv4, null))?.Code);
}
