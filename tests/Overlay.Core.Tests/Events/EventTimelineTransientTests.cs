using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Events;

namespace Overlay.Core.Tests.Events;

/// <summary>Issue #13, item 11: repeated transient errors must not push decisions and state changes off the timeline.</summary>
public class EventTimelineTransientTests
{
    [Fact]
    public void A_repeated_transient_error_is_one_event_with_a_count_and_decisions_stay()
    {
        var clock = new FakeTimeProvider();
        var t = new EventTimeline(100, clock);
        t.Append(EventSource.Vip, "web", "state", "Advertised", "PendingWithdraw", "unhealthy 1/2");
        for (int i = 0; i < 100_000; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            t.AppendTransient(EventSource.Writer, "vip:web", "Withdraw failed", "FRR: connection refused");
        }
        t.Append(EventSource.Vip, "web", "state", "PendingWithdraw", "Withdrawn", "unhealthy 2/2");

        var page = t.Since(0);
        Assert.False(page.Missed);
        Assert.Equal(["state", "Withdraw failed", "state"], page.Events.Select(e => e.What));
        var failed = page.Events[1];
        Assert.Equal(99_999, failed.Repeats);
        Assert.Equal(failed.Time + TimeSpan.FromMilliseconds(50 * 99_999), failed.LastTime);
        Assert.Contains("[x100000, last ", failed.ToString());
        Assert.Equal([1L, 2L, 3L], page.Events.Select(e => e.Seq));
    }

    [Fact]
    public void A_new_cause_is_a_new_event_and_many_causes_wrap_only_the_transient_ring()
    {
        var t = new EventTimeline(8, new FakeTimeProvider());
        t.Append(EventSource.Operator, "all VIPs", "drain");
        t.AppendTransient(EventSource.Writer, "vip:web", "Advertise failed", "FRR: connection refused");
        t.AppendTransient(EventSource.Writer, "vip:web", "Advertise failed", "FRR: deadline exceeded");
        Assert.Equal(2, t.Since(1).Events.Count);

        for (int i = 0; i < 1000; i++) t.AppendTransient(EventSource.Writer, "vip:web", "Advertise failed", $"cause {i}");
        var page = t.Since(0);
        Assert.Equal("drain", page.Events[0].What);
        Assert.False(page.Missed); // only transient errors were dropped
        Assert.Equal(16, page.Events.Count - 1); // the transient ring's capacity (at least 16)
        Assert.True(page.Events.Zip(page.Events.Skip(1)).All(p => p.First.Seq < p.Second.Seq), "pages stay in sequence order");

        // A cause whose event was dropped from the ring starts a new event rather than counting on a lost one.
        var again = t.AppendTransient(EventSource.Writer, "vip:web", "Advertise failed", "FRR: connection refused");
        Assert.Equal(0, again.Repeats);
        Assert.Equal(t.LastSeq, again.Seq);
    }

    [Fact]
    public void Paging_merges_both_rings_in_sequence_order()
    {
        var t = new EventTimeline(10, new FakeTimeProvider());
        t.Append(EventSource.Vip, "a", "1");
        t.AppendTransient(EventSource.Writer, "b", "2");
        t.Append(EventSource.Vip, "c", "3");
        t.AppendTransient(EventSource.Writer, "d", "4");
        Assert.Equal(["1", "2", "3", "4"], t.Since(0).Events.Select(e => e.What));
        Assert.Equal(["3", "4"], t.Since(2).Events.Select(e => e.What));
        Assert.Equal(["2", "3"], t.Since(1, max: 2).Events.Select(e => e.What));
    }
}
