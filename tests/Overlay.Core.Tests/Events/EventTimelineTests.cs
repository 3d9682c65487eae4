using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Events;

namespace Overlay.Core.Tests.Events;

public class EventTimelineTests
{
    [Fact]
    public void Events_are_numbered_stamped_to_the_millisecond_and_paged_by_sequence()
    {
        var clock = new FakeTimeProvider();
        clock.Advance(TimeSpan.FromTicks(12_345_678)); // 1.2345678 s
        var t = new EventTimeline(10, clock);
        var e1 = t.Append(EventSource.Vip, "web", "state", "Withdrawn", "Advertised", "healthy 3/3");
        clock.Advance(TimeSpan.FromMilliseconds(5));
        t.Append(EventSource.Link, "wg-a", "oper", "Up", "Down");
        Assert.Equal(1, e1.Seq);
        Assert.Equal(0, e1.Time.Ticks % TimeSpan.TicksPerMillisecond);
        Assert.Equal(1234, e1.Time.Millisecond + e1.Time.Second * 1000);

        var page = t.Since(0);
        Assert.Equal([1L, 2L], page.Events.Select(e => e.Seq));
        Assert.False(page.Missed);
        Assert.Equal(2, page.LastSeq);
        Assert.Equal([2L], t.Since(1).Events.Select(e => e.Seq));
        Assert.Empty(t.Since(2).Events);
        Assert.Contains("wg-a oper Up -> Down", t.Since(1).Events[0].ToString());
    }

    [Fact]
    public void Ring_overwrites_the_oldest_and_says_when_a_reader_missed_events()
    {
        var t = new EventTimeline(3, new FakeTimeProvider());
        for (int i = 0; i < 7; i++) t.Append(EventSource.Daemon, "x", $"e{i + 1}");
        var page = t.Since(0);
        Assert.Equal([5L, 6L, 7L], page.Events.Select(e => e.Seq));
        Assert.True(page.Missed);
        Assert.False(t.Since(4).Missed);
        Assert.Equal([6L], t.Since(5, max: 1).Events.Select(e => e.Seq));
    }

    [Fact]
    public void Concurrent_appends_get_unique_sequence_numbers()
    {
        var t = new EventTimeline(10_000, TimeProvider.System);
        Parallel.For(0, 4, _ => { for (int i = 0; i < 1000; i++) t.Append(EventSource.Daemon, "x", "y"); });
        var seqs = t.Since(0).Events.Select(e => e.Seq).ToList();
        Assert.Equal(4000, seqs.Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 4000).Select(i => (long)i), seqs);
    }
}
