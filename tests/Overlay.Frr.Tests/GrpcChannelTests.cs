using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;
using Overlay.Frr.Northbound.Protocol;

namespace Overlay.Frr.Tests;

/// <summary>
/// The client over a real Grpc.Net.Client channel (the production channel options) whose HTTP handler is
/// scripted with what FRR 8.4.4 answers: status mapping, FRR's quirks, deadlines, cancellation.
/// </summary>
public sealed class GrpcChannelTests
{
    private const string Address = "http://127.0.0.1:50051";

    private sealed class ScriptedHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return answer(request, cancellationToken);
        }
    }

    private static byte[] Frame(IMessage message)
    {
        var buffer = new byte[5 + message.CalculateSize()];
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1, 4), (uint)(buffer.Length - 5));
        message.WriteTo(buffer.AsSpan(5));
        return buffer;
    }

    private static HttpResponseMessage GrpcResponse(IEnumerable<IMessage> messages, string status, string? message = null, string? detailsText = null)
    {
        var content = new ByteArrayContent(messages.SelectMany(Frame).ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content, Version = HttpVersion.Version20 };
        response.TrailingHeaders.TryAddWithoutValidation("grpc-status", status);
        if (message is not null)
            response.TrailingHeaders.TryAddWithoutValidation("grpc-message", message);
        if (detailsText is not null)
            response.TrailingHeaders.TryAddWithoutValidation("grpc-status-details-bin", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(detailsText)));
        return response;
    }

    private static (INorthboundClient Client, global::Grpc.Net.Client.GrpcChannel Channel) Client(ScriptedHandler handler, FrrDaemon daemon = FrrDaemon.Staticd,
        TimeSpan? timeout = null)
    {
        var options = new FrrGrpcOptions { DefaultTimeout = timeout ?? TimeSpan.FromSeconds(30), MaxReceiveMessageSize = 1 << 20 };
        var channel = FrrGrpcChannels.Create(new Uri(Address), options, handler);
        var client = NorthboundClientFactory.CreateClient(daemon, channel.CreateCallInvoker(), NorthboundClientFactory.Target(daemon, new Uri(Address)),
            options.DefaultTimeout);
        return (client, channel);
    }

    private static ScriptedHandler Answer(Func<HttpRequestMessage, HttpResponseMessage> answer) => new((r, _) => Task.FromResult(answer(r)));

    private static ScriptedHandler Capabilities8_4_4(Func<HttpRequestMessage, HttpResponseMessage> other) => Answer(r =>
        r.RequestUri!.AbsolutePath.EndsWith("/GetCapabilities", StringComparison.Ordinal)
            ? GrpcResponse([new GetCapabilitiesResponse { FrrVersion = "8.4.4" }], "0")
            : other(r));

    [Fact]
    public async Task Unary_call_is_a_grpc_post_with_a_deadline()
    {
        var handler = Answer(_ => GrpcResponse([new CreateCandidateResponse { CandidateId = 3 }], "0"));
        var (client, channel) = Client(handler, timeout: TimeSpan.FromSeconds(2));
        using var _ = channel;

        Assert.Equal(3u, await client.CreateCandidateAsync());

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(Address + "/frr.Northbound/CreateCandidate", request.RequestUri!.ToString());
        Assert.Equal(HttpVersion.Version20, request.Version);
        Assert.Equal("application/grpc", request.Content!.Headers.ContentType!.MediaType);
        Assert.Equal("trailers", request.Headers.GetValues("te").Single());
        Assert.True(request.Headers.Contains("grpc-timeout"));
    }

    public static TheoryData<string, string?, StatusCode, string> Trailers => new()
    {
        { "10", "No changes to apply were found during preparation phase", StatusCode.Aborted, "Aborted: No changes to apply" },
        { "14", "running configuration is locked", StatusCode.Unavailable, "Unavailable: running configuration is locked" },
        { "3", "Failed to update %22/frr-x:y%22", StatusCode.InvalidArgument, "InvalidArgument: Failed to update \"/frr-x:y\"" },
        { "9", null, StatusCode.FailedPrecondition, "failed: FailedPrecondition" },
    };

    [Theory]
    [MemberData(nameof(Trailers))]
    public async Task Error_statuses_name_rpc_daemon_and_address(string status, string? message, StatusCode expected, string text)
    {
        var (client, channel) = Client(Answer(_ => GrpcResponse([], status, message)));
        using var _ = channel;

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() => client.LockConfigAsync());

        Assert.Equal(expected, error.StatusCode);
        Assert.Equal("LockConfig", error.Method);
        Assert.Contains("FRR northbound LockConfig on staticd (127.0.0.1:50051) failed", error.Message);
        Assert.Contains(text, error.Message);
    }

    [Fact]
    public async Task Aborted_commit_is_no_change_through_the_real_channel()
    {
        var (client, channel) = Client(Capabilities8_4_4(r => r.RequestUri!.AbsolutePath switch
        {
            "/frr.Northbound/CreateCandidate" => GrpcResponse([new CreateCandidateResponse { CandidateId = 1 }], "0"),
            "/frr.Northbound/EditCandidate" => GrpcResponse([new EditCandidateResponse()], "0"),
            "/frr.Northbound/Commit" => GrpcResponse([], "10", "No changes to apply were found during preparation phase"),
            "/frr.Northbound/DeleteCandidate" => GrpcResponse([new DeleteCandidateResponse()], "0"),
            var other => throw new InvalidOperationException(other),
        }));
        using var _ = channel;

        Assert.Equal(ApplyResult.NoChange, await client.ApplyAsync([YangEdit.Update("/frr-a:x", "1")]));
    }

    [Fact]
    public async Task Plain_text_status_details_are_kept_as_text_not_parsed_as_google_rpc_status()
    {
        var (client, channel) = Client(Answer(_ =>
            GrpcResponse([], "3", "Failed to validate candidate", detailsText: "Validation failed: nexthop interface 'x' does not exist\n")));
        using var _ = channel;

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() => client.CommitAsync(1, CommitPhase.Validate));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Failed to validate candidate", error.Detail);
        Assert.Equal("Validation failed: nexthop interface 'x' does not exist", error.ServerDetails);
        Assert.EndsWith("(Validation failed: nexthop interface 'x' does not exist)", error.Message);
    }

    [Fact]
    public async Task Get_drops_the_empty_message_frr_sends_before_an_error_status()
    {
        var (client, channel) = Client(Capabilities8_4_4(_ => GrpcResponse([new GetResponse()], "3", "Data path not found")));
        using var _ = channel;

        var received = new List<NorthboundData>();
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(async () =>
        {
            await foreach (var data in client.GetAsync(["/frr-routing:routing"], NorthboundDataType.Config))
                received.Add(data);
        });

        Assert.Empty(received);
        Assert.Equal((StatusCode.InvalidArgument, "Data path not found", "Get"), (error.StatusCode, error.Detail, error.Method));
    }

    [Fact]
    public async Task Get_yields_every_message_then_checks_the_status()
    {
        var messages = Enumerable.Range(1, 3)
            .Select(i => new GetResponse { Timestamp = i, Data = new DataTree { Data = new string('y', i * 10_000) } }).ToList();
        var (client, channel) = Client(Capabilities8_4_4(_ => GrpcResponse(messages, "0")));
        using var _ = channel;

        var received = new List<NorthboundData>();
        await foreach (var data in client.GetAsync(["/a:b", "/c:d", "/e:f"], NorthboundDataType.State))
            received.Add(data);

        Assert.Equal(messages.Select(m => (m.Timestamp, m.Data.Data)), received.Select(d => (d.Timestamp.ToUnixTimeSeconds(), d.Json)));
    }

    [Fact]
    public async Task Oversized_message_is_resource_exhausted()
    {
        var big = new GetResponse { Data = new DataTree { Data = new string('x', 2 << 20) } };
        var (client, channel) = Client(Capabilities8_4_4(_ => GrpcResponse([big], "0")));
        using var _ = channel;

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(async () =>
        {
            await foreach (var _ in client.GetAsync(["/frr-vrf:lib"], NorthboundDataType.State)) { }
        });
        Assert.Equal((StatusCode.ResourceExhausted, "Get"), (error.StatusCode, error.Method));
    }

    [Fact]
    public async Task Unreachable_daemon_is_unavailable_with_the_cause()
    {
        var (client, channel) = Client(new ScriptedHandler((_, _) =>
            throw new HttpRequestException("Connection refused (127.0.0.1:50051)", new System.Net.Sockets.SocketException(111))));
        using var _ = channel;

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() => client.GetCapabilitiesAsync());

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("Connection refused (127.0.0.1:50051)", error.Message);
        Assert.Contains("GetCapabilities on staticd (127.0.0.1:50051)", error.Message);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Expired_deadline_is_deadline_exceeded()
    {
        var (client, channel) = Client(new ScriptedHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        }), timeout: TimeSpan.FromMilliseconds(50));
        using var _ = channel;

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() => client.GetCapabilitiesAsync());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("no complete answer within 50 ms", error.Message);
    }

    [Fact]
    public async Task Caller_cancellation_is_operation_canceled_not_an_rpc_error()
    {
        using var cts = new CancellationTokenSource();
        var (client, channel) = Client(new ScriptedHandler(async (_, ct) =>
        {
            await cts.CancelAsync();
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        }));
        using var _ = channel;

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetCapabilitiesAsync(cts.Token));
        Assert.Equal(cts.Token, error.CancellationToken);
    }

    [Fact]
    public void Channel_options_keep_keepalive_pings_off_and_cancellation_as_exceptions()
    {
        var options = new FrrGrpcOptions();
        var channelOptions = FrrGrpcChannels.CreateChannelOptions(options);
        using var handler = Assert.IsType<SocketsHttpHandler>(channelOptions.HttpHandler);

        // FRR 8.4's server drops the connection when pinged: keep-alive pings must stay off.
        Assert.Equal(Timeout.InfiniteTimeSpan, handler.KeepAlivePingDelay);
        Assert.False(handler.EnableMultipleHttp2Connections);
        Assert.True(channelOptions.ThrowOperationCanceledOnCancellation);
        Assert.Equal(0, channelOptions.MaxRetryAttempts);
        Assert.Equal(options.MaxReceiveMessageSize, channelOptions.MaxReceiveMessageSize);
        Assert.Null(handler.ConnectCallback);
    }

    [Fact]
    public void Connect_callback_is_the_handlers_connect()
    {
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> connect = (_, _) => throw new InvalidOperationException();
        using var handler = FrrGrpcChannels.CreateHandler(new FrrGrpcOptions { ConnectCallback = connect });
        Assert.Same(connect, handler.ConnectCallback);
    }

    [Fact]
    public void Only_cleartext_addresses_are_accepted()
    {
        var error = Assert.Throws<ArgumentException>(() => FrrGrpcChannels.Create(new Uri("https://127.0.0.1:50051"), new FrrGrpcOptions()));
        Assert.Contains("cleartext", error.Message);
    }
}
