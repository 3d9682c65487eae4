namespace Overlay.Core.Rotation.Execution;

public enum RotationEventKind
{
    PhaseStarted,
    ChangeApplied,
    ChangeFailed,
    VerificationMet,
    VerificationTimedOut,
    PhaseCompleted,
    RollbackStarted,
    RollbackChangeApplied,
    RollbackChangeFailed,
    /// <summary>After undoing a traffic move: the route no longer leaves via the interface the phase had moved it to.</summary>
    RollbackVerified,
    RollbackCompleted,
    PhaseLeftToOperator,
}

/// <summary>One step of an execution; <see cref="AtMs"/> counts milliseconds from the start of the execution.</summary>
public sealed record RotationEvent(long AtMs, RotationEventKind Kind, int Phase, string Node, string Target, string Detail)
{
    public override string ToString() =>
        $"{AtMs,7} ms  phase {Phase}  {Kind,-22} {(Node.Length > 0 ? $"[{Node}] " : "")}{Target}{(Detail.Length > 0 ? $": {Detail}" : "")}";
}

public enum RotationOutcome
{
    /// <summary>Every executable phase ran and was verified.</summary>
    Completed,
    /// <summary>A phase failed or timed out; the phases done so far were rolled back without error.</summary>
    RolledBack,
    /// <summary>A phase failed and at least one rollback step failed too: the events say which; the node needs an operator.</summary>
    RollbackIncomplete,
}

public sealed record RotationExecutionResult(
    RotationOutcome Outcome,
    /// <summary>Phases that ran and were verified (before any rollback).</summary>
    IReadOnlyList<int> PhasesCompleted,
    /// <summary>Phases the executor does not run (they edit the inventory or need a re-render); the operator's part.</summary>
    IReadOnlyList<int> PhasesLeftToOperator,
    /// <summary>Why the execution stopped, when it did not complete.</summary>
    string? Failure,
    IReadOnlyList<RotationEvent> Events);
