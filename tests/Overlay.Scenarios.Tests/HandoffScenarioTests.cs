using System.Text.Json;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Xunit;
using Xunit.Abstractions;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// Restarting and upgrading site 1's overlayd must not move the VIP at the upstream (issue #12): the leases (the TUNs
/// the VIP route points at) are handed to the next process instead of dying with the old one. Each story watches the
/// upstream's kernel route with "ip monitor route" and asserts it never changed during the restarts. Real overlayd
/// processes, real FRR, real wireguard-go; timings are printed, never asserted.
/// </summary>
[Collection(AnycastLabCollection.Name)]
public sealed class HandoffScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Operator_restarts_site1_overlayd_with_SIGUSR2_and_overlayctl_restart_and_the_upstream_never_sees_the_VIP_move()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var s1 = topo.Site1;
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        await using var handoff = new AnycastHandoff(any);
        await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout);
        var since = any.Now;
        int changesBefore = any.UpstreamVip.Changes.Count;

        for (int i = 1; i <= 3; i++)
        {
            var t = await handoff.SignalAsync(s1);
            output.WriteLine($"hand-off {i} (SIGUSR2): pid {t.OldPid} -> {t.NewPid}: successor ready {t.SignalToReady.TotalMilliseconds:0} ms after the signal "
                + $"(old process measured {t.ReportedReadyMs:0} ms), serving the API after {t.SignalToServing.TotalMilliseconds:0} ms");
            await AssertAdoptedAndAdvertisedAsync(any, s1);
        }
        var r = await handoff.OverlayctlRestartAsync(s1);
        output.WriteLine($"overlayctl restart: exit {r.Code}: {r.StdOut.Trim()}{r.StdErr.Trim()}");
        Assert.Equal(0, r.Code);
        await AssertAdoptedAndAdvertisedAsync(any, s1);

        var changes = any.UpstreamVip.Changes.Skip(changesBefore).ToList();
        foreach (var c in changes) output.WriteLine($"  upstream route change at {c.At.TotalMilliseconds:0} ms: {c.Line}");
        Assert.Empty(changes);
        Assert.Equal(s1, topo.SiteOfRoute(await any.UpstreamVipRouteAsync() + " "));
        output.WriteLine($"4 restarts over {(any.Now - since).TotalSeconds:0.0} s: 0 route changes at the upstream");
    }

    [SkippableFact]
    public async Task A_successor_that_cannot_start_leaves_the_old_process_in_charge_and_the_route_in_place()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var s1 = topo.Site1;
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        await using var handoff = new AnycastHandoff(any);
        await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout);
        int pid = await handoff.PidAsync(s1);
        int changesBefore = any.UpstreamVip.Changes.Count;

        // An upgrade that ships a configuration the new binary rejects: the new process exits at once.
        string config = File.ReadAllText(any.OverlaydConfigPath(s1));
        File.WriteAllText(any.OverlaydConfigPath(s1), config.Replace("rise: 3", "rise: many", StringComparison.Ordinal));
        var failed = await Assert.ThrowsAsync<LabException>(() => handoff.SignalAsync(s1));
        output.WriteLine("old process said: " + failed.Message);
        Assert.Contains("exited with code 2", failed.Message, StringComparison.Ordinal);
        Assert.Equal(pid, await handoff.PidAsync(s1)); // still in charge

        // Repaired, the same signal hands over.
        File.WriteAllText(any.OverlaydConfigPath(s1), config);
        var t = await handoff.SignalAsync(s1);
        output.WriteLine($"after the fix: pid {t.OldPid} -> {t.NewPid} ready after {t.SignalToReady.TotalMilliseconds:0} ms");
        await AssertAdoptedAndAdvertisedAsync(any, s1);
        Assert.Empty(any.UpstreamVip.Changes.Skip(changesBefore));
    }

    [SkippableFact]
    public async Task Under_a_service_manager_restart_keeps_the_route_stop_drains_and_a_crash_without_restart_withdraws()
    {
        AnycastSkip.IfUnavailable();
        var topo = AnycastTopology.Declare();
        var (s1, s2) = (topo.Site1, topo.Site2);
        await using var any = await AnycastLab.StartAsync(topo, new LineLogger(output.WriteLine));
        // Site 1's overlayd is run by the service-manager double from here on.
        await any.Overlayd(s1).StopAsync(TimeSpan.FromSeconds(10));
        var spec = OverlaydBinary.Spec(any.OverlaydConfigPath(s1));
        await using var sm = new ServiceManagerDouble(any.Lab, s1.Node, "overlayd", [spec.FileName, .. spec.Arguments], any.Clock);
        var started = await sm.StartAsync(StartTimeout);
        await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout);
        output.WriteLine($"started by the double: READY=1 after {started.TotalMilliseconds:0} ms; store: {string.Join(", ", sm.StoredNames)}");
        Assert.Equal([topo.LeaseInterface(s1)], sm.StoredNames);

        // systemctl restart (RestartKillSignal=SIGUSR1), three times: the lease fds wait in the store.
        int changesBefore = any.UpstreamVip.Changes.Count;
        for (int i = 1; i <= 3; i++)
        {
            var (exited, ready) = await sm.RestartAsync(StartTimeout);
            output.WriteLine($"restart {i}: old process exited {exited.TotalMilliseconds:0} ms after the signal, new one READY=1 after {ready.TotalMilliseconds:0} ms");
            await AssertAdoptedAndAdvertisedAsync(any, s1);
        }
        var changes = any.UpstreamVip.Changes.Skip(changesBefore).ToList();
        foreach (var c in changes) output.WriteLine($"  upstream route change at {c.At.TotalMilliseconds:0} ms: {c.Line}");
        Assert.Empty(changes);

        // systemctl stop: drains (withdraws through FRR, asks the manager to drop the fds), and the upstream moves.
        var stopAt = any.Now;
        await sm.StopAsync(TimeSpan.FromSeconds(30));
        var moved = await any.WaitUntilUpstreamPrefersAsync(s2, RouteTimeout, since: stopAt);
        Assert.Contains(sm.Messages, m => m.Message == $"FDSTOREREMOVE=1 FDNAME={topo.LeaseInterface(s1)}" && m.At >= stopAt);
        output.WriteLine($"stop: upstream moved to site 2 {(moved - stopAt).TotalMilliseconds:0} ms after SIGTERM");

        // Started again, then a crash the manager does not restart: the store is flushed, the TUN dies, the route goes.
        await sm.StartAsync(StartTimeout);
        await any.WaitUntilUpstreamPrefersAsync(s1, RouteTimeout);
        await AssertAdoptedOrHeldAsync(any, s1);
        var crashAt = any.Now;
        await sm.CrashAsync(restart: false, TimeSpan.FromSeconds(10));
        var withdrawn = await any.WaitUntilUpstreamPrefersAsync(s2, RouteTimeout, since: crashAt);
        output.WriteLine($"crash without restart: upstream moved to site 2 {(withdrawn - crashAt).TotalMilliseconds:0} ms after SIGKILL");
        foreach (var m in sm.Messages) output.WriteLine($"  notify {m.At.TotalMilliseconds:0} ms: {m.Message}");
    }

    /// <summary>The VIP's lease came from the previous process and the VIP is advertised, after a few evaluations of the new process.</summary>
    private async Task AssertAdoptedAndAdvertisedAsync(AnycastLab any, AnycastSite site)
    {
        await AssertAdoptedOrHeldAsync(any, site);
        var events = await any.Api(site).EventsAsync();
        Assert.Contains(events, e => e.What == "lease" && e.Old == "handed over" && e.New == "held");
        Assert.DoesNotContain(events, e => e.Subject == "web" && e.What == "state" && e.New is "Withdrawn" or "PendingAdvertise");
    }

    private static async Task AssertAdoptedOrHeldAsync(AnycastLab any, AnycastSite site)
    {
        // Several passes of the new process (poll, no sleep): the adopted VIP stayed advertised while health was re-judged.
        DateTimeOffset? first = null;
        await Poll.UntilAsync($"{site.Name}'s overlayd evaluated for 500 ms", async c =>
        {
            try
            {
                var s = await any.Api(site).StatusAsync(c);
                if (s.GetProperty("lastEvaluation").ValueKind != JsonValueKind.String) return false;
                var at = s.GetProperty("lastEvaluation").GetDateTimeOffset();
                first ??= at;
                return at > first.Value.AddMilliseconds(500);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException) { return false; }
        }, TimeSpan.FromSeconds(30));
        var vip = (await any.Api(site).StatusAsync()).GetProperty("vips")[0];
        Assert.Equal("Advertised", vip.GetProperty("state").GetString());
    }
}
