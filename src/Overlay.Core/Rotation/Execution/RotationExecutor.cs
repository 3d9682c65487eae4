namespace Overlay.Core.Rotation.Execution;

public sealed record RotationExecutionOptions
{
    /// <summary>How long a phase may wait for its verifications after its last change; then it is rolled back.</summary>
    public TimeSpan PhaseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Pause between two rounds of checks of the verifications not yet met.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Called for every event as it happens (the result holds them all too).</summary>
    public Action<RotationEvent>? OnEvent { get; init; }
}

/// <summary>
/// Runs a <see cref="RotationPlan"/> phase by phase: applies each phase's changes through the agent, then polls the
/// probe until every verification of the phase holds. A failing change, a verification that does not hold before the
/// deadline, or cancellation stops the run and rolls back the phases done so far, the failing one included, in
/// reverse order. Phases that change the inventory or key files are left to the operator and end the run.
/// Pure orchestration: all I/O goes through <see cref="IRotationNodeAgent"/> and <see cref="IRotationProbe"/>, time
/// through <see cref="TimeProvider"/>.
/// </summary>
public sealed class RotationExecutor(IRotationNodeAgent agent, IRotationProbe probe, TimeProvider time, RotationExecutionOptions? options = null)
{
    private readonly RotationExecutionOptions _options = options ?? new RotationExecutionOptions();
    private readonly TimeProvider _time = time;
    private readonly IRotationProbe _probe = probe;

    /// <summary>A phase the executor cannot run: it edits the inventory or replaces key files, which the operator owns.</summary>
    public static bool IsOperatorPhase(RotationPhase phase) =>
        phase.Changes.Any(c => c.Kind is RotationChangeKind.UpdateInventory or RotationChangeKind.ReplaceKeyFile);

    public async Task<RotationExecutionResult> ExecuteAsync(RotationPlan plan, CancellationToken ct = default)
    {
        if (plan.NewPublicKey == RotationPlanner.Placeholder)
            throw new ArgumentException(
                $"the plan for '{plan.Node}' was made without the new public key; generate the key on the node and plan with it (--new-public-key)", nameof(plan));

        var run = new Run(this, _time.GetTimestamp());
        var done = new List<RotationPhase>();
        var left = new List<int>();
        foreach (var phase in plan.Phases)
        {
            if (left.Count > 0 || IsOperatorPhase(phase))
            {
                left.Add(phase.Number);
                run.Emit(RotationEventKind.PhaseLeftToOperator, phase.Number, "", phase.Title, "");
                continue;
            }
            string? failure = await run.PhaseAsync(phase, ct).ConfigureAwait(false);
            if (failure is not null)
            {
                bool clean = await run.RollbackAsync([.. done, phase]).ConfigureAwait(false);
                return new RotationExecutionResult(clean ? RotationOutcome.RolledBack : RotationOutcome.RollbackIncomplete,
                    [.. done.Select(p => p.Number)], [.. plan.Phases.Where(p => p.Number > phase.Number).Select(p => p.Number)], failure, run.Events);
            }
            done.Add(phase);
        }
        return new RotationExecutionResult(RotationOutcome.Completed, [.. done.Select(p => p.Number)], left, null, run.Events);
    }

    private sealed class Run(RotationExecutor owner, long started)
    {
        private readonly List<RotationEvent> _events = [];
        public IReadOnlyList<RotationEvent> Events => _events;

        public void Emit(RotationEventKind kind, int phase, string node, string target, string detail)
        {
            var e = new RotationEvent((long)owner._time.GetElapsedTime(started).TotalMilliseconds, kind, phase, node, target, detail);
            _events.Add(e);
            owner._options.OnEvent?.Invoke(e);
        }

        /// <summary>Applies and verifies one phase; returns why it failed, or null.</summary>
        public async Task<string?> PhaseAsync(RotationPhase phase, CancellationToken ct)
        {
            var phaseStarted = owner._time.GetUtcNow();
            Emit(RotationEventKind.PhaseStarted, phase.Number, "", phase.Title, $"{phase.Changes.Count} change(s), {phase.WaitFor.Count} verification(s)");
            foreach (var change in phase.Changes)
            {
                try
                {
                    await owner.ApplyAsync(change, ct).ConfigureAwait(false);
                    Emit(RotationEventKind.ChangeApplied, phase.Number, change.Node, $"{change.Kind} {change.Target}", "");
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    string why = e is OperationCanceledException ? "cancelled" : e.Message;
                    Emit(RotationEventKind.ChangeFailed, phase.Number, change.Node, $"{change.Kind} {change.Target}", why);
                    return $"phase {phase.Number}: {change.Kind} {change.Target} on {change.Node} failed: {why}";
                }
            }
            return await WaitAsync(phase, phaseStarted, ct).ConfigureAwait(false);
        }

        private async Task<string?> WaitAsync(RotationPhase phase, DateTimeOffset phaseStarted, CancellationToken ct)
        {
            var pending = phase.WaitFor.ToList();
            var observed = new Dictionary<Verification, string>();
            long waitStarted = owner._time.GetTimestamp();
            while (true)
            {
                foreach (var v in pending.ToList())
                {
                    ProbeResult r;
                    try
                    {
                        r = await owner._probe.CheckAsync(v, phaseStarted, ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        return $"phase {phase.Number}: cancelled while waiting for verifications";
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // Unreadable state is "not yet": the daemon may be restarting; the deadline bounds the wait.
                        r = ProbeResult.No($"check failed: {e.Message}");
                    }
                    observed[v] = r.Observed;
                    if (!r.Satisfied) continue;
                    pending.Remove(v);
                    Emit(RotationEventKind.VerificationMet, phase.Number, v.Node, $"{v.Kind} {v.Target}", r.Observed);
                }
                if (pending.Count == 0)
                {
                    Emit(RotationEventKind.PhaseCompleted, phase.Number, "", phase.Title, "");
                    return null;
                }
                if (owner._time.GetElapsedTime(waitStarted) >= owner._options.PhaseTimeout)
                {
                    foreach (var v in pending)
                        Emit(RotationEventKind.VerificationTimedOut, phase.Number, v.Node, $"{v.Kind} {v.Target}",
                            $"wanted: {v.Condition}; last seen: {observed.GetValueOrDefault(v, "nothing")}");
                    var first = pending[0];
                    return $"phase {phase.Number}: {pending.Count} verification(s) not met within {owner._options.PhaseTimeout.TotalSeconds:0.###} s, "
                        + $"first: [{first.Node}] {first.Kind} {first.Target}: {first.Condition} (last seen: {observed.GetValueOrDefault(first, "nothing")})";
                }
                try
                {
                    await Task.Delay(owner._options.PollInterval, owner._time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return $"phase {phase.Number}: cancelled while waiting for verifications";
                }
            }
        }

        /// <summary>
        /// Undoes the given phases, last first, each with its own rollback list in order. Runs to the end even when a
        /// step fails (each failure is an event) and ignores cancellation: a half rollback is worse than a slow one.
        /// </summary>
        public async Task<bool> RollbackAsync(IReadOnlyList<RotationPhase> phases)
        {
            bool clean = true;
            for (int i = phases.Count - 1; i >= 0; i--)
            {
                var phase = phases[i];
                var earlier = phases.Take(i).SelectMany(p => p.WaitFor).ToHashSet();
                Emit(RotationEventKind.RollbackStarted, phase.Number, "", phase.Title, phase.RollbackNote);
                foreach (var change in phase.Rollback)
                {
                    try
                    {
                        await owner.ApplyAsync(change, CancellationToken.None).ConfigureAwait(false);
                        Emit(RotationEventKind.RollbackChangeApplied, phase.Number, change.Node, $"{change.Kind} {change.Target}", "");
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        clean = false;
                        Emit(RotationEventKind.RollbackChangeFailed, phase.Number, change.Node, $"{change.Kind} {change.Target}", e.Message);
                    }
                }
                clean &= await owner.RoutesBackAsync(phase, earlier, this).ConfigureAwait(false);
                Emit(RotationEventKind.RollbackCompleted, phase.Number, "", phase.Title, "");
            }
            return clean;
        }
    }

    /// <summary>
    /// After undoing a phase that moved traffic (its route checks are new, not repeated from an earlier phase), waits until
    /// no route leaves via the interface the phase moved it to, so an earlier phase's rollback never tears down a path
    /// that still carries traffic. Bounded by the phase timeout.
    /// </summary>
    private async Task<bool> RoutesBackAsync(RotationPhase phase, HashSet<Verification> earlier, Run run)
    {
        var pending = phase.WaitFor.Where(v => v.Kind == VerificationKind.RouteVia && !earlier.Contains(v)).ToList();
        long started = _time.GetTimestamp();
        var now = _time.GetUtcNow();
        while (true)
        {
            foreach (var v in pending.ToList())
            {
                ProbeResult r;
                try { r = await _probe.CheckAsync(v, now, CancellationToken.None).ConfigureAwait(false); }
                catch (Exception e) when (e is not OutOfMemoryException) { continue; }
                if (r.Satisfied) continue;
                pending.Remove(v);
                run.Emit(RotationEventKind.RollbackVerified, phase.Number, v.Node, $"{v.Kind} {v.Target}", $"no longer: {r.Observed}");
            }
            if (pending.Count == 0) return true;
            if (_time.GetElapsedTime(started) >= _options.PhaseTimeout)
            {
                foreach (var v in pending)
                    run.Emit(RotationEventKind.RollbackChangeFailed, phase.Number, v.Node, $"{v.Kind} {v.Target}", "traffic did not move back before the deadline");
                return false;
            }
            await Task.Delay(_options.PollInterval, _time, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private Task ApplyAsync(NodeChange c, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return c.Kind switch
        {
            RotationChangeKind.WriteInterface => agent.WriteInterfaceAsync(c.Node, c.Target, c.Lines, ct),
            RotationChangeKind.BringUp => agent.BringUpAsync(c.Node, c.Target, ct),
            RotationChangeKind.TearDown => agent.TearDownAsync(c.Node, c.Target, ct),
            RotationChangeKind.DeleteInterface => agent.DeleteInterfaceAsync(c.Node, c.Target, ct),
            RotationChangeKind.FrrConfig => agent.ApplyFrrAsync(c.Node, c.Lines, ct),
            RotationChangeKind.GenerateKey or RotationChangeKind.AddPeer or RotationChangeKind.SetAllowedIps or RotationChangeKind.RemovePeer or RotationChangeKind.SwitchPrivateKey
                => agent.RunCommandsAsync(c.Node, c.Lines, ct),
            _ => throw new InvalidOperationException($"{c.Kind} {c.Target} on {c.Node} is an operator step; the executor does not run it"),
        };
    }
}
