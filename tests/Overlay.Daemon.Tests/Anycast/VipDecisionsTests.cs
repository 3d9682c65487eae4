using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Anycast;
using Overlay.Core.Events;
using Overlay.Core.Net;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>The VIP decisions on the fake clock: fed on the policy's schedule, at once on a change of health or drain.</summary>
public sealed class VipDecisionsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly EventTimeline _events;
    private readonly VipDecisions _decisions;
    private readonly Overlay.Core.Config.NodeConfig _cfg = VipLoopTestConfig.Load();

    public VipDecisionsTests()
    {
        _events = new EventTimeline(100, _time);
        _decisions = new VipDecisions(_time, NullLogger.Instance, _events, new DaemonMetrics());
    }

    private PassEvaluation Evaluate(TimeSpan handshakeAge) =>
        HealthEvaluation.Evaluate(_cfg, VipLoopTestConfig.Signals(_cfg, _time.GetUtcNow(), handshakeAge), _decisions.WithoutLease());

    private VipEntry Started(string name, bool healthy)
    {
        var entry = _decisions.Add(_cfg, _cfg.FindVip(name)!);
        entry.Lease = new FakeLease(entry.Config.Lease, entry.Config.Prefix);
        _decisions.Start(entry, Evaluate(TimeSpan.FromSeconds(healthy ? 5 : 600)).Vips[name], present: false, drained: false);
        return entry;
    }

    [Fact]
    public void A_healthy_VIP_rises_on_its_schedule_not_on_every_pass()
    {
        var web = Started("web", healthy: true); // rise 2, interval 100 ms
        Assert.Equal(VipState.PendingAdvertise, web.Controller.State);
        Assert.False(web.Wanted);

        // A pass before the next evaluation (a burst of link events) does not count towards rise.
        _time.Advance(TimeSpan.FromMilliseconds(10));
        _decisions.Decide(web, Evaluate(TimeSpan.FromSeconds(5)).Vips["web"], drained: false, "", _time.GetUtcNow());
        Assert.Equal(VipState.PendingAdvertise, web.Controller.State);

        _time.Advance(web.NextEvaluation - _time.GetUtcNow());
        _decisions.Decide(web, Evaluate(TimeSpan.FromSeconds(5)).Vips["web"], drained: false, "", _time.GetUtcNow());
        Assert.Equal(VipState.Advertised, web.Controller.State);
        Assert.True(web.Wanted);
        Assert.Equal(["PendingAdvertise", "Advertised"], _events.Since(0, 100).Events.Where(e => e.Source == EventSource.Vip).Select(e => e.New));
    }

    [Fact]
    public void A_change_of_health_is_acted_on_at_once()
    {
        var api = Started("api", healthy: true); // rise 1, fall 1, interval 1 s
        Assert.True(api.Wanted);
        _time.Advance(TimeSpan.FromMilliseconds(10)); // long before the next scheduled evaluation
        _decisions.Decide(api, Evaluate(TimeSpan.FromSeconds(600)).Vips["api"], drained: false, "", _time.GetUtcNow());
        Assert.Equal(VipState.Withdrawn, api.Controller.State);
        Assert.False(api.Wanted);
    }

    [Fact]
    public void A_drain_withdraws_at_once_and_an_undrain_lets_health_decide_again()
    {
        var api = Started("api", healthy: true);
        _decisions.Decide(api, Evaluate(TimeSpan.FromSeconds(5)).Vips["api"], drained: true, "operator drained this VIP", _time.GetUtcNow());
        Assert.Equal(VipState.Drained, api.Controller.State);
        Assert.False(api.Wanted);
        Assert.Contains(_events.Since(0, 100).Events, e => e.New == "Drained" && e.Reason == "operator drained this VIP");

        _time.Advance(TimeSpan.FromMilliseconds(10));
        _decisions.Decide(api, Evaluate(TimeSpan.FromSeconds(5)).Vips["api"], drained: false, "", _time.GetUtcNow());
        Assert.NotEqual(VipState.Drained, api.Controller.State);
    }

    [Fact]
    public void A_VIP_without_its_lease_is_never_wanted_and_is_judged_unhealthy()
    {
        var api = Started("api", healthy: true);
        Assert.True(api.Wanted);
        api.Lease = null;
        Assert.False(api.Wanted); // its route would point at a TUN that does not exist
        Assert.Equal(["api"], _decisions.WithoutLease());
        Assert.False(Evaluate(TimeSpan.FromSeconds(5)).Vips["api"].Healthy);
    }

    [Fact]
    public void Pending_VIPs_are_what_the_reader_reads_fresh_for()
    {
        var web = Started("web", healthy: true);
        var api = Started("api", healthy: true);
        var pending = _decisions.Freshness().ToDictionary(x => x.Vip.Name, x => x.Pending);
        Assert.True(pending["web"]);  // PendingAdvertise
        Assert.False(pending["api"]); // Advertised
        Assert.Equal(Min(web.NextEvaluation, api.NextEvaluation), _decisions.NextEvaluation(_time.GetUtcNow()));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private sealed class FakeLease(string name, IpPrefix address) : IVipLease
    {
        public string Name => name;
        public IpPrefix Address => address;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
