using System.Net;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Rotation.Execution;

/// <summary>Resolves what a verification is about, for probes that read real state.</summary>
public static class RotationTargets
{
    /// <summary>
    /// The destination of a <see cref="VerificationKind.RouteVia"/> check: the overlay address of the node at the other
    /// end of the verification's interface (the rotating node seen from a peer, or the peer seen from the rotating node).
    /// </summary>
    public static IPAddress RouteDestination(Inventory inventory, RotationPlan plan, Verification v)
    {
        foreach (var t in plan.Tunnels)
        {
            string? other = v.Node == plan.Node && v.Target == t.NewInterface ? t.Peer
                : v.Node == t.Peer && v.Target == t.PeerNewInterface ? plan.Node : null;
            if (other is null) continue;
            return inventory.GetNode(other).OverlayV4
                ?? throw new ArgumentException($"node '{other}' has no overlay v4 address to check the route to", nameof(v));
        }
        throw new ArgumentException($"[{v.Node}] {v.Kind} {v.Target} is not on a tunnel of the plan for '{plan.Node}'", nameof(v));
    }
}
