namespace Overlay.Core.Rotation.Execution;

/// <summary>
/// Applies one node's part of a rotation. Every method must be idempotent enough to be retried by an operator, and
/// must throw (naming the node and what failed) rather than return on failure: the executor rolls back on any exception.
/// </summary>
public interface IRotationNodeAgent
{
    /// <summary>Stores a WireGuard interface's wg-quick configuration (the plan's exact file lines); nothing starts.</summary>
    Task WriteInterfaceAsync(string node, string iface, IReadOnlyList<string> wgQuickFile, CancellationToken ct);

    /// <summary>Creates and configures the interface from its stored file (key from the file's PostUp key file) and sets it up.</summary>
    Task BringUpAsync(string node, string iface, CancellationToken ct);

    /// <summary>Takes the interface down and deletes the link; the stored file stays.</summary>
    Task TearDownAsync(string node, string iface, CancellationToken ct);

    /// <summary>Deletes the stored file of an interface that is down.</summary>
    Task DeleteInterfaceAsync(string node, string iface, CancellationToken ct);

    /// <summary>Applies FRR configuration lines in order, as 'configure terminal' would.</summary>
    Task ApplyFrrAsync(string node, IReadOnlyList<string> lines, CancellationToken ct);

    /// <summary>Runs the plan's exact shell commands on the node ('wg set ...', key checks), stopping at the first failure.</summary>
    Task RunCommandsAsync(string node, IReadOnlyList<string> commands, CancellationToken ct);
}

/// <summary>What one check of a verification saw.</summary>
public readonly record struct ProbeResult(bool Satisfied, string Observed)
{
    public static ProbeResult Yes(string observed) => new(true, observed);
    public static ProbeResult No(string observed) => new(false, observed);
}

/// <summary>Reads the real state a phase waits for. A probe never waits itself; the executor polls it.</summary>
public interface IRotationProbe
{
    /// <summary>
    /// Checks one verification once. <paramref name="phaseStarted"/> is when the phase's first change was applied
    /// (handshakes must be newer). A probe that cannot read the state throws; the executor counts that as "not yet".
    /// </summary>
    Task<ProbeResult> CheckAsync(Verification verification, DateTimeOffset phaseStarted, CancellationToken ct);
}
