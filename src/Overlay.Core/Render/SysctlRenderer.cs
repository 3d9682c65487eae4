using Overlay.Core.Inventories;

namespace Overlay.Core.Render;

/// <summary>
/// <c>sysctl.d/60-overlay.conf</c> for nodes that forward between tunnels (IPv4, and IPv6 when the overlay
/// carries it) or that have several tunnels (loose reverse-path filtering: during a failover, or with unequal
/// costs, a reply arrives over another tunnel than the route out, and strict rp_filter drops it). The kernel
/// uses the larger of <c>all</c> and the interface's value, so <c>all</c> and <c>default</c> are both set.
/// </summary>
internal static class SysctlRenderer
{
    public const string RelativePath = "sysctl.d/60-overlay.conf";

    /// <summary>Writes the file and returns true when the node needs one.</summary>
    public static bool Render(Utf8Out o, InventoryText text, NodeText self)
    {
        var inventory = text.Inventory;
        var node = self.Node;
        bool transit = TransitNodes.IsTransit(inventory, node);
        bool asymmetric = TransitNodes.ExpectsAsymmetricPaths(inventory, node);
        if (!transit && !asymmetric) return false;
        o.Line($"# {Renderer.Header}");
        o.Line("# Apply with: sysctl -p /etc/sysctl.d/60-overlay.conf (and it applies at every boot).");
        if (transit)
        {
            o.Line($"# {node.Name} is a transit node: it forwards overlay traffic between its tunnels.");
            o.Line("net.ipv4.ip_forward = 1");
            if (TransitNodes.CarriesIPv6(inventory))
            {
                // Forwarding makes the kernel ignore router advertisements on interfaces with accept_ra = 1.
                o.Line("# IPv6 forwarding: an underlay configured by router advertisements needs accept_ra = 2 on its interface.");
                o.Line("net.ipv6.conf.all.forwarding = 1");
            }
        }
        if (asymmetric)
        {
            int mode = (int)inventory.Defaults.RpFilter;
            string what = inventory.Defaults.RpFilter switch
            {
                RpFilterMode.Loose => "loose",
                RpFilterMode.Strict => "strict (defaults.rpFilter)",
                _ => "off (defaults.rpFilter)",
            };
            o.Line($"# Several tunnels: replies may arrive over another tunnel than the route out; reverse-path filtering {what}.");
            o.Line($"net.ipv4.conf.all.rp_filter = {mode}");
            o.Line($"net.ipv4.conf.default.rp_filter = {mode}");
        }
        return true;
    }
}
