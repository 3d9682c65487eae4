using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Frr.Vty;

namespace Overlay.Lab;

/// <summary>
/// Overlay.Frr's clients wired to one lab node's FRR: northbound gRPC per daemon (connections opened
/// inside the node's namespace, where the ports are), and the vty sockets of its pathspace.
/// Owned by the lab: disposed at teardown.
/// </summary>
public sealed class LabRouter : IDisposable
{
    internal LabRouter(LabNode node, ILoggerFactory? loggerFactory)
    {
        Node = node;
        Endpoints = new FrrEndpoints("127.0.0.1", node.FrrDaemons.Keys.ToDictionary(d => d, d => d.GrpcPort()));
        Northbound = new NorthboundClientFactory(Endpoints, new FrrGrpcOptions
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = await RunningLab.ConnectTcpAsync(node.Namespace, context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }, loggerFactory);
        Routing = new FrrRouting(Northbound);
        Vty = new UnixVty(new VtyOptions { Pathspace = node.FrrPathspace });
        Show = new FrrShow(Vty);
    }

    public LabNode Node { get; }

    /// <summary>127.0.0.1 and the port of every daemon the node runs (reachable inside its namespace only).</summary>
    public FrrEndpoints Endpoints { get; }

    public NorthboundClientFactory Northbound { get; }

    /// <summary>VIP static routes, BFD peers and sessions, zebra's RIB over gRPC.</summary>
    public IFrrRouting Routing { get; }

    public IVty Vty { get; }

    /// <summary>OSPF neighbors and BGP state from the daemons' JSON over vty.</summary>
    public IFrrShow Show { get; }

    public void Dispose() => Northbound.Dispose();
}
