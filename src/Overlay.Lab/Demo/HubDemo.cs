using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Overlay.Lab.Scenarios;
using Overlay.Core.Events;

namespace Overlay.Lab.Demo;

/// <summary>
/// "overlay-lab demo hub": the hub-and-spoke lab (<see cref="HubLab"/>, the scenario test's code path) built from
/// render's output, with the real overlayd on each node. Cuts h1's underlay link to s1 and repairs it, and prints a timeline for each: what broke,
/// what s1's BFD and s1's overlayd (its /v1/events) saw, when s1's route to s2's LAN moved and when
/// <c>overlayctl explain</c> said so, in ms from the fault.
/// </summary>
internal sealed class HubDemo(TextWriter console, ILogger log)
{
    private static readonly TimeSpan Timeout = HubLab.ConvergeTimeout;
    /// <summary>How long to wait for s1's overlayd to judge the tunnel to h1 after the route moved: BFD comes up a few seconds after a repair, and with no VIPs the daemon reads FRR once a second.</summary>
    private static readonly TimeSpan DaemonReportTimeout = TimeSpan.FromSeconds(10);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var hs = HubSpokeTopology.Create();
        var d = hs.Inventory.Defaults;
        console.WriteLine($"hub demo: hubs h1 (OSPF cost {hs.PrimaryCost}) and h2 (cost {hs.SecondaryCost}), spokes s1 and s2, a wireguard-go tunnel per spoke-hub pair,");
        console.WriteLine($"          every node configured by what overlayctl render makes of the lab's inventory: OSPF (hello {d.OspfHello.TotalSeconds:0} s, dead {d.OspfDead.TotalSeconds:0} s)");
        console.WriteLine($"          + BFD ({d.BfdMinTx.TotalMilliseconds:0} ms x {d.BfdMultiplier}) on every tunnel, overlayd on every node; s1 reaches s2's LAN {hs.S2.Lan}");
        await using var hub = await HubLab.StartAsync(hs, log, ct);
        console.WriteLine($"rendered configuration applied from {hub.RenderedDirectory} (inventory {hub.InventoryPath})");
        try
        {
            await TellAsync(hub, ct);
        }
        catch (TimeoutException)
        {
            console.WriteLine();
            console.WriteLine("state before teardown:");
            console.WriteLine(await hub.DiagnosticsAsync(CancellationToken.None));
            throw;
        }
        console.WriteLine();
        console.WriteLine("tearing down…");
        return 0;
    }

    private async Task TellAsync(HubLab hub, CancellationToken ct)
    {
        var hs = hub.Topology;
        var s1 = hs.S1;
        using var route = RouteWatcher.Start(s1.Node, hs.S2.Lan, _clock);

        await hub.WaitUntilPrimaryReadyAsync(bfd: true, Timeout, ct);
        await hub.WaitUntilBfdAsync(s1, s1.ToSecondary, up: true, Timeout, ct: ct);
        console.WriteLine($"lab {hub.Lab.RunId} converged in {_clock.Elapsed.TotalMilliseconds:0} ms (files in {hub.Lab.RunDirectory})");
        console.WriteLine($"  s1$ ip route show {hs.S2.Lan}");
        console.WriteLine($"      {await hub.RouteAsync(ct)}");
        await hub.WaitUntilExplainViaAsync(hub.ViaPrimary, Timeout, ct);
        // With no VIPs to guard, s1's overlayd reads FRR once a second: wait until it too sees both tunnels healthy,
        // so that the timeline after the break shows only what the break caused.
        await Poll.UntilAsync("s1's overlayd sees both tunnels healthy", async c =>
        {
            var peers = (await hub.Api(s1).StatusAsync(c)).GetProperty("peers").EnumerateArray().ToList();
            return peers.Count > 0 && peers.All(p => p.GetProperty("healthy").GetBoolean());
        }, Timeout, ct: ct);
        await PrintExplainAsync(hub, findings: true, ct);

        // The fault: h1's side of the s1-h1 underlay goes down. Both tunnel interfaces stay up and go silent, so
        // nothing tells s1 but its own BFD.
        string veth = s1.ToPrimary.Underlay.InterfaceOf(hs.H1);
        var failover = await FaultAsync(hub, route, $"BREAK: h1's underlay link to s1 cut (ip link set {veth} down, in h1)",
            $"ip link set {veth} down: the tunnel s1-h1 ({hub.ViaPrimary}) goes silent", () => hub.BreakPrimaryAsync(HubBreak.UnderlayDown, ct),
            bfdUp: false, via: (hub.ViaSecondary, "h2"), ct);
        await PrintExplainAsync(hub, findings: false, ct);

        // The repair: the underlay comes back; OSPF re-forms over the tunnel (hello 1 s) and the cheaper path wins again.
        var restore = await FaultAsync(hub, route, $"REPAIR: h1's underlay link to s1 back up (ip link set {veth} up, in h1)",
            $"ip link set {veth} up", () => hub.RestorePrimaryAsync(HubBreak.UnderlayDown, ct),
            bfdUp: true, via: (hub.ViaPrimary, "h1"), ct);

        console.WriteLine();
        console.WriteLine($"summary: s1's route to s2's LAN moved to h2 {failover.TotalMilliseconds:0} ms after h1's underlay was cut, " +
                          $"and was back via h1 {restore.TotalMilliseconds:0} ms after the repair");
        console.WriteLine("notes: s1's overlayd, with no VIPs to guard, reads FRR once a second, so its lines lag FRR's by up to 1 s; OSPF");
        console.WriteLine("       deletes its BFD session with a dead neighbor (overlayd: 'absent'), so after the repair a new one comes up (Down, Init, Up);");
        console.WriteLine("       overlayctl's times include starting a process per poll (a few hundred ms on a busy machine).");
    }

    /// <summary>
    /// Applies one fault (or repair) and prints its timeline: s1's BFD session to h1 reaching the expected state, s1's
    /// route to s2's LAN leaving via <paramref name="via"/>, <c>overlayctl explain</c> saying so, and what s1's
    /// overlayd reported meanwhile. Returns when the kernel route moved, from the fault.
    /// </summary>
    private async Task<TimeSpan> FaultAsync(HubLab hub, RouteWatcher route, string header, string action, Func<Task> apply,
        bool bfdUp, (string Dev, string Hub) via, CancellationToken ct)
    {
        var hs = hub.Topology;
        var s1 = hs.S1;
        var (t0, wall0, seq) = await MarkAsync(hub, ct);
        Header(header, wall0);
        var timeline = new Timeline(t0);
        timeline.Add(t0, "h1", action);
        await apply();
        // The watchers run side by side; when one fails, the others stop with it.
        using var phase = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            var bfd = hub.WaitUntilBfdAsync(s1, s1.ToPrimary, bfdUp, Timeout, _clock, phase.Token);
            var polled = await hub.WaitUntilRouteViaAsync(via.Dev, Timeout, _clock, phase.Token);
            // The monitor saw the change before the poll did.
            var moved = KernelChange(route, t0, via.Dev) ?? polled;
            timeline.Add(moved, "s1 kernel", $"{hs.S2.Lan} via {via.Hub} ({via.Dev})  [ip monitor route]");
            var explained = ExplainSaysAsync(hub, via.Dev, phase.Token);
            timeline.Add(await bfd, "s1 bfdd", $"session to h1 ({s1.ToPrimary.AddressOf(hs.H1)}) {(bfdUp ? "up" : "down")}  [polled over gRPC every 10 ms]");
            timeline.Add(await explained, "overlayctl", $"explain {hub.Destination} now says: peer {via.Hub} on {via.Dev}");
            await AddDaemonEventsAsync(hub, timeline, seq, wall0, healthy: bfdUp, ct);
            timeline.Print(console);
            return moved - t0;
        }
        finally
        {
            await phase.CancelAsync();
        }
    }

    /// <summary>The moment of a fault: the demo clock, the wall clock (overlayd's events carry wall time) and s1's last event number.</summary>
    private async Task<(TimeSpan Clock, DateTimeOffset Wall, long Seq)> MarkAsync(HubLab hub, CancellationToken ct)
    {
        var events = await hub.Api(hub.Topology.S1).EventsAsync(0, ct);
        return (_clock.Elapsed, DateTimeOffset.UtcNow, events.Count == 0 ? 0 : events[^1].Seq);
    }

    /// <summary>When "ip monitor route" saw s1's route to s2's LAN installed through <paramref name="dev"/> after <paramref name="since"/>.</summary>
    private static TimeSpan? KernelChange(RouteWatcher route, TimeSpan since, string dev) =>
        route.FirstChangeSince(since, l => !l.StartsWith("Deleted ", StringComparison.Ordinal) && l.Contains($" dev {dev} ", StringComparison.Ordinal));

    private async Task<TimeSpan> ExplainSaysAsync(HubLab hub, string dev, CancellationToken ct)
    {
        await hub.WaitUntilExplainViaAsync(dev, Timeout, ct);
        return _clock.Elapsed;
    }

    /// <summary>
    /// Waits (briefly) until s1's overlayd has judged its tunnel to h1 <paramref name="healthy"/> or not, then adds
    /// everything it reported since <paramref name="seq"/>; says so when it did not.
    /// </summary>
    private async Task AddDaemonEventsAsync(HubLab hub, Timeline timeline, long seq, DateTimeOffset wall0, bool healthy, CancellationToken ct)
    {
        var s1 = hub.Topology.S1;
        string verdict = healthy ? "healthy" : "unhealthy";
        IReadOnlyList<OverlayEvent> events = [];
        try
        {
            await Poll.UntilAsync($"s1's overlayd judges its tunnel to h1 {verdict}", async c =>
            {
                events = await hub.Api(s1).EventsAsync(seq, c);
                return events.Any(e => e.Subject == hub.ViaPrimary && e.What == "health" && e.New == verdict);
            }, DaemonReportTimeout, TimeSpan.FromMilliseconds(100), ct);
        }
        catch (TimeoutException)
        {
            timeline.Note($"(s1's overlayd did not judge its tunnel to h1 {verdict} within {DaemonReportTimeout.TotalSeconds:0} s)");
        }
        var names = HubNames(hub);
        foreach (var e in events)
            timeline.Add(timeline.Start + (e.Time - wall0), "s1 overlayd", Describe(e, names));
    }

    /// <summary>Interface names and tunnel/loopback addresses of s1's view, with the hub they lead to.</summary>
    private static Dictionary<string, string> HubNames(HubLab hub)
    {
        var hs = hub.Topology;
        var s1 = hs.S1;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [hub.ViaPrimary] = "h1", [hub.ViaSecondary] = "h2",
            [s1.ToPrimary.Underlay.InterfaceOf(s1.Node)] = "h1 underlay", [s1.ToSecondary.Underlay.InterfaceOf(s1.Node)] = "h2 underlay",
            [s1.ToPrimary.AddressOf(hs.H1).ToString()] = "h1", [s1.ToSecondary.AddressOf(hs.H2).ToString()] = "h2",
            [HubSpokeTopology.Loopback(hs.H1).ToString()] = "h1", [HubSpokeTopology.Loopback(hs.H2).ToString()] = "h2",
        };
    }

    private static string Describe(OverlayEvent e, Dictionary<string, string> names)
    {
        // "bfd 10.255.0.1 state Up -> Down" reads better as "bfd 10.255.0.1 [h1] state Up -> Down".
        string? hub = names.Where(n => e.Subject.Split(' ').Contains(n.Key)).Select(n => n.Value).FirstOrDefault();
        string change = e.Old is null && e.New is null ? "" : $" {e.Old ?? "-"} -> {e.New ?? "-"}";
        return $"{e.Subject}{(hub is null ? "" : $" [{hub}]")} {e.What}{change}{(e.Reason is null ? "" : $" ({e.Reason})")}";
    }

    /// <summary>Prints <c>overlayctl explain</c> as run on s1; without <paramref name="findings"/> only its summary rows.</summary>
    private async Task PrintExplainAsync(HubLab hub, bool findings, CancellationToken ct)
    {
        var r = await hub.OverlayctlAsync(["explain", hub.Destination], ct);
        console.WriteLine($"  s1$ overlayctl explain {hub.Destination}{(r.Code == 0 ? "" : $"   (exit {r.Code})")}");
        var lines = (r.StdOut + r.StdErr).TrimEnd().Split('\n');
        foreach (var line in findings ? lines : lines.TakeWhile(l => l.Length > 0))
            console.WriteLine(line.Length == 0 ? "" : "      " + line);
    }

    private void Header(string what, DateTimeOffset at)
    {
        console.WriteLine();
        console.WriteLine($"== {at:HH:mm:ss.fff} {what}");
    }

    /// <summary>One fault's lines, in time order, in ms from the fault.</summary>
    private sealed class Timeline(TimeSpan start)
    {
        private readonly List<(TimeSpan At, string Who, string What)> _lines = [];
        private readonly List<string> _notes = [];

        public TimeSpan Start => start;

        public void Add(TimeSpan at, string who, string what) => _lines.Add((at, who, what));

        public void Note(string text) => _notes.Add(text);

        public void Print(TextWriter console)
        {
            foreach (var (at, who, what) in _lines.OrderBy(l => l.At))
            {
                double ms = (at - start).TotalMilliseconds;
                // Same layout as the anycast demo's lines; an overlayd event stamped just before the fault keeps its sign.
                console.WriteLine($"  {(ms < 0 ? '-' : '+')}{Math.Abs(ms),6:0} ms  {who,-11}  {what}");
            }
            foreach (var n in _notes) console.WriteLine("  " + n);
        }
    }
}
