using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Model;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Config;
using Overlay.Daemon.Metrics;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>The signal reader's caches on the fake clock: what is read again, when, and what makes a read stale.</summary>
public sealed class SignalReaderTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly FakePlatform _platform = new();
    private readonly Overlay.Core.Config.NodeConfig _cfg = VipLoopTestConfig.Load();
    private readonly SignalReader _reader;
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SignalReaderTests()
    {
        var events = new EventTimeline(100, _time);
        var store = new ConfigStore("unit.yaml", _cfg, NullLogger<ConfigStore>.Instance, events, new DaemonMetrics());
        _reader = new SignalReader(_platform.Ports, store, new DrainState(_time), events, _time, NullLogger.Instance, () => _woken.TrySetResult());
        foreach (var (name, key) in new[] { ("wg-a", VipLoopTestConfig.KeyA), ("wg-b", VipLoopTestConfig.KeyB) })
        {
            _platform.SeedLink(name, LinkOperState.Up);
            _platform.SetPeer(name, new WireGuardPeer(WireGuardKey.Parse(key), null, null, [IpPrefix.Parse("10.0.0.0/8")], TimeSpan.Zero, _time.GetUtcNow(), 10, 10, 1));
        }
    }

    public void Dispose() { _stop.Cancel(); _stop.Dispose(); }

    private (Overlay.Core.Config.VipConfig, bool)[] Settled => [(_cfg.FindVip("web")!, false), (_cfg.FindVip("api")!, false)];

    [Fact]
    public async Task Before_link_events_are_watched_one_link_dump_answers_a_pass_and_is_reused_for_100_ms_at_most()
    {
        var first = await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(1, _platform.LinkReads);
        Assert.Equal(LinkOperState.Up, first.Interfaces["wg-a"].Link);

        _time.Advance(TimeSpan.FromMilliseconds(50));
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(1, _platform.LinkReads);

        _time.Advance(TimeSpan.FromMilliseconds(60));
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(2, _platform.LinkReads);
    }

    [Fact]
    public async Task While_link_events_are_watched_one_dump_is_reused_until_an_event_or_30_s()
    {
        _reader.Watch(_stop.Token);
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(10));
        var quiet = await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(1, _platform.LinkReads);
        Assert.Equal(LinkOperState.Up, quiet.Interfaces["wg-a"].Link);

        _platform.SetLink("wg-a", LinkOperState.Down);
        await _woken.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var after = await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(LinkOperState.Down, after.Interfaces["wg-a"].Link);
        Assert.Equal(2, _platform.LinkReads);

        // A change the kernel never announced is healed by the periodic dump.
        _platform.SeedLink("wg-b", LinkOperState.Down);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(LinkOperState.Up, (await _reader.ReadAsync(_cfg, Settled, CancellationToken.None)).Interfaces["wg-b"].Link);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(LinkOperState.Down, (await _reader.ReadAsync(_cfg, Settled, CancellationToken.None)).Interfaces["wg-b"].Link);
        Assert.Equal(3, _platform.LinkReads);
    }

    [Fact]
    public async Task A_dump_taken_before_link_events_are_watched_is_not_reused_after()
    {
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        _platform.SeedLink("wg-a", LinkOperState.Down); // changed before the subscription: no event will say so
        _reader.Watch(_stop.Token);
        var after = await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(LinkOperState.Down, after.Interfaces["wg-a"].Link);
        Assert.Equal(2, _platform.LinkReads);
    }

    [Fact]
    public async Task A_link_event_makes_the_next_pass_read_the_link_table_and_that_interface_s_device_again()
    {
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal((1, 2), (_platform.LinkReads, _platform.WireGuardReads));
        _time.Advance(TimeSpan.FromMilliseconds(10));
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal((1, 2), (_platform.LinkReads, _platform.WireGuardReads)); // settled: both reused

        _reader.Watch(_stop.Token);
        _platform.SetLink("wg-a", LinkOperState.Down);
        await _woken.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var after = await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(LinkOperState.Down, after.Interfaces["wg-a"].Link);
        Assert.Equal((2, 3), (_platform.LinkReads, _platform.WireGuardReads)); // wg-a's device again, not wg-b's
    }

    [Fact]
    public async Task Interfaces_of_a_pending_VIP_are_read_on_every_pass_others_at_their_age()
    {
        (Overlay.Core.Config.VipConfig, bool)[] webPending = [(_cfg.FindVip("web")!, true)];
        await _reader.ReadAsync(_cfg, webPending, CancellationToken.None);
        await _reader.ReadAsync(_cfg, webPending, CancellationToken.None);
        Assert.Equal(4, _platform.WireGuardReads);

        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(4, _platform.WireGuardReads);
        _time.Advance(TimeSpan.FromSeconds(2.5)); // wg-a's age under "strict"; wg-b's is 5 s
        await _reader.ReadAsync(_cfg, Settled, CancellationToken.None);
        Assert.Equal(5, _platform.WireGuardReads);
    }
}
