namespace Overlay.Core.Events;

/// <summary>Where an event came from.</summary>
public enum EventSource { Daemon, Config, Health, Vip, Writer, Link, WireGuard, Bfd, Routing, Operator }

/// <summary>
/// One thing that changed: <paramref name="Subject"/> (a VIP, interface, peer, route) went from
/// <paramref name="Old"/> to <paramref name="New"/> for <paramref name="Reason"/>.
/// </summary>
/// <param name="Seq">Monotonic, starting at 1; clients page with "since".</param>
public sealed record OverlayEvent(long Seq, DateTimeOffset Time, EventSource Source, string Subject, string What, string? Old, string? New, string? Reason)
{
    public override string ToString() =>
        $"{Time:HH:mm:ss.fff} #{Seq} {Source} {Subject} {What}{(Old is null && New is null ? "" : $" {Old ?? "-"} -> {New ?? "-"}")}{(Reason is null ? "" : $" ({Reason})")}";
}

/// <param name="Missed">True when events after the requested sequence were already overwritten by the ring.</param>
public sealed record EventPage(IReadOnlyList<OverlayEvent> Events, long LastSeq, bool Missed);

/// <summary>
/// A bounded in-memory ring of events (oldest overwritten first), timestamped to the millisecond from
/// <see cref="TimeProvider"/>. Thread-safe: the VIP loop, the writer and the API append and read concurrently.
/// </summary>
public sealed class EventTimeline
{
    private readonly OverlayEvent?[] _ring;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _lastSeq;
    // Every event ever appended, by source (the ring forgets; the metrics' events rate must not).
    private readonly long[] _bySource = new long[Enum.GetValues<EventSource>().Length];

    public EventTimeline(int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new OverlayEvent?[capacity];
        _time = time;
    }

    public int Capacity => _ring.Length;

    public long LastSeq { get { lock (_lock) return _lastSeq; } }

    public OverlayEvent Append(EventSource source, string subject, string what, string? old = null, string? @new = null, string? reason = null)
    {
        OverlayEvent e;
        var now = _time.GetUtcNow();
        // Millisecond precision is what the timeline promises; finer digits would suggest accuracy we lack.
        now = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, now.Offset);
        lock (_lock)
        {
            e = new OverlayEvent(++_lastSeq, now, source, subject, what, old, @new, reason);
            _ring[(int)((_lastSeq - 1) % _ring.Length)] = e;
            _bySource[(int)source]++;
        }
        return e;
    }

    /// <summary>How many events each source appended since start (including those the ring already overwrote).</summary>
    public IReadOnlyList<(EventSource Source, long Count)> CountsBySource()
    {
        lock (_lock) return Enum.GetValues<EventSource>().Select(s => (s, _bySource[(int)s])).ToList();
    }

    /// <summary>Events with a sequence number greater than <paramref name="since"/>, oldest first, at most <paramref name="max"/>.</summary>
    public EventPage Since(long since, int max = int.MaxValue)
    {
        lock (_lock)
        {
            long oldest = Math.Max(1, _lastSeq - _ring.Length + 1);
            long from = Math.Max(since + 1, oldest);
            bool missed = since + 1 < oldest && _lastSeq > 0;
            var list = new List<OverlayEvent>();
            for (long s = from; s <= _lastSeq && list.Count < max; s++)
                list.Add(_ring[(int)((s - 1) % _ring.Length)]!);
            return new EventPage(list, _lastSeq, missed);
        }
    }
}
