using System.Net;
using Grpc.Net.Client;

namespace Overlay.Frr.Grpc;

/// <summary>
/// Grpc.Net.Client channels for FRR's northbound servers: cleartext HTTP/2 (h2c, <c>http://</c>),
/// one channel and one <see cref="SocketsHttpHandler"/> per daemon endpoint.
/// </summary>
internal static class FrrGrpcChannels
{
    /// <param name="handler">Replaces the socket handler (tests script FRR's answers with it).</param>
    public static GrpcChannel Create(Uri address, FrrGrpcOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(options);
        if (address.Scheme != Uri.UriSchemeHttp)
            throw new ArgumentException($"FRR's northbound server speaks cleartext HTTP/2; expected an http:// address, got '{address}'.", nameof(address));
        var channelOptions = CreateChannelOptions(options);
        if (handler is not null)
        {
            channelOptions.HttpHandler!.Dispose();
            channelOptions.HttpHandler = handler;
        }
        return GrpcChannel.ForAddress(address, channelOptions);
    }

    public static GrpcChannelOptions CreateChannelOptions(FrrGrpcOptions options) => new()
    {
        HttpHandler = CreateHandler(options),
        DisposeHttpClient = true,
        MaxReceiveMessageSize = options.MaxReceiveMessageSize,
        // Cancellation through the caller's token (and an expired deadline) surfaces as
        // OperationCanceledException; NorthboundClient tells the two apart.
        ThrowOperationCanceledOnCancellation = true,
        // No retries: a commit must not be sent twice behind the caller's back.
        MaxRetryAttempts = 0,
        // No LoggerFactory: Grpc.Net.Client logs a failed call start at Error with a stack trace; the
        // daemon logs FRR failures itself, one line per cause.
    };

    /// <summary>
    /// One multiplexed HTTP/2 connection per endpoint, opened through
    /// <see cref="FrrGrpcOptions.ConnectCallback"/> when given.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(FrrGrpcOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            // No HTTP/2 keep-alive pings (KeepAlivePingDelay stays infinite): FRR 8.4's gRPC server
            // drops the connection when pinged (4 calls → 4 TCP connections, measured); per-call
            // deadlines already catch a hung daemon.
            KeepAlivePingDelay = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
        };
        if (options.ConnectCallback is { } connect)
            handler.ConnectCallback = connect;
        return handler;
    }
}
