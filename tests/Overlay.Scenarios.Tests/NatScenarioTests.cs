using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Overlay.Core.Inventories;
using Overlay.Core.Render;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Overlay.Core.Events;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// A spoke behind a real NAT (nftables masquerade in its own namespace, UDP conntrack timeout 8 s) and a hub, over
/// real wireguard-go; the hub's real overlayd where the story needs it. What is asserted is behaviour: who can reach
/// whom, which mapping exists, what overlayd says. How long things took is printed (for docs/nat.md), never asserted.
/// </summary>
public sealed class NatScenarioTests(ITestOutputHelper output)
{
    /// <summary>The lab NAT's UDP timeout: short so the story takes seconds, not minutes.</summary>
    private static readonly TimeSpan NatTimeout = TimeSpan.FromSeconds(8);
    private static readonly NatOptions Nat = new() { UdpTimeout = NatTimeout, RandomPorts = true };
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static string? Missing()
    {
        if (LabPreflight.MissingRequirements() is { } m) return m;
        return File.Exists("/usr/sbin/nft") || File.Exists("/usr/bin/nft") ? null : "nft (nftables) is not installed; the lab NAT needs it";
    }

    [SkippableFact]
    public async Task Without_keepalive_the_hub_loses_the_spoke_when_the_mapping_expires_and_the_rendered_keepalive_keeps_it()
    {
        string? missing = Missing();
        Skip.If(missing is not null, missing);
        await using var nat = await NatLab.StartAsync(NatTopology.Create(Nat));
        var (lab, topo) = (nat.Lab, nat.Topology);
        var (spoke, hub, tunnel) = (topo.Spoke, topo.Hub, topo.Tunnel);
        output.WriteLine($"lab {lab.RunId} up; NAT UDP timeout {NatTimeout.TotalSeconds:0} s, random ports; load {Load()}");
        try
        {
            // The hub learned the spoke's public address from the handshake: the NAT's outside address.
            var first = await lab.WireGuardEndpointAsync(tunnel, hub);
            Assert.NotNull(first);
            Assert.Equal(topo.Nat.PublicAddress, first!.Address);
            var mapping = await nat.SpokeMappingAsync();
            Assert.NotNull(mapping);
            output.WriteLine($"mapping: {mapping}; hub sends to {first}");

            // No keepalive: the spoke goes quiet. Watch (read-only, no traffic) until the mapping is gone and WireGuard's
            // own timers can no longer reopen it (see WaitUntilQuietAndUnmappedAsync).
            var quiet = await WaitUntilQuietAndUnmappedAsync(nat);
            output.WriteLine($"MEASURE no keepalive: last reading of the mapping said {quiet.LastLeft} s left at +{quiet.LastSeen.TotalSeconds:0.0} s; " +
                             $"gone at +{quiet.Gone.TotalSeconds:0.0} s (expected +{(quiet.LastSeen + TimeSpan.FromSeconds(quiet.LastLeft)).TotalSeconds:0.0} s; one poll takes ~{quiet.PollPeriod.TotalSeconds:0.0} s under load); " +
                             $"the spoke last sent at +{quiet.LastTx.TotalSeconds:0.0} s");

            // The hub still has an endpoint and a session, but its packets die at the NAT: nothing reaches the spoke.
            var spokeRxBefore = (await lab.WireGuardTransferAsync(tunnel, spoke)).Rx;
            Assert.False(await lab.PingAsync(hub, topo.SpokeOverlay), "the hub reached the spoke through an expired mapping");
            Assert.Equal(spokeRxBefore, (await lab.WireGuardTransferAsync(tunnel, spoke)).Rx);
            var dead = (await lab.NatMappingsAsync(topo.Nat)).Where(m => m.Source.Address.Equals(topo.HubUnderlay) && !m.Replied).ToList();
            output.WriteLine($"at the NAT, the hub's packets: {string.Join("; ", dead)}");
            Assert.Contains(dead, m => m.Destination.Address.Equals(topo.Nat.PublicAddress));

            // Until the spoke sends: then a new mapping (a new public port) and the hub roams to it.
            Assert.True(await lab.PingAsync(spoke, topo.HubOverlay), "the spoke could not reach the hub");
            var after = await lab.WireGuardEndpointAsync(tunnel, hub);
            output.WriteLine($"the spoke spoke: hub now sends to {after} (was {first})");
            Assert.True(await PingUntilAsync(lab, hub, topo.SpokeOverlay), "the hub could not reach the spoke after it spoke");

            // With the keepalive render emits for this NAT's timeout (inventory: natUdpTimeout 8s), on both ends as rendered.
            var keepalive = RenderedKeepalive(topo);
            output.WriteLine($"render: PersistentKeepalive = {keepalive.TotalSeconds:0} for a NAT UDP timeout of {NatTimeout.TotalSeconds:0} s");
            Assert.True(keepalive > TimeSpan.Zero && keepalive < NatTimeout, $"render chose keepalive {keepalive} for a {NatTimeout} NAT timeout");
            await lab.SetPersistentKeepaliveAsync(tunnel, spoke, keepalive);
            await lab.SetPersistentKeepaliveAsync(tunnel, hub, keepalive);
            var held = await Poll.UntilAsync("a mapping for the spoke", async c => await nat.SpokeMappingAsync(c) is not null, Deadline);
            var kept = (await nat.SpokeMappingAsync())!;
            var endpoint = await lab.WireGuardEndpointAsync(tunnel, hub);

            // Idle (no traffic but keepalives) for three NAT timeouts: the mapping is never lost, nor replaced.
            var idle = Stopwatch.StartNew();
            var idleFor = 3 * NatTimeout;
            while (idle.Elapsed < idleFor)
            {
                var now = await nat.SpokeMappingAsync();
                Assert.True(now is not null, $"the mapping vanished after {idle.Elapsed.TotalSeconds:0.0} s of idle with keepalive {keepalive.TotalSeconds:0} s");
                Assert.Equal(kept.ReplyDestination, now!.ReplyDestination);
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
            Assert.Equal(endpoint, await lab.WireGuardEndpointAsync(tunnel, hub));
            Assert.True(await lab.PingAsync(hub, topo.SpokeOverlay), $"after {idleFor.TotalSeconds:0} s idle with keepalive the hub could not reach the spoke");
            output.WriteLine($"MEASURE keepalive {keepalive.TotalSeconds:0} s: mapping {kept.ReplyDestination} held through {idleFor.TotalSeconds:0} s idle; the hub reached the spoke at once; load {Load()}");
        }
        catch (Exception) { output.WriteLine(await nat.DiagnosticsAsync()); throw; }
    }

    [SkippableFact]
    public async Task Nat_rebinding_roams_without_a_flap_and_a_dead_mapping_stalls_rx_until_it_returns()
    {
        string? missing = Missing();
        Skip.If(missing is not null, missing);
        Skip.If(OverlaydBinary.Find() is null || Overlayctl.Find() is null,
            $"overlayd/overlayctl not built next to the tests (set {OverlaydBinary.EnvironmentVariable} / {Overlayctl.EnvironmentVariable})");

        await using var nat = await NatLab.StartAsync(NatTopology.Create(Nat));
        var (lab, topo) = (nat.Lab, nat.Topology);
        var (spoke, hub, tunnel) = (topo.Spoke, topo.Hub, topo.Tunnel);
        // Keepalive as render emits it for this NAT, on both ends; rx is declared stalled after three keepalives without rx.
        var keepalive = RenderedKeepalive(topo);
        var rxStallAfter = 3 * keepalive;
        await lab.SetPersistentKeepaliveAsync(tunnel, spoke, keepalive);
        await lab.SetPersistentKeepaliveAsync(tunnel, hub, keepalive);
        await nat.StartHubOverlaydAsync(keepalive, rxStallAfter);
        output.WriteLine($"lab {lab.RunId} up; keepalive {keepalive.TotalSeconds:0} s, rxStallAfter {rxStallAfter.TotalSeconds:0} s; load {Load()}");
        string ifname = tunnel.InterfaceB;
        try
        {
            // overlayd on the hub sees the NATed spoke: healthy, at the NAT's public address.
            await Poll.UntilAsync("overlayd: the tunnel to the spoke is healthy", async c =>
                (await nat.PeerAsync(c)).GetProperty("healthy").GetBoolean(), Deadline, TimeSpan.FromMilliseconds(500));
            var before = (await nat.PeerAsync()).GetProperty("endpoint").GetString();
            Assert.StartsWith(topo.Nat.PublicAddress + ":", before);
            long since = (await nat.Api.EventsAsync()).Select(e => e.Seq).DefaultIfEmpty(0).Max();

            // 1. Rebinding: the NAT forgets every mapping (as a reboot or a CGNAT port reassignment does).
            var sw = Stopwatch.StartNew();
            await lab.FlushConntrackAsync(topo.Nat);
            var wgRoamed = await Poll.UntilAsync("the hub's WireGuard roams to a new public port", async c =>
                (await lab.WireGuardEndpointAsync(tunnel, hub, c))?.ToString() is { } ep && ep != before, Deadline, TimeSpan.FromMilliseconds(50));
            var now = (await lab.WireGuardEndpointAsync(tunnel, hub))!.ToString();
            OverlayEvent? roam = null;
            var eventSeen = await Poll.UntilAsync("overlayd's endpoint event", async c =>
            {
                roam = (await nat.Api.EventsAsync(since, c)).FirstOrDefault(e => e.Subject == ifname && e.What == "endpoint" && e.New == now);
                return roam is not null;
            }, Deadline, TimeSpan.FromMilliseconds(100));
            output.WriteLine($"MEASURE rebinding: WireGuard roamed {wgRoamed.TotalSeconds:0.0} s after the flush ({before} -> {now}); overlayd event after {eventSeen.TotalSeconds:0.0} s: {roam}");
            Assert.Equal(before, roam!.Old);
            var peers = await nat.OverlayctlAsync(["peers"]);
            output.WriteLine($"overlayctl peers:\n{peers.StdOut}");
            Assert.Contains(now, peers.StdOut);
            Assert.True(await lab.PingAsync(hub, topo.SpokeOverlay), "the hub could not reach the spoke after rebinding");

            // Nothing flaps: for a whole rx-stall period after the flush the tunnel stays healthy, with no health event.
            while (sw.Elapsed < rxStallAfter + TimeSpan.FromSeconds(3))
            {
                Assert.True((await nat.PeerAsync()).GetProperty("healthy").GetBoolean(), $"the tunnel went unhealthy {sw.Elapsed.TotalSeconds:0.0} s after the rebinding");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
            var events = await nat.Api.EventsAsync(since);
            Assert.DoesNotContain(events, e => e.Subject == ifname && e.What == "health");

            // 2. The mapping is gone and nothing passes the NAT for a while: the spoke's keepalives stop arriving.
            since = events.Select(e => e.Seq).DefaultIfEmpty(since).Max();
            sw.Restart();
            await lab.SetNatBlockedAsync(topo.Nat, blocked: true);
            await lab.FlushConntrackAsync(topo.Nat);
            OverlayEvent? down = null;
            var stalled = await Poll.UntilAsync("overlayd marks the tunnel unhealthy (rx stalled)", async c =>
            {
                down = (await nat.Api.EventsAsync(since, c)).FirstOrDefault(e => e.Subject == ifname && e.What == "health" && e.New == "unhealthy");
                return down is not null;
            }, rxStallAfter + Deadline, TimeSpan.FromMilliseconds(200));
            output.WriteLine($"MEASURE rx stall: unhealthy {stalled.TotalSeconds:0.0} s after the NAT went dark (rxStallAfter {rxStallAfter.TotalSeconds:0} s): {down}");
            Assert.Contains("no rx for", down!.Reason);
            var sick = await nat.PeerAsync();
            Assert.False(sick.GetProperty("healthy").GetBoolean());
            Assert.Contains(sick.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("no rx for", StringComparison.Ordinal));

            // 3. The NAT passes traffic again: the spoke's next keepalive makes a new mapping and rx resumes.
            since = down.Seq;
            sw.Restart();
            await lab.SetNatBlockedAsync(topo.Nat, blocked: false);
            OverlayEvent? up = null;
            var back = await Poll.UntilAsync("overlayd marks the tunnel healthy again", async c =>
            {
                up = (await nat.Api.EventsAsync(since, c)).FirstOrDefault(e => e.Subject == ifname && e.What == "health" && e.New == "healthy");
                return up is not null;
            }, Deadline, TimeSpan.FromMilliseconds(200));
            output.WriteLine($"MEASURE recovery: healthy {back.TotalSeconds:0.0} s after the NAT passed traffic again: {up}; load {Load()}");
            Assert.True((await nat.PeerAsync()).GetProperty("healthy").GetBoolean());
            Assert.True(await PingUntilAsync(lab, hub, topo.SpokeOverlay), "the hub could not reach the spoke after the NAT came back");
        }
        catch (Exception) { output.WriteLine(await nat.DiagnosticsAsync()); throw; }
    }

    private sealed record Quiet(TimeSpan LastTx, TimeSpan LastSeen, int LastLeft, TimeSpan Gone, TimeSpan PollPeriod);

    /// <summary>
    /// Polls (reading the NAT's table and the spoke's counters, sending nothing) until the NAT has no mapping for the
    /// spoke and the spoke has been silent long enough that WireGuard's own timers cannot send again: a passive
    /// keepalive goes out 10 s after data was received (the last data can arrive until the mapping expires), and a new
    /// handshake 15 s after data was sent without an answer (the hub's passive keepalive dies at the NAT when the
    /// timeout is under 10 s, so that handshake comes and reopens the mapping once more). Times are on one clock
    /// started here.
    /// </summary>
    private async Task<Quiet> WaitUntilQuietAndUnmappedAsync(NatLab nat)
    {
        var silentFor = NatTimeout + TimeSpan.FromSeconds(11) > TimeSpan.FromSeconds(16) ? NatTimeout + TimeSpan.FromSeconds(11) : TimeSpan.FromSeconds(16);
        var clock = Stopwatch.StartNew();
        long tx = -1;
        int polls = 0;
        var q = new Quiet(TimeSpan.Zero, TimeSpan.Zero, 0, TimeSpan.Zero, TimeSpan.Zero);
        await Poll.UntilAsync("the spoke silent and its mapping gone", async c =>
        {
            polls++;
            var t = (await nat.Lab.WireGuardTransferAsync(nat.Topology.Tunnel, nat.Topology.Spoke, c)).Tx;
            if (t != tx) { tx = t; q = q with { LastTx = clock.Elapsed }; }
            if (await nat.SpokeMappingAsync(c) is { } m) q = q with { LastSeen = clock.Elapsed, LastLeft = m.SecondsLeft, Gone = TimeSpan.Zero };
            else if (q.Gone == TimeSpan.Zero) q = q with { Gone = clock.Elapsed };
            return q.Gone > TimeSpan.Zero && clock.Elapsed - q.LastTx > silentFor;
        }, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(100));
        return q with { PollPeriod = clock.Elapsed / Math.Max(1, polls) };
    }

    private static async Task<bool> PingUntilAsync(RunningLab lab, LabNode from, IPAddress to)
    {
        try
        {
            await Poll.UntilAsync($"ping {to} from {from}", c => lab.PingAsync(from, to, c), TimeSpan.FromSeconds(20));
            return true;
        }
        catch (TimeoutException) { return false; }
    }

    /// <summary>The spoke's PersistentKeepalive as render writes it for the lab described as an inventory (nat: true, natUdpTimeout = the lab NAT's timeout).</summary>
    private static TimeSpan RenderedKeepalive(NatTopology topo)
    {
        var parsed = InventoryParser.Parse(topo.InventoryYaml(), "nat-lab.yaml");
        var inv = parsed.Inventory ?? throw new InvalidOperationException("the lab inventory does not parse: " + string.Join("; ", parsed.Diagnostics));
        var file = Renderer.Render(inv, "spoke").Single(f => f.RelativePath.StartsWith("spoke/wireguard/", StringComparison.Ordinal));
        var m = Regex.Match(file.Content, @"^PersistentKeepalive = (\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, "render wrote no PersistentKeepalive for the NATed spoke:\n" + file.Content);
        return TimeSpan.FromSeconds(int.Parse(m.Groups[1].Value));
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
