using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;
using Overlay.Frr.Northbound.Protocol;

namespace Overlay.Frr.Tests;

/// <summary>The per-daemon client over a recording <see cref="CallInvoker"/> double.</summary>
public sealed class NorthboundClientTests
{
    /// <summary>
    /// Records every call; answers through <see cref="Answer"/> (by method name). An exception thrown by
    /// <see cref="Answer"/> faults the call as Grpc.Net.Client would (RpcException, OperationCanceledException).
    /// </summary>
    private sealed class RecordingInvoker : CallInvoker
    {
        public List<(string Method, IMessage Request)> Calls { get; } = [];
        public Func<string, IMessage, CancellationToken, IMessage> Answer { get; set; } = (_, _, _) => throw new InvalidOperationException();
        public string FrrVersion { get; set; } = "8.4.4";

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            Calls.Add((method.Name, (IMessage)request));
            Task<TResponse> response;
            try
            {
                response = Task.FromResult((TResponse)(method.Name == "GetCapabilities"
                    ? new GetCapabilitiesResponse { FrrVersion = FrrVersion }
                    : Answer(method.Name, (IMessage)request, options.CancellationToken)));
            }
            catch (Exception e)
            {
                response = Task.FromException<TResponse>(e);
            }
            return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
            CallOptions options, TRequest request)
        {
            Calls.Add((method.Name, (IMessage)request));
            var reader = new OneMessageReader<TResponse>(() => (TResponse)Answer(method.Name, (IMessage)request, options.CancellationToken));
            return new AsyncServerStreamingCall<TResponse>(reader, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
            CallOptions options) => throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
            CallOptions options) => throw new NotSupportedException();
    }

    private sealed class OneMessageReader<T>(Func<T> answer) : IAsyncStreamReader<T>
    {
        private bool _done;

        public T Current { get; private set; } = default!;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            await Task.Yield();
            if (_done)
                return false;
            _done = true;
            Current = answer();
            return true;
        }
    }

    private static RpcException RpcError(StatusCode code, string detail = "") => new(new Status(code, detail));

    private static (INorthboundClient Client, RecordingInvoker Invoker) Create(FrrDaemon daemon, Func<string, IMessage, CancellationToken, IMessage> answer)
    {
        var invoker = new RecordingInvoker { Answer = answer };
        return (NorthboundClientFactory.CreateClient(daemon, invoker, "test (127.0.0.1:1)"), invoker);
    }

    private static IMessage Happy(string method, IMessage request, CancellationToken _) => method switch
    {
        "CreateCandidate" => new CreateCandidateResponse { CandidateId = 7 },
        "EditCandidate" => new EditCandidateResponse(),
        "Commit" => new CommitResponse { TransactionId = 42 },
        "DeleteCandidate" => new DeleteCandidateResponse(),
        _ => throw new InvalidOperationException(method),
    };

    private static readonly YangEdit[] Edits =
    [
        YangEdit.Update("/frr-a:x/leaf", "1"),
        YangEdit.Update("/frr-a:x/list[k='v']"),
        YangEdit.Delete("/frr-a:x/old"),
    ];

    [Fact]
    public async Task Apply_runs_create_edit_commit_all_delete()
    {
        var (client, invoker) = Create(FrrDaemon.Staticd, Happy);

        var result = await client.ApplyAsync(Edits, "why");

        Assert.Equal(ApplyResult.Applied(42), result);
        Assert.Equal(["CreateCandidate", "EditCandidate", "Commit", "DeleteCandidate"], invoker.Calls.Select(c => c.Method));
        var edit = (EditCandidateRequest)invoker.Calls[1].Request;
        Assert.Equal(7u, edit.CandidateId);
        Assert.Equal([("/frr-a:x/leaf", "1"), ("/frr-a:x/list[k='v']", "")], edit.Update.Select(p => (p.Path, p.Value)));
        Assert.Equal(["/frr-a:x/old"], edit.Delete.Select(p => p.Path));
        var commit = (CommitRequest)invoker.Calls[2].Request;
        Assert.Equal((7u, CommitRequest.Types.Phase.All, "why"), (commit.CandidateId, commit.Phase, commit.Comment));
        Assert.Equal(7u, ((DeleteCandidateRequest)invoker.Calls[3].Request).CandidateId);
    }

    [Fact]
    public async Task Aborted_commit_is_no_change_and_the_candidate_is_deleted()
    {
        var (client, invoker) = Create(FrrDaemon.Staticd, (m, r, ct) =>
            m == "Commit" ? throw RpcError(StatusCode.Aborted, "No changes to apply were found during preparation phase") : Happy(m, r, ct));

        Assert.Equal(ApplyResult.NoChange, await client.ApplyAsync(Edits));
        Assert.Equal("DeleteCandidate", invoker.Calls[^1].Method);
    }

    [Theory]
    [InlineData("EditCandidate", StatusCode.InvalidArgument)]
    [InlineData("Commit", StatusCode.InvalidArgument)]
    [InlineData("Commit", StatusCode.Unavailable)]
    public async Task Failures_propagate_and_still_delete_the_candidate(string failing, StatusCode code)
    {
        var (client, invoker) = Create(FrrDaemon.Bfdd, (m, r, ct) => m == failing ? throw RpcError(code, "boom") : Happy(m, r, ct));

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() => client.ApplyAsync(Edits));

        Assert.Equal(code, error.StatusCode);
        Assert.Equal(failing, error.Method);
        Assert.Contains($"FRR northbound {failing} on test (127.0.0.1:1) failed: {code}: boom", error.Message);
        Assert.Equal("DeleteCandidate", invoker.Calls[^1].Method);
    }

    [Fact]
    public async Task Cancelled_apply_still_deletes_the_candidate()
    {
        using var cts = new CancellationTokenSource();
        var (client, invoker) = Create(FrrDaemon.Staticd, (m, r, ct) =>
        {
            if (m == "EditCandidate")
            {
                cts.Cancel();
                ct.ThrowIfCancellationRequested();
            }
            return Happy(m, r, ct);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ApplyAsync(Edits, cancellationToken: cts.Token));
        Assert.Equal("DeleteCandidate", invoker.Calls[^1].Method);
    }

    [Fact]
    public async Task Failed_candidate_delete_does_not_hide_the_result()
    {
        var (client, _) = Create(FrrDaemon.Staticd, (m, r, ct) =>
            m == "DeleteCandidate" ? throw RpcError(StatusCode.Unavailable) : Happy(m, r, ct));
        Assert.True((await client.ApplyAsync(Edits)).Changed);
    }

    [Fact]
    public async Task Nothing_to_apply_sends_nothing()
    {
        var (client, invoker) = Create(FrrDaemon.Staticd, Happy);
        Assert.Equal(ApplyResult.NoChange, await client.ApplyAsync([]));
        Assert.Empty(invoker.Calls);
    }

    [Fact]
    public async Task Get_sends_type_encoding_and_paths_and_converts_the_timestamp()
    {
        var (client, invoker) = Create(FrrDaemon.Zebra, (_, _, _) =>
            new GetResponse { Timestamp = 1795307042, Data = new DataTree { Encoding = Encoding.Json, Data = "{}" } });

        var data = new List<NorthboundData>();
        await foreach (var d in client.GetAsync(["/frr-vrf:lib"], NorthboundDataType.State))
            data.Add(d);

        Assert.Equal([new NorthboundData(DateTimeOffset.FromUnixTimeSeconds(1795307042), "{}")], data);
        var request = (GetRequest)invoker.Calls.Single(c => c.Method == "Get").Request;
        Assert.Equal((GetRequest.Types.DataType.State, Encoding.Json, false), (request.Type, request.Encoding, request.WithDefaults));
        Assert.Equal(["/frr-vrf:lib"], request.Path);
    }

    [Fact]
    public async Task Crashing_get_is_refused_without_being_sent_and_zebra_version_is_read_once()
    {
        var (client, invoker) = Create(FrrDaemon.Zebra, (_, _, _) => new GetResponse { Data = new DataTree { Data = "{}" } });

        var error = await Assert.ThrowsAsync<FrrRequestRefusedException>(async () =>
        {
            await foreach (var _ in client.GetAsync(["/frr-vrf:lib/vrf[name='default']/frr-zebra:zebra/ribs"], NorthboundDataType.State)) { }
        });
        await foreach (var _ in client.GetAsync(["/frr-vrf:lib"], NorthboundDataType.State)) { }

        Assert.Equal("zebra-keyed-ribs-get", error.Quirk.Id);
        Assert.Contains("8.4.4", error.Message);
        Assert.Equal(["GetCapabilities", "Get"], invoker.Calls.Select(c => c.Method));
    }

    [Fact]
    public async Task Capabilities_map_modules_and_version()
    {
        var invoker = new RecordingInvoker { FrrVersion = "8.4.4" };
        var client = NorthboundClientFactory.CreateClient(FrrDaemon.Ospfd, invoker, "ospfd (127.0.0.1:2)");
        var capabilities = await client.GetCapabilitiesAsync();
        Assert.Equal(new Version(8, 4, 4), capabilities.FrrVersion);
        Assert.Equal(FrrDaemon.Ospfd, capabilities.Daemon);
        Assert.False(capabilities.Serves("frr-ospfd"));
    }

    [Theory]
    [InlineData(CommitPhase.Apply, true)]
    [InlineData(CommitPhase.Abort, true)]
    [InlineData(CommitPhase.Prepare, false)]
    [InlineData(CommitPhase.Validate, false)]
    public async Task Candidate_is_not_deleted_after_a_phased_apply_or_abort(CommitPhase phase, bool refused)
    {
        var (client, invoker) = Create(FrrDaemon.Staticd, Happy);

        await client.CommitAsync(7, phase);
        if (refused)
        {
            var error = await Assert.ThrowsAsync<FrrRequestRefusedException>(() => client.DeleteCandidateAsync(7));
            Assert.Equal(FrrQuirks.DeleteCandidateAfterApplyOrAbort, error.Quirk);
            Assert.DoesNotContain(invoker.Calls, c => c.Method == "DeleteCandidate");
        }
        else
        {
            await client.DeleteCandidateAsync(7);
            Assert.Equal("DeleteCandidate", invoker.Calls[^1].Method);
        }
        await client.DeleteCandidateAsync(8); // other candidates are unaffected
        Assert.Equal(8u, ((DeleteCandidateRequest)invoker.Calls[^1].Request).CandidateId);
    }
}
