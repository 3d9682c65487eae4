using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Xunit;
using Xunit.Abstractions;
using Overlay.Core.Events;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// The client runs overlayd with the session watchdog on its tunnel to the anycast VIP. When site 1 fails and the
/// upstream moves the VIP to site 2, the client's old session is useless at site 2; the watchdog notices its echoes go
/// unanswered, resets the session, and the new handshake lands at site 2. Timings are printed, never asserted.
/// </summary>
[Collection(AnycastLabCollection.Name)]
public sealed class AnycastWatchdogScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Client_with_the_watchdog_resets_its_session_and_is_served_by_site2_after_site1_wireguard_dies_and_returns_to_site1()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        await any.StartClientOverlaydAsync();
        Assert.Equal(s1, await any.ClientSiteAsync());
        long seq = (await any.ClientApi.EventsAsync()).LastOrDefault()?.Seq ?? 0;

        // Site 1's wireguard-go dies: the upstream moves the VIP to site 2 and the client's session must follow.
        var broke = any.Now;
        any.SiteWireGuard(s1).Kill();
        var moved = await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, since: broke);
        var served = await any.WaitUntilClientTrafficAtAsync(s2, Timeout);
        output.WriteLine($"wireguard-go killed at site 1 -> upstream moved to site 2: {(moved - broke).TotalMilliseconds:0} ms");
        output.WriteLine($"wireguard-go killed at site 1 -> client traffic answered by site 2: {(served - broke).TotalMilliseconds:0} ms");
        // The client's overlayd appends its events up to one watchdog interval after the lab sees the answers: poll.
        var events = await any.ClientApi.EventsAsync(seq);
        try
        {
            await Poll.UntilAsync("the client's overlayd logged the new handshake and the recovery", async _ =>
            {
                events = await any.ClientApi.EventsAsync(seq);
                return events.Any(e => e.Source == EventSource.WireGuard && e.What == "handshake completed")
                    && events.Any(e => e.Source == EventSource.WireGuard && e.What == "watchdog recovered");
            }, TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException) { } // the asserts below say what is missing
        foreach (var e in events) output.WriteLine($"  c overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e.Line()}");
        // The client's own overlayd reset the session through its writer, and saw the new handshake and the answers.
        Assert.Contains(events, e => e.Source == EventSource.WireGuard && e.Subject == topo.ClientInterface && e.What.StartsWith("session reset #", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Source == EventSource.Writer && e.Subject == "wgpeer:" + topo.ClientInterface && e.What == "PeerReset");
        Assert.Contains(events, e => e.Source == EventSource.WireGuard && e.What == "handshake completed");
        Assert.Contains(events, e => e.Source == EventSource.WireGuard && e.What == "watchdog recovered");

        // Site 1 returns and the upstream prefers it again: the client's session (with site 2) is useless at site 1, and
        // the watchdog brings the client back to site 1 the same way.
        seq = events.LastOrDefault()?.Seq ?? seq;
        var repaired = any.Now;
        await any.RestoreSiteWireGuardAsync(s1);
        await any.WaitUntilUpstreamPrefersAsync(s1, Timeout, since: repaired);
        var back = await any.WaitUntilClientTrafficAtAsync(s1, Timeout);
        output.WriteLine($"wireguard-go restored at site 1 -> client traffic answered by site 1 again: {(back - repaired).TotalMilliseconds:0} ms");
        var later = await any.ClientApi.EventsAsync(seq);
        try
        {
            await Poll.UntilAsync("the client's overlayd reset the session again", async _ =>
            {
                later = await any.ClientApi.EventsAsync(seq);
                return later.Any(e => e.Source == EventSource.WireGuard && e.What.StartsWith("session reset #", StringComparison.Ordinal));
            }, TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException) { }
        foreach (var e in later) output.WriteLine($"  c overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e.Line()}");
        Assert.Contains(later, e => e.Source == EventSource.WireGuard && e.What.StartsWith("session reset #", StringComparison.Ordinal));
        var metrics = await any.Lab.ExecAsync(topo.Client, "curl -s http://127.0.0.1:9474/metrics");
        Assert.Contains($"overlay_session_resets_total{{interface=\"{topo.ClientInterface}\",result=\"ok\"}}", metrics.StdOut);
    }
}
