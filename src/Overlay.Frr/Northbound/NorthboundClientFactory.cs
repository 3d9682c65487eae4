using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Grpc;

namespace Overlay.Frr.Northbound;

/// <summary>
/// Builds one <see cref="INorthboundClient"/> per daemon over a shared HTTP/2 handler.
/// Clients are cached and owned by the factory: dispose the factory, not the clients.
/// </summary>
public sealed class NorthboundClientFactory : IDisposable
{
    private readonly FrrEndpoints _endpoints;
    private readonly GrpcTransportOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly HttpMessageInvoker _invoker;
    private readonly ConcurrentDictionary<FrrDaemon, INorthboundClient> _clients = new();

    public NorthboundClientFactory(FrrEndpoints endpoints, GrpcTransportOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _endpoints = endpoints ?? throw new ArgumentNullException(nameof(endpoints));
        _options = options ?? new GrpcTransportOptions();
        _loggerFactory = loggerFactory;
        _invoker = new HttpMessageInvoker(HttpGrpcTransport.CreateHandler(_options));
    }

    public FrrEndpoints Endpoints => _endpoints;

    public INorthboundClient For(FrrDaemon daemon) => _clients.GetOrAdd(daemon, d =>
    {
        var address = _endpoints.GetAddress(d);
        var transport = new HttpGrpcTransport(_invoker, address, $"{d.ToDaemonName()} ({address.Authority})", _options, disposeInvoker: false);
        return new NorthboundClient(d, transport, ownsTransport: true, _loggerFactory?.CreateLogger<NorthboundClientFactory>());
    });

    /// <summary>A client over any transport (e.g. a future Grpc.Net.Client adapter, or a test double).</summary>
    public static INorthboundClient CreateClient(FrrDaemon daemon, IGrpcTransport transport, ILogger? logger = null) =>
        new NorthboundClient(daemon, transport, ownsTransport: true, logger);

    public void Dispose()
    {
        foreach (var client in _clients.Values)
            client.Dispose();
        _clients.Clear();
        _invoker.Dispose();
    }
}
