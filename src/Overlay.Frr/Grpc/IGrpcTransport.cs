using Google.Protobuf;

namespace Overlay.Frr.Grpc;

/// <summary>
/// The one seam between Overlay's FRR code and a gRPC implementation: unary and server-streaming
/// calls to a single endpoint. Today <see cref="HttpGrpcTransport"/> (hand-written, HTTP/2 without
/// TLS over <see cref="System.Net.Http.SocketsHttpHandler"/>); an adapter over Grpc.Net.Client can
/// replace it without touching callers.
/// Failures surface as <see cref="FrrNorthboundException"/>; cancellation through the caller's token
/// as <see cref="OperationCanceledException"/>; an expired deadline as
/// <see cref="FrrNorthboundException"/> with <see cref="GrpcStatusCode.DeadlineExceeded"/>.
/// </summary>
public interface IGrpcTransport : IDisposable
{
    /// <summary>Human-readable endpoint, used in error messages (e.g. <c>zebra (127.0.0.1:50051)</c>).</summary>
    string Target { get; }

    Task<TResponse> UnaryAsync<TRequest, TResponse>(
        GrpcMethod<TRequest, TResponse> method, TRequest request, GrpcCallOptions options, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>;

    IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        GrpcMethod<TRequest, TResponse> method, TRequest request, GrpcCallOptions options, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>;
}

/// <summary>An RPC: <c>/{Service}/{Name}</c> and how to parse its responses.</summary>
public sealed record GrpcMethod<TRequest, TResponse>(string Service, string Name, MessageParser<TResponse> ResponseParser)
    where TRequest : IMessage<TRequest>
    where TResponse : IMessage<TResponse>
{
    public string Path => $"/{Service}/{Name}";
}

/// <summary>Per-call options. <see cref="Timeout"/> null = the transport's default timeout.</summary>
public readonly record struct GrpcCallOptions(TimeSpan? Timeout = null);
