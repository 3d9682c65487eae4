using System.Net;
using System.Net.Http.Headers;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound.Protocol;

namespace Overlay.Frr.Tests;

/// <summary>The transport against a scripted HTTP handler: headers, status mapping, deadlines, cancellation.</summary>
public sealed class HttpGrpcTransportTests
{
    private static readonly GrpcMethod<GetCapabilitiesRequest, GetCapabilitiesResponse> Capabilities =
        new("frr.Northbound", "GetCapabilities", GetCapabilitiesResponse.Parser);

    private static readonly GrpcMethod<GetRequest, GetResponse> Get = new("frr.Northbound", "Get", GetResponse.Parser);

    private sealed class ScriptedHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];
        public List<byte[]> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            Bodies.Add(await request.Content!.ReadAsByteArrayAsync(cancellationToken));
            return await answer(request, cancellationToken);
        }
    }

    private static HttpResponseMessage GrpcResponse(IEnumerable<Google.Protobuf.IMessage> messages, string? status, string? message = null)
    {
        var content = new ByteArrayContent(messages.SelectMany(GrpcFraming.Frame).ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content, Version = HttpVersion.Version20 };
        if (status is not null)
            response.TrailingHeaders.TryAddWithoutValidation("grpc-status", status);
        if (message is not null)
            response.TrailingHeaders.TryAddWithoutValidation("grpc-message", message);
        return response;
    }

    private static HttpGrpcTransport Transport(ScriptedHandler handler, TimeSpan? timeout = null) =>
        new(new HttpMessageInvoker(handler), new Uri("http://127.0.0.1:50051"), "zebra (127.0.0.1:50051)",
            new GrpcTransportOptions { DefaultTimeout = timeout ?? TimeSpan.FromSeconds(30), MaxReceiveMessageSize = 1 << 20 }, disposeInvoker: true);

    [Fact]
    public async Task Unary_call_sends_a_grpc_request_and_parses_the_answer()
    {
        var handler = new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse([new GetCapabilitiesResponse { FrrVersion = "8.4.4" }], "0")));
        using var transport = Transport(handler);

        var answer = await transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), new GrpcCallOptions(TimeSpan.FromSeconds(2)), default);

        Assert.Equal("8.4.4", answer.FrrVersion);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:50051/frr.Northbound/GetCapabilities", request.RequestUri!.ToString());
        Assert.Equal(HttpVersion.Version20, request.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, request.VersionPolicy);
        Assert.Equal("application/grpc", request.Content!.Headers.ContentType!.MediaType);
        Assert.Equal("trailers", request.Headers.GetValues("te").Single());
        Assert.Equal("2000000u", request.Headers.GetValues("grpc-timeout").Single());
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0 }, handler.Bodies.Single());
    }

    public static TheoryData<string, string?, GrpcStatusCode, string> Trailers => new()
    {
        { "10", "No changes to apply were found during preparation phase", GrpcStatusCode.Aborted, "Aborted: No changes to apply" },
        { "14", "running configuration is locked", GrpcStatusCode.Unavailable, "Unavailable: running configuration is locked" },
        { "3", "Failed to update %22/frr-x:y%22", GrpcStatusCode.InvalidArgument, "InvalidArgument: Failed to update \"/frr-x:y\"" },
        { "9", null, GrpcStatusCode.FailedPrecondition, "failed: FailedPrecondition" },
        { "99", "odd", GrpcStatusCode.Unknown, "Unknown: odd" },
    };

    [Theory]
    [MemberData(nameof(Trailers))]
    public async Task Error_trailers_become_typed_exceptions_naming_rpc_and_daemon(string status, string? message, GrpcStatusCode expected, string text)
    {
        using var transport = Transport(new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse([], status, message))));

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, default));

        Assert.Equal(expected, error.StatusCode);
        Assert.Equal("GetCapabilities", error.Method);
        Assert.Contains("FRR northbound GetCapabilities on zebra (127.0.0.1:50051) failed", error.Message);
        Assert.Contains(text, error.Message);
    }

    [Fact]
    public async Task Trailers_only_response_carries_the_status_in_the_headers()
    {
        using var transport = Transport(new ScriptedHandler((_, _) =>
        {
            var response = GrpcResponse([], status: null);
            response.Headers.TryAddWithoutValidation("grpc-status", "5");
            response.Headers.TryAddWithoutValidation("grpc-message", "candidate configuration not found");
            return Task.FromResult(response);
        }));

        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, default));
        Assert.Equal(GrpcStatusCode.NotFound, error.StatusCode);
        Assert.Equal("candidate configuration not found", error.Detail);
    }

    [Fact]
    public async Task Missing_status_trailer_is_internal()
    {
        using var transport = Transport(new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse([new GetCapabilitiesResponse()], status: null))));
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, default));
        Assert.Equal(GrpcStatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task Ok_without_a_message_is_internal_for_unary_calls()
    {
        using var transport = Transport(new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse([], "0"))));
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, default));
        Assert.Equal(GrpcStatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task Http_error_without_grpc_status_is_mapped()
    {
        using var transport = Transport(new ScriptedHandler((_, _) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new ByteArrayContent([]) })));
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, default));
        Assert.Equal(GrpcStatusCode.Unavailable, error.StatusCode);
        Assert.Contains("503", error.Detail);
    }

    [Fact]
    public async Task Unreachable_daemon_is_unavailable()
    {
        using var transport = Transport(new ScriptedHandler((_, _) => throw new HttpRequestException("Connection refused (127.0.0.1:50051)")));
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, default));
        Assert.Equal(GrpcStatusCode.Unavailable, error.StatusCode);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Oversized_message_is_resource_exhausted()
    {
        var big = new GetResponse { Data = new DataTree { Data = new string('x', 2 << 20) } };
        using var transport = Transport(new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse([big], "0"))));
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(async () =>
        {
            await foreach (var _ in transport.ServerStreamingAsync(Get, new GetRequest(), default, default)) { }
        });
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("Get", error.Method);
    }

    [Fact]
    public async Task Stream_yields_every_message_then_checks_the_trailer()
    {
        var messages = Enumerable.Range(1, 3).Select(i => new GetResponse { Timestamp = i, Data = new DataTree { Data = new string('y', i * 10_000) } }).ToList();
        using var transport = Transport(new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse(messages, "0"))));

        var received = new List<GetResponse>();
        await foreach (var message in transport.ServerStreamingAsync(Get, new GetRequest(), default, default))
            received.Add(message);

        Assert.Equal(messages, received);
    }

    [Fact]
    public async Task Stream_error_after_data_surfaces_after_the_data()
    {
        var first = new GetResponse { Timestamp = 1 };
        using var transport = Transport(new ScriptedHandler((_, _) => Task.FromResult(GrpcResponse([first], "3", "Data path not found"))));

        var received = new List<GetResponse>();
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(async () =>
        {
            await foreach (var message in transport.ServerStreamingAsync(Get, new GetRequest(), default, default))
                received.Add(message);
        });
        Assert.Equal([first], received);
        Assert.Equal(GrpcStatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Data path not found", error.Detail);
    }

    [Fact]
    public async Task Expired_deadline_is_deadline_exceeded()
    {
        using var transport = Transport(new ScriptedHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        }));
        var error = await Assert.ThrowsAsync<FrrNorthboundException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), new GrpcCallOptions(TimeSpan.FromMilliseconds(20)), default));
        Assert.Equal(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Caller_cancellation_is_operation_canceled_not_an_rpc_error()
    {
        using var cts = new CancellationTokenSource();
        using var transport = Transport(new ScriptedHandler(async (_, ct) =>
        {
            await cts.CancelAsync();
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        }));
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            transport.UnaryAsync(Capabilities, new GetCapabilitiesRequest(), default, cts.Token));
        Assert.Equal(cts.Token, error.CancellationToken);
    }

    [Fact]
    public void Only_cleartext_addresses_are_accepted()
    {
        Assert.Throws<ArgumentException>(() => HttpGrpcTransport.Create(new Uri("https://127.0.0.1:50051"), "zebra"));
    }
}
