using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Grpc;

namespace Overlay.Frr.Northbound;

/// <summary>
/// Builds one <see cref="INorthboundClient"/> per daemon, each over its own Grpc.Net.Client channel
/// (FRR 8.4 serves one endpoint per daemon). Clients are cached and owned by the factory:
/// dispose the factory, not the clients.
/// </summary>
public sealed class NorthboundClientFactory : IDisposable
{
    private readonly FrrEndpoints _endpoints;
    private readonly FrrGrpcOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ConcurrentDictionary<FrrDaemon, Lazy<INorthboundClient>> _clients = new();

    public NorthboundClientFactory(FrrEndpoints endpoints, FrrGrpcOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _endpoints = endpoints ?? throw new ArgumentNullException(nameof(endpoints));
        _options = options ?? new FrrGrpcOptions();
        _loggerFactory = loggerFactory;
    }

    public FrrEndpoints Endpoints => _endpoints;

    public INorthboundClient For(FrrDaemon daemon) => _clients.GetOrAdd(daemon, d => new Lazy<INorthboundClient>(() =>
    {
        var address = _endpoints.GetAddress(d);
        var channel = FrrGrpcChannels.Create(address, _options);
        return new NorthboundClient(d, channel.CreateCallInvoker(), Target(d, address), _options.DefaultTimeout, channel,
            _loggerFactory?.CreateLogger<NorthboundClientFactory>());
    })).Value;

    /// <summary>A client over any call invoker (a test double, or a channel the caller owns).</summary>
    public static INorthboundClient CreateClient(FrrDaemon daemon, CallInvoker invoker, string target, TimeSpan? timeout = null, ILogger? logger = null) =>
        new NorthboundClient(daemon, invoker, target, timeout ?? new FrrGrpcOptions().DefaultTimeout, owned: null, logger);

    /// <summary>How errors name a daemon's endpoint, e.g. <c>zebra (127.0.0.1:50051)</c>.</summary>
    public static string Target(FrrDaemon daemon, Uri address) => $"{daemon.ToDaemonName()} ({address.Authority})";

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
            client.Value.Dispose();
        _clients.Clear();
    }
}
