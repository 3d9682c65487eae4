namespace Overlay.Daemon.Logging;

public enum RepeatKind
{
    /// <summary>A new failure, or a new cause of one: say it.</summary>
    First,
    /// <summary>The same cause again within the summary interval: count it, say nothing.</summary>
    Suppressed,
    /// <summary>The same cause again, and a summary interval has passed since the last line: say how many.</summary>
    Summary,
}

public readonly record struct RepeatVerdict(RepeatKind Kind, long Repeats, TimeSpan Period);

public readonly record struct Recovery(long Failures, TimeSpan Duration);

/// <summary>
/// Decides which failures of a retried operation get a log line: the first of each cause, then at most one summary
/// per <c>summaryEvery</c> with the count of repeats, and the recovery. Keyed by subject (what failed: a signal, an
/// apply); a different cause for the same subject is a new line at once. Driven by <see cref="TimeProvider"/>.
/// </summary>
public sealed class RepeatSuppressor(TimeProvider time, TimeSpan summaryEvery)
{
    private sealed class State(string cause, DateTimeOffset now)
    {
        public string Cause = cause;
        public readonly DateTimeOffset FirstAt = now;
        public DateTimeOffset LastLineAt = now;
        public long Total = 1;
        public long SinceLine;
    }

    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public RepeatVerdict Failure(string subject, string cause)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_states.TryGetValue(subject, out var s))
            {
                _states[subject] = new State(cause, now);
                return new RepeatVerdict(RepeatKind.First, 0, TimeSpan.Zero);
            }
            s.Total++;
            if (!string.Equals(s.Cause, cause, StringComparison.Ordinal))
            {
                s.Cause = cause;
                s.LastLineAt = now;
                s.SinceLine = 0;
                return new RepeatVerdict(RepeatKind.First, 0, TimeSpan.Zero);
            }
            s.SinceLine++;
            if (now - s.LastLineAt < summaryEvery) return new RepeatVerdict(RepeatKind.Suppressed, s.SinceLine, now - s.LastLineAt);
            var verdict = new RepeatVerdict(RepeatKind.Summary, s.SinceLine, now - s.LastLineAt);
            s.SinceLine = 0;
            s.LastLineAt = now;
            return verdict;
        }
    }

    /// <summary>The subject succeeded; returns the outage it ends, or null when it was not failing.</summary>
    public Recovery? Success(string subject)
    {
        lock (_lock)
        {
            if (!_states.Remove(subject, out var s)) return null;
            return new Recovery(s.Total, time.GetUtcNow() - s.FirstAt);
        }
    }

    public bool IsFailing(string subject) { lock (_lock) return _states.ContainsKey(subject); }
}
