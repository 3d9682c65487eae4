using Microsoft.Extensions.Logging;
using Overlay.Lab.Scenarios;
using Overlay.Core.Events;

namespace Overlay.Lab.Demo;

/// <summary>
/// "overlay-lab demo": the anycast lab with a real overlayd per site. Breaks site 1 three times and prints a timeline:
/// what broke, what site 1's overlayd saw (its /v1/events), when the upstream's route moved and when the client's
/// traffic came back, in ms from the fault. The first break meets a stock WireGuard client; then the client starts
/// overlayd with its session watchdog, and the same break shows the watchdog's reset, the new handshake with site 2
/// and the pings returning; the summary compares the two.
/// </summary>
internal sealed class AnycastDemo(TextWriter console, ILogger log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        console.WriteLine($"anycast demo: VIP {AnycastTopology.Vip} at sites s1 and s2 (same WireGuard key), upstream u prefers s1, client c tunnels to the VIP");
        await using var any = await AnycastLab.StartAsync(topo, log, ct);
        console.WriteLine($"lab {any.Lab.RunId} converged in {any.Now.TotalMilliseconds:0} ms (files in {any.Lab.RunDirectory})");
        console.WriteLine($"  u: {await any.UpstreamVipRouteAsync(ct)}");
        console.WriteLine($"  client's tunnel is at {(await any.ClientSiteAsync(ct))?.Name}");

        // 1. wireguard-go dies at s1; the client is a stock WireGuard client (no overlayd on it).
        long seq = await LastSeqAsync(any, s1, ct);
        var (broke, brokeAt) = (any.Now, DateTimeOffset.UtcNow);
        Header("kill -9 wireguard-go (" + s1.AnycastInterface + ") at s1; the client runs stock WireGuard", brokeAt);
        any.SiteWireGuard(s1).Kill();
        var moved = await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, ct, broke);
        await PrintEventsAsync(any, s1, seq, brokeAt, ct);
        Line(moved - broke, "u: VIP route moved to s2  (" + await any.UpstreamVipRouteAsync(ct) + ")");
        var resumed = await any.WaitUntilClientPingsAsync(Timeout, ct);
        var stock = resumed - broke;
        Line(stock, $"client: ping through the tunnel answered again, now by {(await any.ClientSiteAsync(ct))?.Name} (stock WireGuard re-handshakes only after 10 s + 5 s of unanswered data)");

        // The client starts overlayd with the session watchdog on its tunnel to the VIP.
        console.WriteLine();
        console.WriteLine("client c starts overlayd with the session watchdog on its tunnel (echo to 10.99.0.1 every 100 ms, reset after 3 misses)");
        await any.StartClientOverlaydAsync(ct);
        seq = await LastSeqAsync(any, s1, ct);
        long cseq = await ClientSeqAsync(any, ct);
        (broke, brokeAt) = (any.Now, DateTimeOffset.UtcNow);
        Header("restart wireguard-go at s1", brokeAt);
        await any.RestoreSiteWireGuardAsync(s1, ct);
        var back = await any.WaitUntilUpstreamPrefersAsync(s1, Timeout, ct, broke);
        await PrintEventsAsync(any, s1, seq, brokeAt, ct);
        Line(back - broke, "u: VIP route back on s1 (after rise = 3 healthy evaluations)");
        var home = await any.WaitUntilClientTrafficAtAsync(s1, Timeout, ct);
        await PrintClientEventsAsync(any, cseq, brokeAt, ct);
        Line(home - broke, "client: ping answered by s1 again (the watchdog moved the session back)");

        // 2. The same break, now with the watchdog on the client.
        seq = await LastSeqAsync(any, s1, ct);
        cseq = await ClientSeqAsync(any, ct);
        (broke, brokeAt) = (any.Now, DateTimeOffset.UtcNow);
        Header("kill -9 wireguard-go (" + s1.AnycastInterface + ") at s1; the client runs overlayd's session watchdog", brokeAt);
        any.SiteWireGuard(s1).Kill();
        moved = await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, ct, broke);
        resumed = await any.WaitUntilClientPingsAsync(Timeout, ct);
        var watched = resumed - broke;
        await PrintEventsAsync(any, s1, seq, brokeAt, ct);
        Line(moved - broke, "u: VIP route moved to s2");
        await PrintClientEventsAsync(any, cseq, brokeAt, ct);
        Line(watched, $"client: ping through the tunnel answered again, now by {(await any.ClientSiteAsync(ct))?.Name}");

        seq = await LastSeqAsync(any, s1, ct);
        (broke, brokeAt) = (any.Now, DateTimeOffset.UtcNow);
        Header("restart wireguard-go at s1", brokeAt);
        await any.RestoreSiteWireGuardAsync(s1, ct);
        back = await any.WaitUntilUpstreamPrefersAsync(s1, Timeout, ct, broke);
        Line(back - broke, "u: VIP route back on s1");
        home = await any.WaitUntilClientTrafficAtAsync(s1, Timeout, ct);
        Line(home - broke, "client: ping answered by s1 again");

        // 3. overlayd dies at s1: its TUN lease (the static route's nexthop) dies with it; s1's wireguard-go lives on.
        cseq = await ClientSeqAsync(any, ct);
        (broke, brokeAt) = (any.Now, DateTimeOffset.UtcNow);
        Header("kill -9 overlayd at s1", brokeAt);
        any.Overlayd(s1).Kill();
        moved = await any.WaitUntilUpstreamPrefersAsync(s2, Timeout, ct, broke);
        Line(moved - broke, "u: VIP route moved to s2 (the kernel deleted the lease TUN, zebra dropped the static route, bgpd withdrew)");
        resumed = await any.WaitUntilClientPingsAsync(Timeout, ct);
        await PrintClientEventsAsync(any, cseq, brokeAt, ct);
        // s1's wireguard-go still runs and still holds a session with the client; the answer comes from where the route points.
        Line(resumed - broke, $"client: ping answered again, by {topo.SiteOfRoute(await any.UpstreamVipRouteAsync(ct) + " ")?.Name} (where the upstream routes the VIP)");

        console.WriteLine();
        console.WriteLine("timeline at u (ip monitor route; ms on the lab clock, which started when the namespaces were up):");
        foreach (var (at, line) in any.UpstreamVip.Changes) console.WriteLine($"  {at.TotalMilliseconds,9:0}  {line}");
        console.WriteLine();
        console.WriteLine($"summary: wireguard-go killed at the serving site -> client traffic answered again after {stock.TotalMilliseconds:0} ms with a stock "
            + $"WireGuard client, {watched.TotalMilliseconds:0} ms with overlayd's session watchdog on the client ({stock / watched:0.0}x sooner; same lab, same fault).");
        console.WriteLine("  Clients that do not run overlayd (phones, laptops with stock WireGuard) keep the stock time: about 15 s after the fault, "
            + "whatever the sites do (docs/anycast.md, \"Clients we do not manage\").");
        console.WriteLine();
        console.WriteLine("tearing down…");
        return 0;
    }

    private void Header(string what, DateTimeOffset at)
    {
        console.WriteLine();
        console.WriteLine($"== {at:HH:mm:ss.fff} BREAK: {what}");
    }

    private void Line(TimeSpan after, string what) => console.WriteLine($"  +{after.TotalMilliseconds,6:0} ms  {what}");

    private static async Task<long> LastSeqAsync(AnycastLab any, AnycastSite site, CancellationToken ct)
    {
        var e = await any.Api(site).EventsAsync(0, ct);
        return e.Count == 0 ? 0 : e[^1].Seq;
    }

    /// <summary>A "handshake completed" event carries the handshake's own time ("at HH:mm:ss.fff, …"); the event itself is appended on the watchdog's next pass.</summary>
    private static DateTimeOffset HandshakeTime(OverlayEvent e, DateTimeOffset from)
    {
        if (e.What == "handshake completed" && e.Reason is { Length: > 15 } r && r.StartsWith("at ", StringComparison.Ordinal)
            && TimeSpan.TryParseExact(r[3..15], @"hh\:mm\:ss\.fff", System.Globalization.CultureInfo.InvariantCulture, out var tod))
        {
            var at = new DateTimeOffset(e.Time.UtcDateTime.Date + tod, TimeSpan.Zero);
            if (Math.Abs((at - e.Time).TotalHours) < 1) return at;
        }
        return e.Time;
    }

    private static async Task<long> ClientSeqAsync(AnycastLab any, CancellationToken ct) =>
        (await any.ClientApi.EventsAsync(0, ct)).LastOrDefault()?.Seq ?? 0;

    private async Task PrintEventsAsync(AnycastLab any, AnycastSite site, long since, DateTimeOffset from, CancellationToken ct)
    {
        try
        {
            foreach (var e in await any.Api(site).EventsAsync(since, ct))
                Line(e.Time - from, $"{site.Name} overlayd: {e.Line()}");
        }
        catch (HttpRequestException e)
        {
            console.WriteLine($"  ({site.Name} overlayd's API did not answer: {e.Message})");
        }
    }

    /// <summary>The client's watchdog: when it reset the session, when the new handshake completed (its own time), when echoes came back.</summary>
    private async Task PrintClientEventsAsync(AnycastLab any, long since, DateTimeOffset from, CancellationToken ct)
    {
        var lines = new List<(DateTimeOffset At, string What)>();
        foreach (var e in await any.ClientApi.EventsAsync(since, ct))
        {
            if (e.Source != EventSource.WireGuard && e.Source != EventSource.Writer) continue;
            string what = e.What switch
            {
                var w when w.StartsWith("session reset #", StringComparison.Ordinal) => $"watchdog fired: {w} ({e.Reason})",
                "handshake completed" => $"handshake completed ({e.Reason}; listed at the handshake's own time)",
                "watchdog recovered" => $"watchdog: echoes answered again ({e.Reason})",
                _ => e.Line(),
            };
            lines.Add((HandshakeTime(e, from), "c overlayd: " + what));
        }
        foreach (var (at, what) in lines.OrderBy(l => l.At)) Line(at - from, what);
    }
}
