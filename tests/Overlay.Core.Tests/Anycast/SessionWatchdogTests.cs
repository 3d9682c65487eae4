using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Anycast;
using Overlay.Core.Config;

namespace Overlay.Core.Tests.Anycast;

public class SessionWatchdogTests
{
    // 100 ms x 3, backoff 250 ms doubling up to 2 s.
    private static readonly SessionWatchdogConfig Config = new(TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));

    /// <summary>Steps the watchdog once per 100 ms with the given answers ('y' answered, 'n' not); returns the step times (ms) that asked for a reset.</summary>
    private static List<int> ResetsAt(SessionWatchdog w, FakeTimeProvider clock, string answers, ref int ms)
    {
        var resets = new List<int>();
        foreach (char a in answers)
        {
            ms += 100;
            clock.Advance(TimeSpan.FromMilliseconds(100));
            if (w.Step(a == 'y').Action == SessionWatchdogAction.Reset) resets.Add(ms);
        }
        return resets;
    }

    [Fact]
    public void Never_resets_before_the_far_end_has_answered_once()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        int ms = 0;
        Assert.Empty(ResetsAt(w, clock, new string('n', 600), ref ms));
        Assert.Equal(SessionWatchdogState.Unarmed, w.State);
        Assert.Equal(0, w.TotalResets);
    }

    [Fact]
    public void Arms_on_the_first_answer_and_says_so()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        var step = w.Step(answered: true);
        Assert.Equal(SessionWatchdogState.Up, step.State);
        Assert.StartsWith("armed", step.Transition);
        Assert.Null(w.Step(answered: true).Transition);
    }

    [Fact]
    public void Resets_after_misses_unanswered_intervals_in_a_row_not_before()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        int ms = 0;
        // Two misses, an answer, two misses: never three in a row.
        Assert.Empty(ResetsAt(w, clock, "yynnynny", ref ms));
        var resets = ResetsAt(w, clock, "nnn", ref ms);
        Assert.Equal([ms], resets);
        Assert.Equal(SessionWatchdogState.Resetting, w.State);
        Assert.Equal(1, w.Attempt);
    }

    [Fact]
    public void Answer_after_a_reset_recovers_and_reports_the_time_since_the_first_reset()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        int ms = 0;
        ResetsAt(w, clock, "ynnn", ref ms);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        var step = w.Step(answered: true);
        Assert.Equal(SessionWatchdogState.Up, step.State);
        Assert.Equal("recovered 100 ms after the first reset (1 reset(s))", step.Transition);
        Assert.Equal(0, w.Attempt);
        // Armed again from scratch: the next silence needs three misses again.
        Assert.Equal([ms + 400], ResetsAt(w, clock, "ynnn", ref ms));
    }

    [Fact]
    public void A_far_end_that_stays_down_gets_resets_with_doubling_waits_capped_at_max_backoff()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        int ms = 0;
        ResetsAt(w, clock, "y", ref ms);                  // armed at 100
        var resets = ResetsAt(w, clock, new string('n', 100), ref ms); // 10 s of silence
        // First reset at the third miss (400); then waits of 250, 500, 1000, 2000, 2000 … (rounded up to the 100 ms steps).
        Assert.Equal([400, 700, 1200, 2200, 4200, 6200, 8200], resets);
        Assert.Equal(resets.Count, (int)w.TotalResets);
    }

    [Theory]
    [InlineData(1, 250)]
    [InlineData(2, 500)]
    [InlineData(3, 1000)]
    [InlineData(4, 2000)]
    [InlineData(5, 2000)]
    [InlineData(60, 2000)]
    public void Backoff_doubles_from_backoff_and_is_bounded(int attempt, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), SessionWatchdog.BackoffAfter(Config, attempt));

    [Fact]
    public void Reset_step_names_the_attempt_and_the_next_earliest_reset()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        int ms = 0;
        ResetsAt(w, clock, "ynn", ref ms);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        var step = w.Step(answered: false);
        Assert.Equal(SessionWatchdogAction.Reset, step.Action);
        Assert.Equal(1, step.Attempt);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMilliseconds(250), step.NextResetNotBefore);
        Assert.Equal("reset #1: 3 probes unanswered; next reset not before +250 ms", step.Transition);
    }

    [Fact]
    public void New_settings_apply_from_the_next_step()
    {
        var clock = new FakeTimeProvider();
        var w = new SessionWatchdog(Config, clock);
        int ms = 0;
        ResetsAt(w, clock, "y", ref ms);
        w.Update(Config with { Misses = 5 });
        Assert.Empty(ResetsAt(w, clock, "nnnn", ref ms));
        Assert.Single(ResetsAt(w, clock, "n", ref ms));
    }
}
