using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound.Protocol;
using Stub = Overlay.Frr.Northbound.Protocol.Northbound.NorthboundClient;

namespace Overlay.Frr.Northbound;

/// <summary>
/// One daemon's northbound API over Grpc.Net.Client (the stub generated from <c>protos/frr-northbound.proto</c>).
/// Every call runs under <see cref="_timeout"/>; failures become <see cref="FrrNorthboundException"/> naming the
/// RPC and the endpoint, cancellation through the caller's token stays <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed partial class NorthboundClient : INorthboundClient
{
    private const string StatusDetailsKey = "grpc-status-details-bin";
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stub _stub;
    private readonly string _target;
    private readonly TimeSpan _timeout;
    private readonly IDisposable? _owned;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<uint, bool> _applyOrAbortSent = new();
    private Task<FrrCapabilities>? _capabilities;

    /// <param name="invoker">Usually a GrpcChannel's; a test double in unit tests.</param>
    /// <param name="target">Display name for errors, e.g. <c>zebra (127.0.0.1:50051)</c>.</param>
    /// <param name="owned">Disposed with the client (its channel), if any.</param>
    public NorthboundClient(FrrDaemon daemon, CallInvoker invoker, string target, TimeSpan timeout, IDisposable? owned, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        Daemon = daemon;
        _stub = new Stub(invoker);
        _target = target;
        _timeout = timeout;
        _owned = owned;
        _logger = logger ?? NullLogger.Instance;
    }

    public FrrDaemon Daemon { get; }

    public async Task<FrrCapabilities> GetCapabilitiesAsync(CancellationToken cancellationToken = default)
    {
        var response = await UnaryAsync("GetCapabilities", o => _stub.GetCapabilitiesAsync(new GetCapabilitiesRequest(), o), cancellationToken)
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
                NorthboundLog.RefusedRequest(_logger, Daemon, "Get " + path, quirk.Id);
                throw new FrrRequestRefusedException(quirk, Daemon, version, $"Get '{path}'");
            }
        }

        var request = new GetRequest { Type = (GetRequest.Types.DataType)type, Encoding = Encoding.Json, WithDefaults = withDefaults };
        request.Path.AddRange(paths);

        cancellationToken.ThrowIfCancellationRequested();
        var (options, deadline) = CallOptionsFor(cancellationToken);
        using var call = _stub.Get(request, options);
        // FRR 8.4 sends one empty message before an error status: an empty message is held back until
        // the next message or a clean end, and dropped when an error follows.
        GetResponse? heldEmpty = null;
        while (true)
        {
            GetResponse current;
            try
            {
                if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                    break;
                current = call.ResponseStream.Current;
            }
            catch (Exception e) when (Translate(e, "Get", deadline, cancellationToken) is { } translated)
            {
                throw translated;
            }

            if (heldEmpty is not null)
            {
                yield return ToData(heldEmpty);
                heldEmpty = null;
            }
            if (current.Data is null || current.Data.Data.Length == 0)
                heldEmpty = current;
            else
                yield return ToData(current);
        }
        if (heldEmpty is not null)
            yield return ToData(heldEmpty);
    }

    public async Task<uint> CreateCandidateAsync(CancellationToken cancellationToken = default)
    {
        var response = await UnaryAsync("CreateCandidate", o => _stub.CreateCandidateAsync(new CreateCandidateRequest(), o), cancellationToken)
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
        await UnaryAsync("EditCandidate", o => _stub.EditCandidateAsync(request, o), cancellationToken).ConfigureAwait(false);
    }

    public async Task<uint> CommitAsync(uint candidateId, CommitPhase phase, string? comment = null, CancellationToken cancellationToken = default)
    {
        // Marked before sending: if the outcome is unknown (deadline, lost connection) the
        // transaction may be freed already, and deleting the candidate would crash the daemon.
        if (phase is CommitPhase.Apply or CommitPhase.Abort)
            _applyOrAbortSent[candidateId] = true;
        var request = new CommitRequest { CandidateId = candidateId, Phase = (CommitRequest.Types.Phase)phase, Comment = comment ?? string.Empty };
        var response = await UnaryAsync("Commit", o => _stub.CommitAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.TransactionId;
    }

    public async Task DeleteCandidateAsync(uint candidateId, CancellationToken cancellationToken = default)
    {
        if (_applyOrAbortSent.ContainsKey(candidateId))
        {
            var version = (await KnownCapabilitiesAsync(cancellationToken).ConfigureAwait(false)).FrrVersion;
            if (FrrQuirks.FindForDeleteCandidate(Daemon, version, applyOrAbortSent: true) is { } quirk)
            {
                NorthboundLog.RefusedRequest(_logger, Daemon, $"DeleteCandidate {candidateId}", quirk.Id);
                throw new FrrRequestRefusedException(quirk, Daemon, version, $"DeleteCandidate {candidateId}");
            }
        }
        var request = new DeleteCandidateRequest { CandidateId = candidateId };
        await UnaryAsync("DeleteCandidate", o => _stub.DeleteCandidateAsync(request, o), cancellationToken).ConfigureAwait(false);
        _applyOrAbortSent.TryRemove(candidateId, out _);
    }

    public async Task LockConfigAsync(CancellationToken cancellationToken = default) =>
        await UnaryAsync("LockConfig", o => _stub.LockConfigAsync(new LockConfigRequest(), o), cancellationToken).ConfigureAwait(false);

    public async Task UnlockConfigAsync(CancellationToken cancellationToken = default) =>
        await UnaryAsync("UnlockConfig", o => _stub.UnlockConfigAsync(new UnlockConfigRequest(), o), cancellationToken).ConfigureAwait(false);

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
            catch (FrrNorthboundException e) when (e.StatusCode == StatusCode.Aborted)
            {
                // FRR's only ABORTED answer to a commit is NB_ERR_NO_CHANGES.
                result = ApplyResult.NoChange;
            }
            NorthboundLog.Applied(_logger, Daemon, edits.Count, result.Changed, result.TransactionId);
            return result;
        }
        finally
        {
            await DeleteCandidateQuietlyAsync(candidate).ConfigureAwait(false);
        }
    }

    public void Dispose() => _owned?.Dispose();

    private static NorthboundData ToData(GetResponse response) =>
        new(DateTimeOffset.FromUnixTimeSeconds(response.Timestamp), response.Data?.Data ?? string.Empty);

    private (CallOptions Options, DateTime Deadline) CallOptionsFor(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _timeout;
        return (new CallOptions(deadline: deadline, cancellationToken: cancellationToken), deadline);
    }

    private async Task<TResponse> UnaryAsync<TResponse>(string method, Func<CallOptions, AsyncUnaryCall<TResponse>> start, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (options, deadline) = CallOptionsFor(cancellationToken);
        try
        {
            using var call = start(options);
            return await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, method, deadline, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Maps what Grpc.Net.Client throws to this client's contract; null = rethrow as is.</summary>
    private Exception? Translate(Exception e, string method, DateTime deadline, CancellationToken cancellationToken)
    {
        switch (e)
        {
            case FrrNorthboundException:
                return null;
            case RpcException { StatusCode: StatusCode.Cancelled } or OperationCanceledException when cancellationToken.IsCancellationRequested:
                return new OperationCanceledException($"FRR northbound {method} on {_target} was cancelled.", e, cancellationToken);
            case RpcException { StatusCode: StatusCode.DeadlineExceeded }:
            case OperationCanceledException when DateTime.UtcNow >= deadline:
                // ThrowOperationCanceledOnCancellation also turns an expired deadline into OperationCanceledException.
                return new FrrNorthboundException(StatusCode.DeadlineExceeded, $"no complete answer within {_timeout.TotalMilliseconds:0} ms", method, _target, e);
            case OperationCanceledException:
                return new FrrNorthboundException(StatusCode.Cancelled, e.Message, method, _target, e);
            case RpcException rpc:
                // The inner exception is the client-side cause when there is one (connection refused), so a
                // one-line log of the causes reads "...: Unavailable: Error connecting to subchannel. Connection refused (...)".
                return new FrrNorthboundException(rpc.StatusCode, DetailOf(rpc.Status), method, _target, rpc.Status.DebugException ?? rpc,
                    PlainDetails(rpc.Trailers));
            default:
                return null;
        }
    }

    /// <summary>The server's text; for client-side failures (connection refused) with the cause appended.</summary>
    private static string DetailOf(Status status)
    {
        if (status.DebugException is not { } debug)
            return status.Detail;
        var cause = debug;
        while (cause.InnerException is { } inner && cause is HttpRequestException or AggregateException)
            cause = inner;
        var causeText = cause.Message;
        if (debug is HttpRequestException && cause != debug && !causeText.Contains(debug.Message, StringComparison.Ordinal))
            causeText = $"{debug.Message} ({cause.Message})";
        return status.Detail.Length == 0 ? causeText
            : status.Detail.Contains(causeText, StringComparison.Ordinal) ? status.Detail
            : $"{status.Detail} {causeText}";
    }

    /// <summary>
    /// FRR 8.4 puts plain text (not a google.rpc.Status) in <c>grpc-status-details-bin</c>: read it as
    /// UTF-8 text, control characters replaced; anything that is not text is reported by its size.
    /// </summary>
    internal static string? PlainDetails(Metadata? trailers)
    {
        var bytes = trailers?.Get(StatusDetailsKey)?.ValueBytes;
        if (bytes is null || bytes.Length == 0)
            return null;
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return $"{bytes.Length} bytes of binary status details";
        }
        var cleaned = new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return cleaned.Length == 0 ? null : cleaned;
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
            NorthboundLog.CandidateLeaked(_logger, Daemon, candidate, e);
        }
    }

    private static partial class NorthboundLog
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "FRR {Daemon}: applied {EditCount} edits, changed={Changed}, transaction {TransactionId}")]
        public static partial void Applied(ILogger logger, FrrDaemon daemon, int editCount, bool changed, uint transactionId);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "FRR {Daemon}: could not delete candidate {CandidateId}; it stays allocated in the daemon")]
        public static partial void CandidateLeaked(ILogger logger, FrrDaemon daemon, uint candidateId, Exception exception);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "FRR {Daemon}: refused {Request}, known to crash this release (quirk {QuirkId})")]
        public static partial void RefusedRequest(ILogger logger, FrrDaemon daemon, string request, string quirkId);
    }
}
