using Overlay.Core.Model;
using Overlay.Core.Health;
using Overlay.Daemon.Anycast;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>The pass's one evaluation: what the decisions act on and what status shows come from the same verdicts.</summary>
public sealed class HealthEvaluationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_VIP_is_judged_by_its_own_policy_and_status_by_the_first_VIP_using_the_interface()
    {
        var cfg = VipLoopTestConfig.Load();
        // 160 s since the handshake: fine for "fast" (180 s), stale for "strict" (150 s).
        var e = HealthEvaluation.Evaluate(cfg, VipLoopTestConfig.Signals(cfg, Now, TimeSpan.FromSeconds(160)), new HashSet<string>());

        Assert.True(e.Vips["web"].Healthy);
        Assert.False(e.Vips["api"].Healthy);
        Assert.Contains(e.Vips["api"].Reasons, r => r.Code == HealthReasonCode.HandshakeStale);
        // wg-a is used first by "web" (policy fast): status shows it healthy, as web's decision saw it.
        Assert.True(e.Interfaces["wg-a"].Healthy);
        Assert.Equal(["wg-a", "wg-b"], e.Interfaces.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_VIP_without_its_lease_is_unhealthy_whatever_its_interfaces_say()
    {
        var cfg = VipLoopTestConfig.Load();
        var e = HealthEvaluation.Evaluate(cfg, VipLoopTestConfig.Signals(cfg, Now, TimeSpan.FromSeconds(5)), new HashSet<string> { "web" });

        Assert.False(e.Vips["web"].Healthy);
        Assert.Contains(e.Vips["web"].Reasons, r => r.Subject == "ovl-web" && r.Message == "TUN lease not held");
        Assert.True(e.Vips["api"].Healthy);
        Assert.True(e.Interfaces["wg-a"].Healthy); // the lease is the VIP's, not the interface's
    }

    [Fact]
    public void An_interface_no_VIP_uses_is_shown_under_the_default_policy_when_the_config_has_one()
    {
        var builtIn = VipLoopTestConfig.Load(extraInterface: true);
        var tight = VipLoopTestConfig.Load(extraInterface: true, defaultPolicy: "  default:\n    handshakeMaxAge: 140s\n    holdDown: {advertise: 0s, withdraw: 0s}");

        Assert.Equal("default", HealthEvaluation.StatusPolicy(builtIn, "wg-hub").Name);
        Assert.Equal(TimeSpan.FromSeconds(180), HealthEvaluation.StatusPolicy(builtIn, "wg-hub").HandshakeMaxAge);
        var signals = VipLoopTestConfig.Signals(tight, Now, TimeSpan.FromSeconds(160));
        Assert.True(HealthEvaluation.Evaluate(builtIn, signals, new HashSet<string>()).Interfaces["wg-hub"].Healthy);
        Assert.False(HealthEvaluation.Evaluate(tight, signals, new HashSet<string>()).Interfaces["wg-hub"].Healthy);
    }

    [Fact]
    public void A_down_link_fails_every_VIP_that_uses_it_with_the_reason_status_shows()
    {
        var cfg = VipLoopTestConfig.Load();
        var e = HealthEvaluation.Evaluate(cfg, VipLoopTestConfig.Signals(cfg, Now, TimeSpan.FromSeconds(5), LinkOperState.Down), new HashSet<string>());

        Assert.False(e.Vips["web"].Healthy);
        Assert.False(e.Vips["api"].Healthy);
        Assert.Contains("link is Down", e.Vips["web"].Summary);
        Assert.Equal("link is Down", e.Interfaces["wg-a"].Summary);
    }
}
