using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Xunit;
using Xunit.Abstractions;
using Overlay.Core.Events;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// Anycast VIP 203.0.113.10/32 served by two sites that share one WireGuard key; the upstream prefers site 1.
/// Each story: converge, break one thing at site 1, watch the upstream move to site 2 (and the client follow),
/// repair, watch it come back. Real FRR, real wireguard-go, real overlayd; timings are printed, never asserted.
/// </summary>
[Collection(AnycastLabCollection.Name)]
public sealed class AnycastScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(30);
    // The client only re-handshakes after KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (10 s + 5 s) of unanswered data, then retries every 5 s.
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Site1_wireguard_dies_upstream_moves_to_site2_client_follows_and_site1_returns_after_rise()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        output.WriteLine($"converged at {any.Now.TotalMilliseconds:0} ms: upstream -> {topo.SiteOfRoute(await any.UpstreamVipRouteAsync() + " ")?.Name}");
        Assert.Equal(s1, await any.ClientSiteAsync());
        long seq = await LastEventSeqAsync(any, s1);

        // Break: site 1's anycast wireguard-go dies (its TUN vanishes; link state says NotPresent).
        var broke = any.Now;
        any.SiteWireGuard(s1).Kill();
        var moved = await any.WaitUntilUpstreamPrefersAsync(s2, RouteTimeout, since: broke);
        Assert.DoesNotContain(s1, await any.UpstreamBgpPathsAsync());
        var resumed = await any.WaitUntilClientPingsAsync(ClientTimeout);
        Assert.Equal(s2, await any.ClientSiteAsync());
        output.WriteLine($"client's WireGuard endpoint now: {await any.ClientEndpointAsync()}");
        output.WriteLine($"wireguard-go killed at site 1 -> upstream moved to site 2: {(moved - broke).TotalMilliseconds:0} ms");
        output.WriteLine($"wireguard-go killed at site 1 -> client ping through the tunnel resumed (at site 2): {(resumed - broke).TotalMilliseconds:0} ms");
        await PrintEventsAsync(any, s1, seq);

        // Repair: wireguard-go back; site 1 is re-advertised once healthy for `rise` evaluations, and the upstream prefers it again.
        seq = await LastEventSeqAsync(any, s1);
        var repaired = any.Now;
        await any.RestoreSiteWireGuardAsync(s1);
        var back = await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout, since: repaired);
        Assert.Contains(s2, await any.UpstreamBgpPathsAsync());
        output.WriteLine($"wireguard-go restored at site 1 -> upstream back on site 1: {(back - repaired).TotalMilliseconds:0} ms (rise 3 x 1 s)");
        // The client, whose session is with site 2, keeps sending; site 1 cannot decrypt it, so after 15 s without an
        // answer the client re-handshakes, and the handshake now lands at site 1. (Site 2 must not initiate handshakes
        // to the client meanwhile, or the client never starts its own: see the lab's nft rule and docs/anycast.md.)
        var servedBySite1 = await any.WaitUntilClientTrafficAtAsync(s1, ClientTimeout);
        output.WriteLine($"client's WireGuard endpoint now: {await any.ClientEndpointAsync()}");
        output.WriteLine($"wireguard-go restored at site 1 -> client traffic served by site 1 again: {(servedBySite1 - repaired).TotalMilliseconds:0} ms");
        await PrintEventsAsync(any, s1, seq);
    }

    /// <summary>
    /// Unlike the wireguard-go kill above, the TUN stays (oper state Down, not NotPresent) and wireguard-go keeps
    /// running: the link-down event alone must withdraw, and the same interface coming back up must re-advertise.
    /// </summary>
    [SkippableFact]
    public async Task Site1_wireguard_link_set_down_withdraws_at_upstream_and_link_up_readvertises_after_rise()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        long seq = await LastEventSeqAsync(any, s1);

        var down = any.Now;
        (await any.Lab.ExecAsync(s1.Node, $"ip link set {s1.AnycastInterface} down")).EnsureSuccess();
        var moved = await any.WaitUntilUpstreamPrefersAsync(s2, RouteTimeout, since: down);
        var lost = await any.WaitUntilUpstreamHasPathAsync(s1, present: false, RouteTimeout);
        var events = await any.Api(s1).EventsAsync(seq);
        await PrintEventsAsync(any, s1, seq);
        var linkDown = Assert.Single(events, e => e.Source == EventSource.Link && e.Subject == s1.AnycastInterface && e.New == "Down");
        var withdrawn = Assert.Single(events, e => e.Source == EventSource.Vip && e.Subject == "web" && e.What == "state" && e.New == "Withdrawn");
        var written = Assert.Single(events, e => e.Source == EventSource.Writer && e.Subject == "vip:web" && e.What == "Withdraw");
        Assert.True(linkDown.Seq < withdrawn.Seq && withdrawn.Seq < written.Seq, "link down, then the decision, then the write");
        Assert.Contains("running", (await any.Lab.ExecAsync(s1.Node, $"pgrep -f 'wireguard-go -f {s1.AnycastInterface}' && echo running")).StdOut);
        output.WriteLine($"ip link set {s1.AnycastInterface} down at site 1 -> withdraw written by overlayd: {(written.Time - linkDown.Time).TotalMilliseconds:0} ms after its link event (overlayd clock)");
        output.WriteLine($"ip link set {s1.AnycastInterface} down at site 1 -> upstream kernel moved to site 2: {(moved - down).TotalMilliseconds:0} ms");
        output.WriteLine($"ip link set {s1.AnycastInterface} down at site 1 -> upstream BGP has no site 1 path (seen by poll): {(lost - down).TotalMilliseconds:0} ms");

        seq = await LastEventSeqAsync(any, s1);
        var up = any.Now;
        (await any.Lab.ExecAsync(s1.Node, $"ip link set {s1.AnycastInterface} up")).EnsureSuccess();
        var back = await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout, since: up);
        Assert.Contains(s1, await any.UpstreamBgpPathsAsync());
        events = await any.Api(s1).EventsAsync(seq);
        await PrintEventsAsync(any, s1, seq);
        // A TUN that is up reports IF_OPER_UNKNOWN (it has no carrier notion), which overlayd counts as up.
        var linkUp = Assert.Single(events, e => e.Source == EventSource.Link && e.Subject == s1.AnycastInterface && e.New is "Up" or "Unknown");
        var advertised = Assert.Single(events, e => e.Source == EventSource.Vip && e.Subject == "web" && e.What == "state" && e.New == "Advertised");
        Assert.Contains(events, e => e.Source == EventSource.Vip && e.Subject == "web" && e.What == "state" && e.New == "PendingAdvertise" && e.Seq < advertised.Seq);
        output.WriteLine($"ip link set {s1.AnycastInterface} up at site 1 -> overlayd advertised: {(advertised.Time - linkUp.Time).TotalMilliseconds:0} ms after its link event (handshake + BFD up + rise 3 x 100 ms)");
        output.WriteLine($"ip link set {s1.AnycastInterface} up at site 1 -> upstream back on site 1: {(back - up).TotalMilliseconds:0} ms");
    }

    [SkippableFact]
    public async Task Overlayd_killed_at_site1_lease_dies_upstream_loses_site1_path()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));

        var broke = any.Now;
        any.Overlayd(s1).Kill();
        var moved = await any.WaitUntilUpstreamPrefersAsync(s2, RouteTimeout, since: broke);
        var lost = await any.WaitUntilUpstreamHasPathAsync(s1, present: false, RouteTimeout);
        Assert.Equal("", (await any.Lab.ExecAsync(s1.Node, $"ip link show {topo.LeaseInterface(s1)} 2>/dev/null")).StdOut.Trim());
        output.WriteLine($"overlayd SIGKILL at site 1 -> upstream kernel moved to site 2: {(moved - broke).TotalMilliseconds:0} ms");
        output.WriteLine($"overlayd SIGKILL at site 1 -> upstream BGP has no site 1 path (seen by poll): {(lost - broke).TotalMilliseconds:0} ms");

        var restarted = any.Now;
        any.StartOverlayd(s1);
        var back = await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout, since: restarted);
        output.WriteLine($"overlayd restarted at site 1 -> upstream back on site 1: {(back - restarted).TotalMilliseconds:0} ms (process start + rise)");
        await PrintEventsAsync(any, s1, 0);
    }

    internal static async Task<long> LastEventSeqAsync(AnycastLab any, AnycastSite site)
    {
        var events = await any.Api(site).EventsAsync();
        return events.Count == 0 ? 0 : events[^1].Seq;
    }

    internal async Task PrintEventsAsync(AnycastLab any, AnycastSite site, long since)
    {
        foreach (var e in await any.Api(site).EventsAsync(since))
            output.WriteLine($"  {site.Name} overlayd #{e.Seq} {e.Time:HH:mm:ss.fff} {e.Line()}");
    }
}

internal static class AnycastSkip
{
    public static void IfUnavailable()
    {
        string? why = LabPreflight.MissingRequirements();
        Skip.If(why is not null, why);
        Skip.If(OverlaydBinary.Find() is null, $"overlayd.dll was not built beside the tests (set {OverlaydBinary.EnvironmentVariable})");
    }
}

/// <summary>Scenario labs are heavy (four namespaces, eleven FRR daemons, two overlayd): one at a time on a 2-core machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AnycastLabCollection
{
    public const string Name = "anycast-lab";
}
