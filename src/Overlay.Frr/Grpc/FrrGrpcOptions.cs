using System.Net.Http;

namespace Overlay.Frr.Grpc;

/// <summary>How the northbound client reaches FRR's gRPC servers (one channel per daemon).</summary>
public sealed class FrrGrpcOptions
{
    /// <summary>
    /// Opens the TCP connection instead of the handler's own connect. Lets a caller create the socket
    /// somewhere else, e.g. inside another network namespace (setns on a dedicated thread, connect,
    /// return a <see cref="System.Net.Sockets.NetworkStream"/>; the socket then works from any thread).
    /// The context's <see cref="SocketsHttpConnectionContext.DnsEndPoint"/> names host and port.
    /// Null = plain TCP connect in the calling process's namespace.
    /// </summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? ConnectCallback { get; init; }

    /// <summary>
    /// Largest response message accepted. FRR sends one message per requested path, and a full
    /// RIB can exceed gRPC's usual 4 MiB, hence the larger default.
    /// </summary>
    public int MaxReceiveMessageSize { get; init; } = 64 * 1024 * 1024;

    /// <summary>Deadline of every call (sent as <c>grpc-timeout</c> and enforced by the client).</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Limit for establishing the TCP connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
