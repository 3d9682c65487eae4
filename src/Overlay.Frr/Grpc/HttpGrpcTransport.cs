using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Overlay.Frr.Grpc;

/// <summary>
/// gRPC over cleartext HTTP/2 (h2c, prior knowledge) on <see cref="HttpMessageInvoker"/>:
/// what FRR's northbound server speaks. Unary and server-streaming calls only.
/// A deadline is sent as <c>grpc-timeout</c> and enforced locally with a cancellation token.
/// </summary>
public sealed class HttpGrpcTransport : IGrpcTransport
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcProtocol.ContentType);

    private readonly HttpMessageInvoker _invoker;
    private readonly bool _disposeInvoker;
    private readonly Uri _address;
    private readonly GrpcTransportOptions _options;

    /// <param name="invoker">Usually from <see cref="CreateHandler"/>; may be shared by several transports.</param>
    /// <param name="address">e.g. <c>http://127.0.0.1:50051</c>.</param>
    /// <param name="target">Display name for errors, e.g. <c>zebra (127.0.0.1:50051)</c>.</param>
    public HttpGrpcTransport(HttpMessageInvoker invoker, Uri address, string target, GrpcTransportOptions options, bool disposeInvoker)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(options);
        if (address.Scheme != Uri.UriSchemeHttp)
            throw new ArgumentException($"FRR's northbound server speaks cleartext HTTP/2; expected an http:// address, got '{address}'.", nameof(address));
        _invoker = invoker;
        _disposeInvoker = disposeInvoker;
        _address = address;
        _options = options;
        Target = target;
    }

    /// <summary>Creates a standalone transport owning its own handler.</summary>
    public static HttpGrpcTransport Create(Uri address, string target, GrpcTransportOptions? options = null)
    {
        options ??= new GrpcTransportOptions();
        return new HttpGrpcTransport(new HttpMessageInvoker(CreateHandler(options)), address, target, options, disposeInvoker: true);
    }

    /// <summary>
    /// A handler for h2c: one multiplexed HTTP/2 connection per endpoint,
    /// <see cref="GrpcTransportOptions.ConnectCallback"/> used to open sockets when given.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(GrpcTransportOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            // No HTTP/2 keep-alive pings: gRPC C++ servers answer frequent pings with GOAWAY
            // (too_many_pings); per-call deadlines already catch a hung daemon.
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
        };
        if (options.ConnectCallback is { } connect)
            handler.ConnectCallback = connect;
        return handler;
    }

    public string Target { get; }

    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(
        GrpcMethod<TRequest, TResponse> method, TRequest request, GrpcCallOptions options, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        using var call = new Call(this, method.Name, options.Timeout ?? _options.DefaultTimeout, cancellationToken);
        try
        {
            using var response = await call.SendAsync(method.Path, request).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(call.Token).ConfigureAwait(false);
            var payload = await GrpcFraming.ReadMessageAsync(body, _options.MaxReceiveMessageSize, call.Token).ConfigureAwait(false);
            if (payload is not null
                && await GrpcFraming.ReadMessageAsync(body, _options.MaxReceiveMessageSize, call.Token).ConfigureAwait(false) is not null)
                throw call.Fail(GrpcStatusCode.Internal, "unary call received more than one response message");
            call.ThrowIfNotOk(response);
            if (payload is null)
                throw call.Fail(GrpcStatusCode.Internal, "server ended the call with status OK but sent no response message");
            return method.ResponseParser.ParseFrom(payload);
        }
        catch (Exception e) when (call.Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        GrpcMethod<TRequest, TResponse> method, TRequest request, GrpcCallOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        using var call = new Call(this, method.Name, options.Timeout ?? _options.DefaultTimeout, cancellationToken);
        HttpResponseMessage? response = null;
        Stream body;
        try
        {
            response = await call.SendAsync(method.Path, request).ConfigureAwait(false);
            body = await response.Content.ReadAsStreamAsync(call.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            response?.Dispose();
            if (call.Translate(e) is { } translated)
                throw translated;
            throw;
        }

        using (response)
        await using (body)
        {
            while (true)
            {
                TResponse? message;
                try
                {
                    var payload = await GrpcFraming.ReadMessageAsync(body, _options.MaxReceiveMessageSize, call.Token).ConfigureAwait(false);
                    if (payload is null)
                    {
                        call.ThrowIfNotOk(response);
                        yield break;
                    }
                    message = method.ResponseParser.ParseFrom(payload);
                }
                catch (Exception e) when (call.Translate(e) is { } translated)
                {
                    throw translated;
                }
                yield return message;
            }
        }
    }

    public void Dispose()
    {
        if (_disposeInvoker)
            _invoker.Dispose();
    }

    /// <summary>State of one call: its deadline, tokens and how its failures are reported.</summary>
    private sealed class Call : IDisposable
    {
        private readonly HttpGrpcTransport _transport;
        private readonly string _method;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _callerToken;
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _linked;

        public Call(HttpGrpcTransport transport, string method, TimeSpan timeout, CancellationToken callerToken)
        {
            _transport = transport;
            _method = method;
            _timeout = timeout;
            _callerToken = callerToken;
            _deadline = new CancellationTokenSource(timeout, transport._options.TimeProvider);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(callerToken, _deadline.Token);
        }

        public CancellationToken Token => _linked.Token;

        public async Task<HttpResponseMessage> SendAsync(string path, IMessage request)
        {
            _callerToken.ThrowIfCancellationRequested();
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_transport._address, path))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(GrpcFraming.Frame(request)),
            };
            message.Content.Headers.ContentType = GrpcContentType;
            message.Headers.TryAddWithoutValidation("te", "trailers");
            message.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.EncodeTimeout(_timeout));
            message.Headers.TryAddWithoutValidation("user-agent", "overlay-frr-grpc/1");

            var response = await _transport._invoker.SendAsync(message, Token).ConfigureAwait(false);
            try
            {
                // Trailers-only responses (an immediate error) carry grpc-status in the headers.
                if (response.Headers.Contains(GrpcProtocol.StatusHeader))
                    ThrowIfNotOk(response);
                if (response.StatusCode != HttpStatusCode.OK)
                    throw Fail(GrpcProtocol.FromHttpStatus(response.StatusCode), $"HTTP status {(int)response.StatusCode} {response.ReasonPhrase}");
                if (response.Content.Headers.ContentType?.MediaType is not { } mediaType
                    || !mediaType.StartsWith(GrpcProtocol.ContentType, StringComparison.OrdinalIgnoreCase))
                    throw Fail(GrpcStatusCode.Internal, $"unexpected content type '{response.Content.Headers.ContentType}'");
                return response;
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        /// <summary>Checks grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
        public void ThrowIfNotOk(HttpResponseMessage response)
        {
            HttpHeaders headers = response.TrailingHeaders.Contains(GrpcProtocol.StatusHeader) ? response.TrailingHeaders
                : response.Headers.Contains(GrpcProtocol.StatusHeader) ? response.Headers
                : throw Fail(GrpcStatusCode.Internal, "call ended without a grpc-status trailer");
            var status = GrpcProtocol.ParseStatus(headers.GetValues(GrpcProtocol.StatusHeader).FirstOrDefault());
            if (status == GrpcStatusCode.OK)
                return;
            var detail = headers.TryGetValues(GrpcProtocol.MessageHeader, out var messageValues)
                ? GrpcProtocol.DecodeMessage(messageValues.FirstOrDefault())
                : string.Empty;
            throw Fail(status, detail);
        }

        public FrrNorthboundException Fail(GrpcStatusCode status, string detail, Exception? inner = null) =>
            new(status, detail, _method, _transport.Target, inner);

        /// <summary>Maps an exception from the HTTP stack to the transport's contract; null = rethrow as is.</summary>
        public Exception? Translate(Exception e)
        {
            switch (e)
            {
                case FrrNorthboundException:
                    return null;
                case OperationCanceledException when _callerToken.IsCancellationRequested:
                    return new OperationCanceledException($"FRR northbound {_method} on {_transport.Target} was cancelled.", e, _callerToken);
                case OperationCanceledException when _deadline.IsCancellationRequested:
                    return Fail(GrpcStatusCode.DeadlineExceeded, $"no complete answer within {_timeout.TotalMilliseconds:0} ms", e);
                case GrpcFramingException framing:
                    return Fail(framing.StatusCode, framing.Message, e);
                case InvalidProtocolBufferException:
                    return Fail(GrpcStatusCode.Internal, "response message is not valid protobuf: " + e.Message, e);
                case HttpProtocolException protocol:
                    return Fail(GrpcStatusCode.Internal, $"HTTP/2 protocol error {protocol.ErrorCode}: {protocol.Message}", e);
                case HttpRequestException or IOException:
                    // HttpRequestException's own text is generic ("An error occurred while sending the request").
                    return Fail(GrpcStatusCode.Unavailable,
                        e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} ({inner.Message})" : e.Message, e);
                default:
                    return null;
            }
        }

        public void Dispose()
        {
            _linked.Dispose();
            _deadline.Dispose();
        }
    }
}
