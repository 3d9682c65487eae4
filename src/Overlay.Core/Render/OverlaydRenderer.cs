using System.Net;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Core.Render;

/// <summary>
/// A node's overlayd.yaml: the inventory's view of the node as a <see cref="NodeConfig"/>, written by the one writer
/// (<see cref="NodeConfigYaml"/>), so what render emits is what overlayd reads back.
/// </summary>
internal static class OverlaydRenderer
{
    public static void Render(Utf8Out o, InventoryText text, NodeText self, List<NodeLink> links) =>
        NodeConfigYaml.Write(o, Build(text, self, links), Renderer.Header);

    /// <summary>The node's overlayd configuration as the inventory describes it.</summary>
    public static NodeConfig Build(InventoryText text, NodeText self, List<NodeLink> links)
    {
        var inventory = text.Inventory;
        var node = self.Node;
        var dm = inventory.Daemon;
        var frr = inventory.Frr;

        var anycast = AnycastEndpoints.InterfacesOf(inventory, node);
        var interfaces = new List<WgInterfaceConfig>(anycast.Count + links.Count);
        foreach (var ai in anycast) interfaces.Add(AnycastInterface(node, ai, inventory.Defaults));
        foreach (var l in links)
        {
            var keepalive = l.Tunnel.Keepalive ? Nat.KeepaliveAdvice.For(l.Self.Node, l.Peer.Node, inventory.Defaults) : TimeSpan.Zero;
            interfaces.Add(new WgInterfaceConfig(l.Interface, l.Peer.Node.Name, l.Peer.Node.PublicKey, l.ListenPort, keepalive,
                new TunnelAddress(l.LocalAddress, 31), l.PeerAddress, Bfd: true, inventory.Gate)
            {
                // The far end is an anycast VIP's site: probe it (peerAddress) and reset the session when the route moves.
                Watchdog = AnycastEndpoints.Of(inventory, node, l.Peer.Node.Name)?.Watchdog,
            });
        }

        var vips = inventory.VipsOf(node.Name).Select(v => new VipConfig(v.Name, v.Prefix, v.Policy, v.LeaseInterface,
            // A VIP served on an anycast WireGuard endpoint is as healthy as that interface (its health peer).
            v.WireGuard is { } w ? [w.InterfaceName(node)] : [.. links.Select(l => l.Interface)])).ToList();

        return new NodeConfig(
            node.Name,
            node.Site,
            new ApiConfig(dm.ApiSocket, Convert.ToInt32(dm.ApiMode, 8), dm.ApiGroup),
            new MetricsConfig(IPEndPoint.Parse(dm.MetricsListen)),
            new FrrConfig(frr.Pathspace, frr.VtyDir, new FrrGrpcConfig(frr.GrpcHost, frr.ZebraPort, frr.StaticdPort, frr.BfddPort)),
            interfaces,
            inventory.Policies.ToDictionary(p => p.Name, StringComparer.Ordinal),
            vips,
            [],
            new DrainConfig(dm.DrainFile, dm.ShutdownTimeout),
            dm.Inventory)
        {
            // overlayd reports a transit node whose kernel does not forward (render's sysctl drop-in not applied).
            Transit = TransitNodes.IsTransit(inventory, node),
        };
    }

    /// <summary>
    /// An anycast interface: on a member, overlayd watches its health peer (keepalive, BFD); on a client, the VIP's sites
    /// with the session watchdog (unless switched off), no BFD.
    /// </summary>
    private static WgInterfaceConfig AnycastInterface(Node node, AnycastInterface ai, InventoryDefaults defaults)
    {
        var w = ai.WireGuard;
        if (ai.Member)
        {
            var h = w.HealthOf(node.Name)!;
            return new WgInterfaceConfig(ai.Name, h.Name, h.PublicKey, w.Port, h.Keepalive, h.Address,
                h.PeerAddress, Bfd: true, [IpPrefix.Host(h.PeerAddress)]);
        }
        var a = node.AnycastEndpoint!;
        var keepalive = node.BehindNat ? Nat.KeepaliveAdvice.For(node, node, defaults) : TimeSpan.Zero;
        return new WgInterfaceConfig(ai.Name, ai.Vip.Name, w.PublicKey, node.ListenPort, keepalive, a.Address!,
            w.Address.Address, Bfd: false, [IpPrefix.Host(w.Address.Address)])
        { Watchdog = a.Watchdog };
    }
}
