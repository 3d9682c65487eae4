using System.Collections.ObjectModel;

namespace Overlay.Frr.Northbound;

/// <summary>
/// Where each daemon's northbound gRPC server listens. FRR 8.4 has no single endpoint:
/// every daemon loaded with <c>-M grpc:PORT</c> serves its own port.
/// The 8.4 server binds 0.0.0.0 without authentication, so keep these ports inside the node.
/// </summary>
public sealed class FrrEndpoints
{
    /// <summary>Ports on 127.0.0.1.</summary>
    public FrrEndpoints(IReadOnlyDictionary<FrrDaemon, int> ports)
        : this("127.0.0.1", ports)
    {
    }

    public FrrEndpoints(string host, IReadOnlyDictionary<FrrDaemon, int> ports)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentNullException.ThrowIfNull(ports);
        var errors = ports.Where(p => p.Value is < 1 or > 65535)
            .Select(p => $"{p.Key.ToDaemonName()}: port {p.Value} is outside 1..65535")
            .ToList();
        var duplicates = ports.GroupBy(p => p.Value).Where(g => g.Count() > 1)
            .Select(g => $"port {g.Key} is given to several daemons ({string.Join(", ", g.Select(p => p.Key.ToDaemonName()))}); each daemon needs its own");
        errors.AddRange(duplicates);
        if (errors.Count > 0)
            throw new ArgumentException("Invalid FRR gRPC endpoints: " + string.Join("; ", errors), nameof(ports));
        Host = host;
        Ports = new ReadOnlyDictionary<FrrDaemon, int>(new Dictionary<FrrDaemon, int>(ports));
    }

    /// <summary>Overlay's conventional ports (see docs/overlayd-config.md): zebra 50051, staticd 50052, bfdd 50053.</summary>
    public static FrrEndpoints Default { get; } = new("127.0.0.1", new Dictionary<FrrDaemon, int>
    {
        [FrrDaemon.Zebra] = 50051,
        [FrrDaemon.Staticd] = 50052,
        [FrrDaemon.Bfdd] = 50053,
    });

    public string Host { get; }

    public IReadOnlyDictionary<FrrDaemon, int> Ports { get; }

    public bool Has(FrrDaemon daemon) => Ports.ContainsKey(daemon);

    public Uri GetAddress(FrrDaemon daemon) =>
        Ports.TryGetValue(daemon, out var port)
            ? new UriBuilder(Uri.UriSchemeHttp, Host, port).Uri
            : throw new InvalidOperationException($"No gRPC port is configured for FRR daemon {daemon.ToDaemonName()} (frr.grpc.{daemon.ToDaemonName()}).");

    public FrrEndpoints With(FrrDaemon daemon, int port) =>
        new(Host, new Dictionary<FrrDaemon, int>(Ports) { [daemon] = port });
}
