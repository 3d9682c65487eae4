using Overlay.Daemon.Anycast;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>The one place that decides how fresh each read must be.</summary>
public sealed class ReadFreshnessTests
{
    [Fact]
    public void Settled_interfaces_are_reread_at_a_twelfth_of_their_slowest_threshold_between_interval_and_five_seconds()
    {
        var cfg = VipLoopTestConfig.Load();
        var web = cfg.FindVip("web")!;
        var api = cfg.FindVip("api")!;

        // wg-a expects rx progress. fast: rx stall 60 s / 12 = 5 s. strict: rx stall 30 s / 12 = 2.5 s, above its 1 s
        // interval. wg-b (no keepalive) under fast: handshake 180 s / 12 = 15 s, capped at 5 s.
        Assert.Equal(TimeSpan.FromSeconds(5), ReadFreshness.WireGuardReadAges(cfg, [(web, false)])["wg-a"]);
        var both = ReadFreshness.WireGuardReadAges(cfg, [(web, false), (api, false)]);
        Assert.Equal(TimeSpan.FromSeconds(2.5), both["wg-a"]); // shared: the stricter VIP wins
        Assert.Equal(TimeSpan.FromSeconds(5), both["wg-b"]);
    }

    [Fact]
    public void A_VIP_pending_a_decision_has_its_interfaces_read_on_every_pass()
    {
        var cfg = VipLoopTestConfig.Load();
        var ages = ReadFreshness.WireGuardReadAges(cfg, [(cfg.FindVip("web")!, true), (cfg.FindVip("api")!, false)]);
        Assert.Equal(TimeSpan.Zero, ages["wg-a"]);
        Assert.Equal(TimeSpan.Zero, ages["wg-b"]);
    }

    [Fact]
    public void Routing_state_is_polled_every_five_seconds_unless_a_policy_gates_on_it()
    {
        var cfg = VipLoopTestConfig.Load();
        Assert.True(ReadFreshness.RoutingDue(cfg, haveRead: false, TimeSpan.Zero));
        Assert.False(ReadFreshness.RoutingDue(cfg, haveRead: true, TimeSpan.FromSeconds(4.9)));
        Assert.True(ReadFreshness.RoutingDue(cfg, haveRead: true, TimeSpan.FromSeconds(5)));
        var gated = VipLoopTestConfig.Load(defaultPolicy: "  default:\n    holdDown: {advertise: 0s, withdraw: 0s}\n    require: {ospfFullNeighbors: 1}");
        Assert.True(ReadFreshness.RoutingDue(gated, haveRead: true, TimeSpan.Zero));
    }
}
