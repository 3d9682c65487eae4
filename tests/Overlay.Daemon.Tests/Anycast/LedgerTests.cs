using Microsoft.Extensions.Logging.Abstractions;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Writer;
using Overlay.Core.Model;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>The writer's ledger: typed subjects (built in one place) and typed states, shown as words by the API.</summary>
public sealed class LedgerTests
{
    private static readonly IpPrefix Vip = IpPrefix.Parse("203.0.113.10/32");

    [Fact]
    public void Subjects_are_equal_by_value_and_keep_their_text()
    {
        Assert.Equal(new VipSubject("web"), new AdvertiseVip("web", new VipRoute(Vip, "ovl-web")).Subject);
        Assert.Equal(new VipSubject("web"), new WithdrawVip("web", Vip).Subject);
        Assert.NotEqual<LedgerSubject>(new VipSubject("web"), new PeerSubject("web"));
        Assert.Equal("vip:web", new VipSubject("web").ToString());
        Assert.Equal("route:10.20.0.0/16", new ReplaceKernelRoute(new OwnedRoute(IpPrefix.Parse("10.20.0.0/16"), "wg0", 100)).Subject.ToString());
        Assert.Equal("wgpeer:wg0", new PeerSubject("wg0").ToString());
    }

    [Fact]
    public async Task States_are_unknown_until_read_or_applied_then_present_or_absent()
    {
        var platform = new FakePlatform();
        var writer = new ChangeWriter(platform.Ports, TimeProvider.System, new Overlay.Core.Events.EventTimeline(100, TimeProvider.System),
            new DaemonMetrics(), NullLogger<ChangeWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        try
        {
            var web = new VipSubject("web");
            Assert.Null(writer.Find(web));
            writer.RecordRunning(web, present: false);
            Assert.Equal(new LedgerEntry(web, LedgerState.Absent, LedgerState.Absent, null), writer.Find(web));

            var ok = await writer.SubmitAsync(new AdvertiseVip("web", new VipRoute(Vip, "ovl-web")), CancellationToken.None);
            Assert.True(ok.Ok);
            Assert.Equal((LedgerState.Present, LedgerState.Present), (writer.Find(web)!.Desired, writer.Find(web)!.Running));

            // A failed apply of a subject never seen: wanted present, running unknown, the failure kept.
            platform.AdvertiseFailure = new InvalidOperationException("commit failed");
            var api = new VipSubject("api");
            var failed = await writer.SubmitAsync(new AdvertiseVip("api", new VipRoute(IpPrefix.Parse("203.0.113.11/32"), "ovl-api")), CancellationToken.None);
            Assert.False(failed.Ok);
            Assert.Equal((LedgerState.Present, LedgerState.Unknown), (writer.Find(api)!.Desired, writer.Find(api)!.Running));
            Assert.Equal("commit failed", writer.Find(api)!.LastApply!.Error);

            // What the control API shows: the same words as before the ledger was typed.
            Assert.Equal(["vip:api present unknown", "vip:web present present"],
                writer.Ledger.Select(e => e.ToRecord()).Select(r => $"{r.Subject} {r.Desired} {r.Running}"));
            writer.Forget(web);
            Assert.Null(writer.Find(web));
        }
        finally { await writer.StopAsync(CancellationToken.None); }
    }

    [Theory]
    [InlineData(LedgerState.Present, "present")]
    [InlineData(LedgerState.Absent, "absent")]
    [InlineData(LedgerState.Unknown, "unknown")]
    public void Each_state_has_the_word_the_API_shows(LedgerState state, string word) => Assert.Equal(word, state.Text());
}
