using System.Net;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Core.Tests.Render;
using Overlay.Tests.Shared;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Tests.Rotation.Execution;

public class RotationExecutorTests
{
    private static readonly WireGuardKey NewKey = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static Inventory HubSpoke()
    {
        var r = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, "hub-spoke.yaml")), "hub-spoke.yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    private static RotationPlans Plans(string node = "spoke1") =>
        RotationPlanner.Plan(HubSpoke(), node, new RotationOptions { NewPublicKey = NewKey });

    private readonly AutoAdvancingTimeProvider _clock = new();
    private readonly ScriptedProbe _probe = new();
    private readonly RecordingAgent _agent;

    public RotationExecutorTests() => _agent = new RecordingAgent(_clock);

    private RotationExecutor Executor(TimeSpan? timeout = null) => new(_agent, _probe, _clock, new RotationExecutionOptions
    {
        PhaseTimeout = timeout ?? TimeSpan.FromSeconds(30),
        PollInterval = TimeSpan.FromMilliseconds(100),
    });

    [Fact]
    public async Task Make_before_break_runs_phases_1_to_4_in_order_and_leaves_phase_5_to_the_operator()
    {
        var plan = Plans().MakeBeforeBreak;
        _probe.ChecksUntilMet[VerificationKind.OspfFull] = 4;   // adjacencies take a few polls
        var seen = new List<RotationEvent>();

        var result = await new RotationExecutor(_agent, _probe, _clock, new RotationExecutionOptions { OnEvent = seen.Add }).ExecuteAsync(plan);

        Assert.Equal(RotationOutcome.Completed, result.Outcome);
        Assert.Null(result.Failure);
        Assert.Equal([1, 2, 3, 4], result.PhasesCompleted);
        Assert.Equal([5], result.PhasesLeftToOperator);
        Assert.Equal(result.Events, seen);

        // Every change of phases 1-4 reached the agent, in plan order, and nothing from phase 5 or any rollback.
        int expected = plan.Phases.Take(4).Sum(p => p.Changes.Count);
        Assert.Equal(expected, _agent.Calls.Count);
        Assert.Equal("spoke1: Run test -s /etc/overlay/wg-private.key.new && wg pubkey < /etc/overlay/wg-private.key.new   # must print " + NewKey.ToBase64(), _agent.Calls[0]);
        Assert.Equal("spoke1: Write wr-s1-h1", _agent.Calls[1]);
        int firstUp = _agent.Calls.FindIndex(c => c.Contains(": Up "));
        int lastWrite = _agent.Calls.FindLastIndex(c => c.Contains(": Write "));
        int firstDown = _agent.Calls.FindIndex(c => c.Contains(": Down "));
        int costSwap = _agent.Calls.FindIndex(c => c.Contains("ip ospf cost 10 | exit | interface wg-s1-h1 |  ip ospf cost 65535"));
        Assert.True(lastWrite < firstUp && firstUp < costSwap && costSwap < firstDown, string.Join("\n", _agent.Calls));
        Assert.Contains("hub1: Down wg-h1-s1", _agent.Calls);

        // Each phase waited for all its verifications before the next started.
        foreach (var phase in plan.Phases.Take(4))
        {
            int completed = result.Events.ToList().FindIndex(e => e.Kind == RotationEventKind.PhaseCompleted && e.Phase == phase.Number);
            int met = result.Events.Count(e => e.Kind == RotationEventKind.VerificationMet && e.Phase == phase.Number);
            Assert.Equal(phase.WaitFor.Count, met);
            Assert.DoesNotContain(result.Events.Skip(completed), e => e.Phase < phase.Number && e.Kind != RotationEventKind.PhaseLeftToOperator);
        }
        Assert.All(plan.Phases[1].WaitFor.Where(v => v.Kind == VerificationKind.OspfFull), v => Assert.Equal(4, _probe.Checks[v]));
        Assert.True(result.Events.Zip(result.Events.Skip(1)).All(p => p.First.AtMs <= p.Second.AtMs));
        Assert.True(result.Events[^1].AtMs > 0);
    }

    [Fact]
    public async Task A_verification_that_never_holds_times_out_and_rolls_back_every_phase_done_in_reverse()
    {
        var plan = Plans().MakeBeforeBreak;
        _probe.ChecksUntilMet[VerificationKind.RouteVia] = null;   // routes never move

        var result = await Executor(TimeSpan.FromSeconds(20)).ExecuteAsync(plan);

        Assert.Equal(RotationOutcome.RolledBack, result.Outcome);
        Assert.Equal([1, 2], result.PhasesCompleted);
        Assert.Equal([4, 5], result.PhasesLeftToOperator);
        Assert.StartsWith("phase 3: 6 verification(s) not met within 20 s, first: [spoke1] RouteVia wr-s1-h1", result.Failure);
        Assert.Contains("last seen: check", result.Failure);

        var timedOut = result.Events.Single(e => e.Kind == RotationEventKind.VerificationTimedOut && e.Target == "RouteVia wr-s1-h1");
        long phase3Wait = result.Events.Last(e => e.Kind == RotationEventKind.ChangeApplied && e.Phase == 3).AtMs;
        Assert.InRange(timedOut.AtMs - phase3Wait, 20_000, 20_200);

        // Rollback: phase 3 (costs back), then 2 (interfaces down), then 1 (FRR blocks and files removed), each in its listed order.
        var rollback = _agent.Calls.Skip(plan.Phases.Take(3).Sum(p => p.Changes.Count)).ToList();
        var expected = new[] { 3, 2, 1 }.SelectMany(n => plan.Phases[n - 1].Rollback).Select(Describe).ToList();
        Assert.Equal(expected, rollback);
        Assert.Equal(new[] { 3, 2, 1 }, result.Events.Where(e => e.Kind == RotationEventKind.RollbackStarted).Select(e => e.Phase));
        Assert.DoesNotContain(_agent.Calls, c => c.Contains(": Down wg-"));   // the old tunnels were never touched
    }

    [Fact]
    public async Task A_failing_change_stops_the_phase_and_rolls_back_it_and_the_earlier_ones()
    {
        var plan = Plans().MakeBeforeBreak;
        _agent.FailWhen = c => c == "hub2: Up wr-h2-s1";

        var result = await Executor().ExecuteAsync(plan);

        Assert.Equal(RotationOutcome.RolledBack, result.Outcome);
        Assert.Equal([1], result.PhasesCompleted);
        Assert.Equal("phase 2: BringUp wr-h2-s1 on hub2 failed: injected failure: hub2: Up wr-h2-s1", result.Failure);
        Assert.DoesNotContain(result.Events, e => e.Kind == RotationEventKind.VerificationMet && e.Phase == 2);
        Assert.Equal(new[] { 2, 1 }, result.Events.Where(e => e.Kind == RotationEventKind.RollbackStarted).Select(e => e.Phase));
        Assert.Contains("spoke1: Down wr-s1-h1", _agent.Calls);
    }

    [Fact]
    public async Task A_failing_rollback_step_is_reported_and_the_rest_of_the_rollback_still_runs()
    {
        var plan = Plans().MakeBeforeBreak;
        _probe.ChecksUntilMet[VerificationKind.BfdUp] = null;
        _agent.FailWhen = c => c == "spoke1: Down wr-s1-h1";

        var result = await Executor(TimeSpan.FromSeconds(5)).ExecuteAsync(plan);

        Assert.Equal(RotationOutcome.RollbackIncomplete, result.Outcome);
        var failed = Assert.Single(result.Events, e => e.Kind == RotationEventKind.RollbackChangeFailed);
        Assert.Equal("TearDown wr-s1-h1", failed.Target);
        Assert.Contains("hub1: Down wr-h1-s1", _agent.Calls);
        Assert.Contains(_agent.Calls, c => c == "spoke1: Delete wr-s1-h1");
    }

    [Fact]
    public async Task Unreadable_state_counts_as_not_yet_until_the_deadline()
    {
        var plan = Plans().MakeBeforeBreak;
        _probe.ThrowWhen = v => v.Kind == VerificationKind.Configured;

        var result = await Executor(TimeSpan.FromSeconds(2)).ExecuteAsync(plan);

        Assert.Equal(RotationOutcome.RolledBack, result.Outcome);
        Assert.Contains("last seen: check failed: vty socket not there", result.Failure);
        Assert.All(plan.Phases[0].WaitFor, v => Assert.InRange(_probe.Checks[v], 20, 22));   // 2 s / 100 ms
    }

    [Fact]
    public async Task Cancellation_rolls_back_what_was_done()
    {
        var plan = Plans().MakeBeforeBreak;
        using var cts = new CancellationTokenSource();
        _agent.FailWhen = c => { if (c == "spoke1: Up wr-s1-h1") cts.Cancel(); return false; };

        var result = await Executor().ExecuteAsync(plan, cts.Token);

        Assert.Equal(RotationOutcome.RolledBack, result.Outcome);
        Assert.Contains("cancelled", result.Failure);
        Assert.Equal(new[] { 2, 1 }, result.Events.Where(e => e.Kind == RotationEventKind.RollbackStarted).Select(e => e.Phase));
    }

    [Fact]
    public async Task In_place_plan_runs_its_wg_commands_and_waits_for_the_new_handshakes()
    {
        var plan = Plans().InPlace;
        _probe.ChecksUntilMet[VerificationKind.Handshake] = 3;

        var result = await Executor().ExecuteAsync(plan);

        Assert.Equal(RotationOutcome.Completed, result.Outcome);
        Assert.Equal([1, 2, 3, 4], result.PhasesCompleted);
        Assert.Empty(result.PhasesLeftToOperator);
        Assert.All(_agent.Calls, c => Assert.Contains(": Run wg set ", c));
        Assert.Contains("spoke1: Run wg set wg-s1-h1 private-key /etc/overlay/wg-private.key.new", _agent.Calls);
        Assert.Equal(3, result.Events.Count(e => e.Kind == RotationEventKind.VerificationMet && e.Phase == 3));
    }

    [Fact]
    public async Task A_plan_without_the_new_key_is_refused_before_anything_runs()
    {
        var plan = RotationPlanner.Plan(HubSpoke(), "spoke1").MakeBeforeBreak;

        var e = await Assert.ThrowsAsync<ArgumentException>(() => Executor().ExecuteAsync(plan));

        Assert.Contains("--new-public-key", e.Message);
        Assert.Empty(_agent.Calls);
    }

    [Fact]
    public void Route_checks_resolve_to_the_overlay_address_at_the_far_end_of_the_new_interface()
    {
        var inv = HubSpoke();
        var plan = Plans().MakeBeforeBreak;
        var checks = plan.Phases[2].WaitFor;

        Assert.Equal(IPAddress.Parse("10.0.0.1"), RotationTargets.RouteDestination(inv, plan, checks.Single(v => v.Node == "spoke1" && v.Target == "wr-s1-h1")));
        Assert.Equal(IPAddress.Parse("10.0.1.1"), RotationTargets.RouteDestination(inv, plan, checks.Single(v => v.Node == "hub2")));
        Assert.Throws<ArgumentException>(() => RotationTargets.RouteDestination(inv, plan,
            new Verification("hub1", VerificationKind.RouteVia, "wg-h1-s1", "", "")));
    }

    private static string Describe(NodeChange c) => c.Kind switch
    {
        RotationChangeKind.WriteInterface => $"{c.Node}: Write {c.Target}",
        RotationChangeKind.BringUp => $"{c.Node}: Up {c.Target}",
        RotationChangeKind.TearDown => $"{c.Node}: Down {c.Target}",
        RotationChangeKind.DeleteInterface => $"{c.Node}: Delete {c.Target}",
        RotationChangeKind.FrrConfig => $"{c.Node}: Frr {string.Join(" | ", c.Lines)}",
        _ => $"{c.Node}: Run {string.Join(" ; ", c.Lines)}",
    };
}

public class RotationRollbackRouteTests
{
    /// <summary>Routes follow the costs: via the new interfaces from the phase-3 changes until their rollback has been seen N times.</summary>
    private sealed class RoutesFollowCosts(RecordingAgent agent, int checksAfterRollback) : IRotationProbe
    {
        public int ChecksAfterRollback { get; private set; }

        public Task<ProbeResult> CheckAsync(Verification v, DateTimeOffset phaseStarted, CancellationToken ct)
        {
            if (v.Kind != VerificationKind.RouteVia) return Task.FromResult(ProbeResult.Yes("ok"));
            bool rolledBack;
            lock (agent.Calls) rolledBack = agent.Calls.Any(c => c.StartsWith("spoke1: Frr interface wg-s1-h1 |  ip ospf cost 10", StringComparison.Ordinal));
            if (!rolledBack) return Task.FromResult(ProbeResult.Yes($"via {v.Target}"));
            return Task.FromResult(++ChecksAfterRollback >= checksAfterRollback ? ProbeResult.No("via the old interface") : ProbeResult.Yes($"still via {v.Target}"));
        }
    }

    [Fact]
    public async Task Undoing_the_traffic_move_waits_until_routes_have_left_the_new_interfaces_before_tearing_them_down()
    {
        var clock = new AutoAdvancingTimeProvider();
        var agent = new RecordingAgent(clock) { FailWhen = c => c == "spoke1: Down wg-s1-h1" };   // phase 4 fails
        var probe = new RoutesFollowCosts(agent, checksAfterRollback: 5);
        var plan = RotationPlanner.Plan(
            InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, "hub-spoke.yaml")), "hub-spoke.yaml").Inventory!,
            "spoke1", new RotationOptions { NewPublicKey = new WireGuardKey(new byte[32]) }).MakeBeforeBreak;

        var result = await new RotationExecutor(agent, probe, clock, new RotationExecutionOptions { PhaseTimeout = TimeSpan.FromSeconds(10) }).ExecuteAsync(plan);

        // Phase 3's rollback swapped the costs back and waited for every route of phase 3 to leave the new interface;
        // phase 4 only repeats phase 3's route checks, so its rollback does not wait for them.
        Assert.Equal(RotationOutcome.RolledBack, result.Outcome);
        var events = result.Events.ToList();
        int verified = events.FindLastIndex(e => e.Kind == RotationEventKind.RollbackVerified && e.Phase == 3);
        int teardown = events.FindIndex(e => e.Kind == RotationEventKind.RollbackChangeApplied && e.Phase == 2);
        Assert.Equal(plan.Phases[2].WaitFor.Count, events.Count(e => e.Kind == RotationEventKind.RollbackVerified));
        Assert.True(verified >= 0 && verified < teardown, string.Join("\n", events));
        Assert.DoesNotContain(events, e => e.Kind == RotationEventKind.RollbackVerified && e.Phase == 4);
    }
}
