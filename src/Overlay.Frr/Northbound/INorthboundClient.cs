namespace Overlay.Frr.Northbound;

/// <summary>
/// The northbound API of ONE FRR daemon (8.4 serves one endpoint per daemon).
/// Every call takes a cancellation token and runs under the transport's deadline.
/// Errors: <see cref="Overlay.Frr.Grpc.FrrNorthboundException"/> (status code, RPC and daemon in the message);
/// requests known to crash this daemon's release: <see cref="FrrRequestRefusedException"/>.
/// </summary>
public interface INorthboundClient : IDisposable
{
    FrrDaemon Daemon { get; }

    Task<FrrCapabilities> GetCapabilitiesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams one JSON data tree per path. FRR 8.4 answers the paths in reverse request order;
    /// callers that need to tell them apart should ask for one path per call.
    /// Before the first Get the client reads the daemon's version once (GetCapabilities) to apply
    /// <see cref="FrrQuirks"/>.
    /// </summary>
    IAsyncEnumerable<NorthboundData> GetAsync(
        IReadOnlyList<string> paths, NorthboundDataType type, bool withDefaults = false, CancellationToken cancellationToken = default);

    Task<uint> CreateCandidateAsync(CancellationToken cancellationToken = default);

    Task EditCandidateAsync(uint candidateId, IReadOnlyList<YangEdit> edits, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs one commit phase; returns FRR's transaction id (0 for phases that create none).
    /// After APPLY or ABORT the candidate can no longer be deleted safely (see <see cref="FrrQuirks.DeleteCandidateAfterApplyOrAbort"/>).
    /// </summary>
    Task<uint> CommitAsync(uint candidateId, CommitPhase phase, string? comment = null, CancellationToken cancellationToken = default);

    /// <summary>Frees a candidate. Refused (<see cref="FrrRequestRefusedException"/>) after this client sent it a Commit APPLY or ABORT.</summary>
    Task DeleteCandidateAsync(uint candidateId, CancellationToken cancellationToken = default);

    Task LockConfigAsync(CancellationToken cancellationToken = default);

    Task UnlockConfigAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// create candidate → edit → commit(ALL) → delete candidate (always, in a finally: FRR never frees
    /// candidates of disconnected clients). "No changes" (ABORTED) is <see cref="ApplyResult.NoChange"/>.
    /// </summary>
    Task<ApplyResult> ApplyAsync(IReadOnlyList<YangEdit> edits, string? comment = null, CancellationToken cancellationToken = default);
}
