using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Config;
using Overlay.Core.Anycast;

namespace Overlay.Core.Tests.Anycast;

public class VipControllerTests(ITestOutputHelper output)
{
    // rise 3, fall 2, interval 1s, fast 200ms, hold-down advertise 5s / withdraw 2s, no dampening unless asked.
    private static readonly HealthPolicy Policy = HealthPolicy.Default("p");

    private static readonly HealthPolicy Damped = Policy with
    {
        Rise = 1, Fall = 1, HoldDown = new HoldDown(TimeSpan.Zero, TimeSpan.Zero),
        Dampening = new Dampening(TimeSpan.FromSeconds(60), 1000, 2500, 800, 6000),
    };

    /// <summary>
    /// Runs "ms action expected" steps against a fresh controller: action is S+ (start, route present),
    /// S- (start, no route), SD (start drained), H (healthy), U (unhealthy), D (drain), R (undrain).
    /// Expected is a state name; a trailing '!' means "and a transition happened at this step".
    /// </summary>
    private void Run(HealthPolicy policy, params string[] steps)
    {
        var clock = new FakeTimeProvider();
        var start = clock.GetUtcNow();
        var c = new VipController("web", policy, clock);
        foreach (var step in steps)
        {
            var parts = step.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            clock.SetUtcNow(start.AddMilliseconds(int.Parse(parts[0])));
            var d = parts[1] switch
            {
                "S+" => c.Start(true, "ok", runningAdvertised: true, drained: false),
                "S-" => c.Start(true, "ok", runningAdvertised: false, drained: false),
                "SU" => c.Start(false, "bad", runningAdvertised: true, drained: false),
                "SD" => c.Start(true, "ok", runningAdvertised: true, drained: true),
                "H" => c.Evaluate(true, "ok"),
                "U" => c.Evaluate(false, "bad"),
                "D" => c.Drain("operator"),
                "R" => c.Undrain("operator"),
                _ => throw new ArgumentException(step),
            };
            foreach (var t in d.Transitions) output.WriteLine($"{(t.Time - start).TotalMilliseconds,7}ms {t.From} -> {t.To}: {t.Reason}");
            var expected = parts[2].TrimEnd('!');
            Assert.True(expected == d.State.ToString(), $"step '{step}': expected {expected}, got {d.State}");
            Assert.Equal(d.State is VipState.Advertised or VipState.PendingWithdraw, d.Advertise);
            Assert.True(parts[2].EndsWith('!') == (d.Transitions.Count > 0), $"step '{step}': transitions {d.Transitions.Count}");
            Assert.True(d.NextEvaluation > clock.GetUtcNow(), $"step '{step}': next evaluation must be in the future");
        }
    }

    [Fact]
    public void Rise_counts_healthy_evaluations_before_advertising() => Run(Policy,
        "0 S- PendingAdvertise!", "200 H PendingAdvertise", "400 H Advertised!", "1400 H Advertised");

    [Fact]
    public void Unhealthy_during_rise_starts_over() => Run(Policy,
        "0 S- PendingAdvertise!", "200 U Withdrawn!", "1200 H PendingAdvertise!", "1400 H PendingAdvertise", "1600 H Advertised!");

    [Fact]
    public void Start_adopts_a_healthy_route_without_flapping_and_withdraws_an_unhealthy_one_at_once()
    {
        Run(Policy, "0 S+ Advertised!", "1000 U PendingWithdraw!", "1200 U Withdrawn!");
        Run(Policy, "0 SU Withdrawn!", "1000 U Withdrawn");
        Run(Policy, "0 SD Drained!", "1000 H Drained");
    }

    [Fact]
    public void Fall_counts_and_a_recovery_cancels_it() => Run(Policy,
        "0 S+ Advertised!", "1000 U PendingWithdraw!", "1200 H Advertised!", "2200 U PendingWithdraw!", "2400 U Withdrawn!");

    [Fact]
    public void Advertise_hold_down_keeps_a_fresh_vip_up_for_its_minimum_time() => Run(Policy,
        "0 S- PendingAdvertise!", "200 H PendingAdvertise", "400 H Advertised!", // advertised at 400 → may not withdraw before 5400
        "1400 U PendingWithdraw!", "1600 U PendingWithdraw", "5200 U PendingWithdraw", "5400 U Withdrawn!");

    [Fact]
    public void Withdraw_hold_down_delays_readvertising() => Run(Policy with { Rise = 1, Fall = 1 },
        "0 S+ Advertised!", "6000 U Withdrawn!", // withdrawn at 6000 → may not advertise before 8000
        "7000 H PendingAdvertise!", "7200 H PendingAdvertise", "8000 H Advertised!");

    [Fact]
    public void Drain_withdraws_at_once_ignoring_hold_down_and_undrain_rises_from_zero() => Run(Policy,
        "0 S- PendingAdvertise!", "200 H PendingAdvertise", "400 H Advertised!",
        "500 D Drained!", "1500 H Drained", "2500 H Drained", "3500 H Drained",
        "3600 R Withdrawn!", "3800 H PendingAdvertise!", "4000 H PendingAdvertise", // withdraw hold-down ended at 2500: rise is the limit
        "4200 H Advertised!");

    [Fact]
    public void Flapping_vip_is_suppressed_until_the_penalty_decays() => Run(Damped,
        "0 S+ Advertised!",
        "1000 U Withdrawn!", "2000 H Advertised!",          // penalty 1000
        "3000 U Withdrawn!", "4000 H Advertised!",          // ~1977
        "5000 U Suppressed!",                                // ~2954 > 2500
        "6000 H Suppressed", "60000 H Suppressed",
        // 2954 * 2^(-t/60s) < 800 after t ≈ 113 s, i.e. at ≈ 118 s
        "117000 H Suppressed", "119000 H Advertised!");

    [Fact]
    public void Pending_states_ask_for_the_fast_interval_and_suppression_for_the_reuse_time()
    {
        var clock = new FakeTimeProvider();
        var t0 = clock.GetUtcNow();
        var c = new VipController("web", Policy, clock);
        Assert.Equal(t0.AddMilliseconds(200), c.Start(true, "ok", false, false).NextEvaluation);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        c.Evaluate(true, "ok");
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(clock.GetUtcNow().AddSeconds(1), c.Evaluate(true, "ok").NextEvaluation); // advertised: normal interval

        var d = new VipController("web", Damped, clock);
        d.Start(true, "ok", true, false);
        VipDecision last = null!;
        for (int i = 0; i < 3; i++) { d.Evaluate(false, "bad"); last = d.Evaluate(true, "ok"); }
        Assert.Equal(VipState.Suppressed, d.State);
        // 3 penalties at the same instant: 3000 → reuse 800 after 60 s·log2(3000/800) ≈ 114.4 s; capped by the 1 s interval
        Assert.Equal(clock.GetUtcNow().AddSeconds(1), last.NextEvaluation);
        clock.Advance(TimeSpan.FromSeconds(114));
        var next = d.Evaluate(true, "ok").NextEvaluation;
        Assert.InRange((next - clock.GetUtcNow()).TotalMilliseconds, 300, 500);
        clock.SetUtcNow(next);
        Assert.Equal(VipState.Advertised, d.Evaluate(true, "ok").State);
    }

    [Fact]
    public void Penalty_is_capped_and_halves_every_half_life()
    {
        var clock = new FakeTimeProvider();
        var c = new VipController("web", Damped, clock);
        c.Start(true, "ok", true, false);
        for (int i = 0; i < 10; i++) { c.Evaluate(false, "bad"); c.Drain("x"); c.Undrain("x"); c.Evaluate(true, "ok"); }
        Assert.Equal(6000, c.Penalty, 3);
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(3000, c.Penalty, 3);
        Assert.True(c.Flaps >= 3);
    }

    [Fact]
    public void Transitions_carry_the_reason()
    {
        var clock = new FakeTimeProvider();
        var c = new VipController("web", Policy with { Rise = 1 }, clock);
        var d = c.Start(false, "wg-a: link is Down", true, false);
        var t = Assert.Single(d.Transitions);
        Assert.Equal((VipState.Starting, VipState.Withdrawn, false), (t.From, t.To, t.Advertise));
        Assert.Contains("wg-a: link is Down", t.Reason);
        clock.Advance(TimeSpan.FromSeconds(1));
        t = Assert.Single(c.Evaluate(true, "1/1 interfaces healthy").Transitions);
        Assert.Equal((VipState.Withdrawn, VipState.Advertised, true), (t.From, t.To, t.Advertise));
        Assert.Contains("1/1 interfaces healthy", t.Reason);
    }
}
