using Overlay.Core.Config;
using Overlay.Daemon.Adapters;
using Overlay.Daemon.Ports;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Frr.Vty;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.WireGuard;
using Serilog.Extensions.Logging;

namespace Overlay.Daemon.Hosting;

/// <summary>
/// Wires the real adapters behind the daemon's ports: FRR northbound gRPC (staticd, bfdd, zebra) and vty
/// (ospfd, bgpd) at the endpoints of the config's <c>frr</c> block, rtnetlink and its monitor, TUN leases and
/// the WireGuard composite client, all in the namespace overlayd runs in (FRR's gRPC ports are reached on the
/// node's own loopback). The clients live as long as the process; nothing here is disposed before exit.
/// </summary>
public static class PlatformPorts
{
    public static DaemonPorts Create(NodeConfig config, Serilog.ILogger logger) => Create(config, logger, Handoff.InheritedLeases.None);

    /// <param name="inherited">Lease fds handed over by the previous process or the service manager: adopted by name; routes via them count as overlayd's own.</param>
    public static DaemonPorts Create(NodeConfig config, Serilog.ILogger logger, Handoff.InheritedLeases inherited)
    {
        ArgumentNullException.ThrowIfNull(config);
        var loggers = new SerilogLoggerFactory(logger, dispose: false);
        var frr = config.Frr;
        var endpoints = new FrrEndpoints(frr.Grpc.Host, new Dictionary<FrrDaemon, int>
        {
            [FrrDaemon.Zebra] = frr.Grpc.Zebra,
            [FrrDaemon.Staticd] = frr.Grpc.Staticd,
            [FrrDaemon.Bfdd] = frr.Grpc.Bfdd,
        });
        var routing = new FrrRouting(new NorthboundClientFactory(endpoints, loggerFactory: loggers));
        var vtyOptions = new VtyOptions { Directory = frr.VtyDir, Pathspace = frr.Pathspace };
        var vty = new UnixVty(vtyOptions);
        var show = new FrrShow(vty);

        var ns = NetNamespace.Current;
        var rtnl = RtnetlinkClient.Open(ns);
        var kernel = new NetlinkKernelRoutes(rtnl, ns);
        var wireGuard = WireGuardClient.Create(new WireGuardClientOptions { Logger = loggers.CreateLogger("Overlay.Linux.WireGuard") });

        return new DaemonPorts(
            Advertiser: new FrrVipAdvertiser(routing, config.Vips.Select(v => v.Lease).Concat(inherited.Names)),
            UpstreamProbe: new BgpUpstreamPathProbe(vty, show, vtyOptions.SocketPath),
            WireGuard: new WireGuardStateSource(wireGuard),
            Links: new NetlinkLinkStateSource(rtnl, ns),
            Bfd: new FrrBfdStateSource(routing),
            Routing: new FrrRoutingStateSource(show, vtyOptions.SocketPath),
            Leases: new TunLeaseManager(ns, rtnl, inherited),
            KernelRoutes: kernel,
            RouteLookup: kernel,
            Rib: new FrrRibSource(routing),
            Inventory: InventoryOwnershipSource.Create(config))
        {
            PeerWriter = new WireGuardPeerWriter(wireGuard),
            Prober = new IcmpTunnelProber(),
        };
    }
}
