using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound.Protocol;

namespace Overlay.Frr.Northbound;

internal sealed partial class NorthboundClient : INorthboundClient
{
    private const string Service = "frr.Northbound";

    private static readonly GrpcMethod<GetCapabilitiesRequest, GetCapabilitiesResponse> GetCapabilitiesMethod =
        new(Service, "GetCapabilities", GetCapabilitiesResponse.Parser);
    private static readonly GrpcMethod<GetRequest, GetResponse> GetMethod = new(Service, "Get", GetResponse.Parser);
    private static readonly GrpcMethod<CreateCandidateRequest, CreateCandidateResponse> CreateCandidateMethod =
        new(Service, "CreateCandidate", CreateCandidateResponse.Parser);
    private static readonly GrpcMethod<EditCandidateRequest, EditCandidateResponse> EditCandidateMethod =
        new(Service, "EditCandidate", EditCandidateResponse.Parser);
    private static readonly GrpcMethod<CommitRequest, CommitResponse> CommitMethod = new(Service, "Commit", CommitResponse.Parser);
    private static readonly GrpcMethod<DeleteCandidateRequest, DeleteCandidateResponse> DeleteCandidateMethod =
        new(Service, "DeleteCandidate", DeleteCandidateResponse.Parser);
    private static readonly GrpcMethod<LockConfigRequest, LockConfigResponse> LockConfigMethod =
        new(Service, "LockConfig", LockConfigResponse.Parser);
    private static readonly GrpcMethod<UnlockConfigRequest, UnlockConfigResponse> UnlockConfigMethod =
        new(Service, "UnlockConfig", UnlockConfigResponse.Parser);

    private readonly IGrpcTransport _transport;
    private readonly bool _ownsTransport;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<uint, bool> _applyOrAbortSent = new();
    private Task<FrrCapabilities>? _capabilities;

    public NorthboundClient(FrrDaemon daemon, IGrpcTransport transport, bool ownsTransport, ILogger? logger = null)
    {
        Daemon = daemon;
        _transport = transport;
        _ownsTransport = ownsTransport;
        _logger = logger ?? NullLogger.Instance;
    }

    public FrrDaemon Daemon { get; }

    public async Task<FrrCapabilities> GetCapabilitiesAsync(CancellationToken cancellationToken = default)
    {
        var response = await _transport.UnaryAsync(GetCapabilitiesMethod, new GetCapabilitiesRequest(), default, cancellationToken)
            .ConfigureAwait(false);
        var capabilities = new FrrCapabilities(
            Daemon,
            response.FrrVersion,
            response.RollbackSupport,
            response.SupportedModules.Select(m => new YangModule(m.Name, m.Organization, m.Revision)).ToList(),
            response.SupportedEncodings.Select(e => e.ToString()).ToList());
        _capabilities ??= Task.FromResult(capabilities);
        return capabilities;
    }

    public async IAsyncEnumerable<NorthboundData> GetAsync(
        IReadOnlyList<string> paths, NorthboundDataType type, bool withDefaults = false,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
            throw new ArgumentException("A Get needs at least one path.", nameof(paths));

        var version = (await KnownCapabilitiesAsync(cancellationToken).ConfigureAwait(false)).FrrVersion;
        foreach (var path in paths)
        {
            if (FrrQuirks.FindForGet(Daemon, version, type, path) is { } quirk)
            {
                Log.RefusedRequest(_logger, Daemon, "Get " + path, quirk.Id);
                throw new FrrRequestRefusedException(quirk, Daemon, version, $"Get '{path}'");
            }
        }

        var request = new GetRequest { Type = (GetRequest.Types.DataType)type, Encoding = Encoding.Json, WithDefaults = withDefaults };
        request.Path.AddRange(paths);
        await foreach (var response in _transport.ServerStreamingAsync(GetMethod, request, default, cancellationToken).ConfigureAwait(false))
        {
            yield return new NorthboundData(DateTimeOffset.FromUnixTimeSeconds(response.Timestamp), response.Data?.Data ?? string.Empty);
        }
    }

    public async Task<uint> CreateCandidateAsync(CancellationToken cancellationToken = default)
    {
        var response = await _transport.UnaryAsync(CreateCandidateMethod, new CreateCandidateRequest(), default, cancellationToken)
            .ConfigureAwait(false);
        return response.CandidateId;
    }

    public async Task EditCandidateAsync(uint candidateId, IReadOnlyList<YangEdit> edits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(edits);
        var request = new EditCandidateRequest { CandidateId = candidateId };
        foreach (var edit in edits)
        {
            var pathValue = new PathValue { Path = edit.Path, Value = edit.Value };
            (edit.Operation == YangEditOperation.Delete ? request.Delete : request.Update).Add(pathValue);
        }
        await _transport.UnaryAsync(EditCandidateMethod, request, default, cancellationToken).ConfigureAwait(false);
    }

    public async Task<uint> CommitAsync(uint candidateId, CommitPhase phase, string? comment = null, CancellationToken cancellationToken = default)
    {
        // Marked before sending: if the outcome is unknown (deadline, lost connection) the
        // transaction may be freed already, and deleting the candidate would crash the daemon.
        if (phase is CommitPhase.Apply or CommitPhase.Abort)
            _applyOrAbortSent[candidateId] = true;
        var request = new CommitRequest { CandidateId = candidateId, Phase = (CommitRequest.Types.Phase)phase, Comment = comment ?? string.Empty };
        var response = await _transport.UnaryAsync(CommitMethod, request, default, cancellationToken).ConfigureAwait(false);
        return response.TransactionId;
    }

    public async Task DeleteCandidateAsync(uint candidateId, CancellationToken cancellationToken = default)
    {
        if (_applyOrAbortSent.ContainsKey(candidateId))
        {
            var version = (await KnownCapabilitiesAsync(cancellationToken).ConfigureAwait(false)).FrrVersion;
            if (FrrQuirks.FindForDeleteCandidate(Daemon, version, applyOrAbortSent: true) is { } quirk)
            {
                Log.RefusedRequest(_logger, Daemon, $"DeleteCandidate {candidateId}", quirk.Id);
                throw new FrrRequestRefusedException(quirk, Daemon, version, $"DeleteCandidate {candidateId}");
            }
        }
        await _transport.UnaryAsync(DeleteCandidateMethod, new DeleteCandidateRequest { CandidateId = candidateId }, default, cancellationToken)
            .ConfigureAwait(false);
        _applyOrAbortSent.TryRemove(candidateId, out _);
    }

    public async Task LockConfigAsync(CancellationToken cancellationToken = default) =>
        await _transport.UnaryAsync(LockConfigMethod, new LockConfigRequest(), default, cancellationToken).ConfigureAwait(false);

    public async Task UnlockConfigAsync(CancellationToken cancellationToken = default) =>
        await _transport.UnaryAsync(UnlockConfigMethod, new UnlockConfigRequest(), default, cancellationToken).ConfigureAwait(false);

    public async Task<ApplyResult> ApplyAsync(IReadOnlyList<YangEdit> edits, string? comment = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(edits);
        if (edits.Count == 0)
            return ApplyResult.NoChange;

        var candidate = await CreateCandidateAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EditCandidateAsync(candidate, edits, cancellationToken).ConfigureAwait(false);
            ApplyResult result;
            try
            {
                result = ApplyResult.Applied(await CommitAsync(candidate, CommitPhase.All, comment, cancellationToken).ConfigureAwait(false));
            }
            catch (FrrNorthboundException e) when (e.StatusCode == GrpcStatusCode.Aborted)
            {
                // FRR's only ABORTED answer to a commit is NB_ERR_NO_CHANGES.
                result = ApplyResult.NoChange;
            }
            Log.Applied(_logger, Daemon, edits.Count, result.Changed, result.TransactionId);
            return result;
        }
        finally
        {
            await DeleteCandidateQuietlyAsync(candidate).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (_ownsTransport)
            _transport.Dispose();
    }

    private Task<FrrCapabilities> KnownCapabilitiesAsync(CancellationToken cancellationToken)
    {
        var known = _capabilities;
        if (known is { IsCompletedSuccessfully: true })
            return known;
        return GetCapabilitiesAsync(cancellationToken);
    }

    // Runs even when the caller's token is cancelled: a leaked candidate lives as long as the daemon.
    private async Task DeleteCandidateQuietlyAsync(uint candidate)
    {
        try
        {
            await DeleteCandidateAsync(candidate, CancellationToken.None).ConfigureAwait(false);
        }
        catch (FrrNorthboundException e)
        {
            Log.CandidateLeaked(_logger, Daemon, candidate, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "FRR {Daemon}: applied {EditCount} edits, changed={Changed}, transaction {TransactionId}")]
        public static partial void Applied(ILogger logger, FrrDaemon daemon, int editCount, bool changed, uint transactionId);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "FRR {Daemon}: could not delete candidate {CandidateId}; it stays allocated in the daemon")]
        public static partial void CandidateLeaked(ILogger logger, FrrDaemon daemon, uint candidateId, Exception exception);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "FRR {Daemon}: refused {Request}, known to crash this release (quirk {QuirkId})")]
        public static partial void RefusedRequest(ILogger logger, FrrDaemon daemon, string request, string quirkId);
    }
}
