using Overlay.Core.Config;

namespace Overlay.Core.Anycast;

/// <summary>Where a session watchdog stands.</summary>
public enum SessionWatchdogState
{
    /// <summary>No echo answered yet: the far end may not answer probes at all, so nothing is ever reset.</summary>
    Unarmed,
    /// <summary>Echoes are answered (or fewer than <c>misses</c> in a row went unanswered).</summary>
    Up,
    /// <summary>The session was reset and no echo has been answered since; the next reset waits for the backoff.</summary>
    Resetting,
}

/// <summary>What the loop must do after a step.</summary>
public enum SessionWatchdogAction { None, Reset }

/// <param name="Action">Reset: remove and re-add the peer now (then send the next probe, which starts a handshake).</param>
/// <param name="Attempt">The reset's number since the session was last answered (1 = first); 0 with no reset.</param>
/// <param name="NextResetNotBefore">While resetting: the earliest time of the next reset (the backoff).</param>
/// <param name="Transition">A state change at this step, for the event timeline; null when none.</param>
public sealed record SessionWatchdogStep(
    SessionWatchdogAction Action,
    SessionWatchdogState State,
    int Attempt,
    int Misses,
    DateTimeOffset? NextResetNotBefore,
    string? Transition);

/// <summary>
/// The client side of an anycast WireGuard endpoint: when the route to the VIP moves to another site, that site
/// silently drops the old session's packets, and stock WireGuard only re-handshakes after 15 s of unanswered data.
/// This watchdog is stepped once per probe interval with "was any echo answered since the previous step"; after
/// <see cref="SessionWatchdogConfig.Misses"/> unanswered intervals in a row it asks for a session reset (remove and
/// re-add the peer, so the next packet starts a handshake, which lands where the route points now). While no echo
/// is answered it resets again, each time after a doubled wait (<see cref="SessionWatchdogConfig.Backoff"/> up to
/// <see cref="SessionWatchdogConfig.MaxBackoff"/>), so a far end that is really down gets a handshake every
/// MaxBackoff at most, not a storm. It arms only after the first answered echo: a far end that never answers
/// probes (filtered ICMP) must not have its working session reset forever.
/// Pure apart from reading the clock through <see cref="TimeProvider"/>.
/// </summary>
public sealed class SessionWatchdog
{
    private readonly TimeProvider _time;
    private SessionWatchdogConfig _config;
    private DateTimeOffset _nextReset;
    private DateTimeOffset _firstResetAt;

    public SessionWatchdog(SessionWatchdogConfig config, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(time);
        _config = config;
        _time = time;
    }

    public SessionWatchdogState State { get; private set; } = SessionWatchdogState.Unarmed;

    /// <summary>Unanswered intervals in a row.</summary>
    public int Misses { get; private set; }

    /// <summary>Resets since the session was last answered.</summary>
    public int Attempt { get; private set; }

    /// <summary>Resets requested since the watchdog was created.</summary>
    public long TotalResets { get; private set; }

    public SessionWatchdogConfig Config => _config;

    /// <summary>New settings (a reload) apply from the next step; the state is kept.</summary>
    public void Update(SessionWatchdogConfig config) => _config = config ?? throw new ArgumentNullException(nameof(config));

    /// <summary>The wait before reset number <paramref name="attempt"/> + 1: Backoff · 2^(attempt-1), capped at MaxBackoff.</summary>
    public static TimeSpan BackoffAfter(SessionWatchdogConfig config, int attempt)
    {
        ArgumentNullException.ThrowIfNull(config);
        var wait = config.Backoff;
        for (int i = 1; i < attempt && wait < config.MaxBackoff; i++) wait += wait;
        return wait < config.MaxBackoff ? wait : config.MaxBackoff;
    }

    /// <summary>One probe interval has passed; <paramref name="answered"/>: at least one echo reply arrived since the previous step.</summary>
    public SessionWatchdogStep Step(bool answered)
    {
        var now = _time.GetUtcNow();
        if (answered)
        {
            string? transition = State switch
            {
                SessionWatchdogState.Unarmed => "armed: the far end answers probes",
                SessionWatchdogState.Resetting => $"recovered {(now - _firstResetAt).TotalMilliseconds:0} ms after the first reset ({Attempt} reset(s))",
                _ => null,
            };
            State = SessionWatchdogState.Up;
            Misses = 0;
            Attempt = 0;
            return new(SessionWatchdogAction.None, State, 0, 0, null, transition);
        }

        Misses++;
        switch (State)
        {
            case SessionWatchdogState.Up when Misses >= _config.Misses:
                State = SessionWatchdogState.Resetting;
                _firstResetAt = now;
                return Reset(now, $"{Misses} probes unanswered");
            case SessionWatchdogState.Resetting when now >= _nextReset:
                return Reset(now, $"still unanswered {(now - _firstResetAt).TotalMilliseconds:0} ms after the first reset");
            default:
                return new(SessionWatchdogAction.None, State, Attempt, Misses,
                    State == SessionWatchdogState.Resetting ? _nextReset : null, null);
        }
    }

    private SessionWatchdogStep Reset(DateTimeOffset now, string why)
    {
        Attempt++;
        TotalResets++;
        _nextReset = now + BackoffAfter(_config, Attempt);
        return new(SessionWatchdogAction.Reset, State, Attempt, Misses, _nextReset,
            $"reset #{Attempt}: {why}; next reset not before +{(_nextReset - now).TotalMilliseconds:0} ms");
    }
}
