using System.Text.Json.Serialization;

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
    /// <summary>For a transient event (<see cref="EventTimeline.AppendTransient"/>): how many more times it happened after <see cref="Time"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Repeats { get; init; }

    /// <summary>When a repeated transient event last happened.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastTime { get; init; }

    public override string ToString() =>
        $"{Time:HH:mm:ss.fff} #{Seq} {Source} {Subject} {What}{(Old is null && New is null ? "" : $" {Old ?? "-"} -> {New ?? "-"}")}{(Reason is null ? "" : $" ({Reason})")}" +
        (Repeats > 0 ? $" [x{Repeats + 1}, last {LastTime:HH:mm:ss.fff}]" : "");
}

/// <param name="Missed">True when events after the requested sequence were already overwritten by the ring.</param>
public sealed record EventPage(IReadOnlyList<OverlayEvent> Events, long LastSeq, bool Missed);

/// <summary>
/// A bounded in-memory ring of events (oldest overwritten first), timestamped to the millisecond from
/// <see cref="TimeProvider"/>. Thread-safe: the VIP loop, the writer and the API append and read concurrently.
/// </summary>
/// <remarks>
/// Transient errors (a failed apply retried every pass while FRR is down) go to a second, smaller ring through
/// <see cref="AppendTransient"/>, and a repeat of the same one is counted on its event instead of appended: a long outage
/// can neither push decisions and state changes out of the timeline nor wrap it. Both rings share one sequence;
/// <see cref="EventPage.Missed"/> is about the main ring (decisions), not about old transient errors.
/// </remarks>
public sealed class EventTimeline
{
    private readonly Ring _main;
    private readonly Ring _transient;
    private readonly Dictionary<(EventSource, string, string, string?), long> _lastTransient = [];
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _lastSeq;
    // Every event ever appended (a transient repeat included), by source: the rings forget; the metrics' events rate must not.
    private readonly long[] _bySource = new long[Enum.GetValues<EventSource>().Length];

    public EventTimeline(int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _main = new Ring(capacity);
        _transient = new Ring(Math.Max(16, capacity / 4));
        _time = time;
    }

    public int Capacity => _main.Capacity;

    public long LastSeq { get { lock (_lock) return _lastSeq; } }

    public OverlayEvent Append(EventSource source, string subject, string what, string? old = null, string? @new = null, string? reason = null)
    {
        var now = Now();
        lock (_lock)
        {
            var e = new OverlayEvent(++_lastSeq, now, source, subject, what, old, @new, reason);
            _main.Add(e);
            _bySource[(int)source]++;
            return e;
        }
    }

    /// <summary>How many events each source appended since start (including those the rings already overwrote).</summary>
    public IReadOnlyList<(EventSource Source, long Count)> CountsBySource()
    {
        lock (_lock) return Enum.GetValues<EventSource>().Select(s => (s, _bySource[(int)s])).ToList();
    }

    /// <summary>
    /// An event that may repeat many times for one cause (a retried failure). The first occurrence is appended to
    /// the transient ring; while it is still there, a repeat (same source, subject, what and reason) only counts on it.
    /// </summary>
    public OverlayEvent AppendTransient(EventSource source, string subject, string what, string? reason = null)
    {
        var now = Now();
        var key = (source, subject, what, reason);
        lock (_lock)
        {
            _bySource[(int)source]++;
            if (_lastTransient.TryGetValue(key, out var seq) && _transient.Replace(seq, e => e with { Repeats = e.Repeats + 1, LastTime = now }) is { } counted)
                return counted;
            var added = new OverlayEvent(++_lastSeq, now, source, subject, what, null, null, reason);
            if (_transient.Add(added) is { } dropped)
            {
                var droppedKey = (dropped.Source, dropped.Subject, dropped.What, dropped.Reason);
                if (_lastTransient.TryGetValue(droppedKey, out var s) && s == dropped.Seq) _lastTransient.Remove(droppedKey);
            }
            _lastTransient[key] = added.Seq;
            return added;
        }
    }

    /// <summary>Events with a sequence number greater than <paramref name="since"/>, oldest first, at most <paramref name="max"/>.</summary>
    public EventPage Since(long since, int max = int.MaxValue)
    {
        lock (_lock)
        {
            bool missed = _main.OldestSeq is { } oldest && since + 1 < oldest && _main.Dropped;
            var list = new List<OverlayEvent>();
            using var a = _main.After(since).GetEnumerator();
            using var b = _transient.After(since).GetEnumerator();
            bool hasA = a.MoveNext(), hasB = b.MoveNext();
            while ((hasA || hasB) && list.Count < max)
            {
                if (hasA && (!hasB || a.Current.Seq < b.Current.Seq)) { list.Add(a.Current); hasA = a.MoveNext(); }
                else { list.Add(b.Current); hasB = b.MoveNext(); }
            }
            return new EventPage(list, _lastSeq, missed);
        }
    }

    private DateTimeOffset Now()
    {
        var now = _time.GetUtcNow();
        // Millisecond precision is what the timeline promises; finer digits would suggest accuracy we lack.
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, now.Offset);
    }

    /// <summary>Events in sequence order, the oldest overwritten first.</summary>
    private sealed class Ring(int capacity)
    {
        private readonly OverlayEvent?[] _items = new OverlayEvent?[capacity];
        private int _start, _count;

        public int Capacity => _items.Length;
        public bool Dropped { get; private set; }
        public long? OldestSeq => _count == 0 ? null : _items[_start]!.Seq;

        /// <returns>The event that was overwritten, if any.</returns>
        public OverlayEvent? Add(OverlayEvent e)
        {
            OverlayEvent? dropped = null;
            if (_count == _items.Length)
            {
                dropped = _items[_start];
                _items[_start] = e;
                _start = (_start + 1) % _items.Length;
                Dropped = true;
            }
            else _items[(_start + _count++) % _items.Length] = e;
            return dropped;
        }

        /// <summary>Replaces the event with sequence <paramref name="seq"/>, if still held; returns the new one.</summary>
        public OverlayEvent? Replace(long seq, Func<OverlayEvent, OverlayEvent> update)
        {
            int i = IndexOf(seq);
            if (i < 0) return null;
            return _items[i] = update(_items[i]!);
        }

        public IEnumerable<OverlayEvent> After(long since)
        {
            // Sequences ascend around the ring: binary search the first one after 'since'.
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (_items[(_start + mid) % _items.Length]!.Seq <= since) lo = mid + 1; else hi = mid;
            }
            for (int k = lo; k < _count; k++) yield return _items[(_start + k) % _items.Length]!;
        }

        private int IndexOf(long seq)
        {
            int lo = 0, hi = _count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                long s = _items[(_start + mid) % _items.Length]!.Seq;
                if (s == seq) return (_start + mid) % _items.Length;
                if (s < seq) lo = mid + 1; else hi = mid - 1;
            }
            return -1;
        }
    }
}
