namespace Overlay.Core.Inventories;

/// <summary>
/// Which nodes forward overlay traffic between their tunnels, and which can see replies arrive over another
/// tunnel than the one their route leaves by. Render derives the sysctl drop-in and overlayd's <c>transit</c> flag
/// from it; lint and the daemon read the same answer.
/// </summary>
public static class TransitNodes
{
    /// <summary>
    /// True for hubs, for full-mesh nodes with two or more tunnels (OSPF reroutes around a broken tunnel through
    /// them) and for nodes at either end of a shortcut (a hub reaches the far spoke through the near one when its own
    /// tunnel to it fails).
    /// </summary>
    public static bool IsTransit(Inventory inventory, Node node)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(node);
        if (node.Role == NodeRole.Hub) return true;
        int tunnels = inventory.TunnelsOf(node.Name).Count;
        if (inventory.Topology.Kind == TopologyKind.FullMesh) return tunnels >= 2;
        return inventory.Topology.Shortcuts.Any(s => s.A == node.Name || s.B == node.Name);
    }

    /// <summary>Two or more tunnels: a reply may come back over another tunnel than the route out, which strict rp_filter drops.</summary>
    public static bool ExpectsAsymmetricPaths(Inventory inventory, Node node)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(node);
        return inventory.TunnelsOf(node.Name).Count >= 2;
    }

    /// <summary>True when any node carries IPv6 in the overlay (then transit nodes forward IPv6 too).</summary>
    public static bool CarriesIPv6(Inventory inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        return inventory.Nodes.Any(n => n.OverlayV6 is not null || n.Subnets.Any(s => s.Prefix.IsIPv6));
    }
}
