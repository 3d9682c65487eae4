namespace Overlay.Core.Health;

/// <summary>The kernel's forwarding switches as read on the node (null: could not be read).</summary>
public sealed record ForwardingState(bool? IPv4, bool? IPv6);

/// <summary>A problem with the node itself (not one VIP or peer), as <c>overlayctl status</c> lists it.</summary>
public sealed record NodeFinding(string Code, string Message, string Fix);

/// <summary>
/// A transit node (overlayd.yaml <c>transit: true</c>: render says it forwards between its tunnels) with IPv4
/// forwarding off drops every packet routed through it, while every route looks right. Pure: the daemon reads the
/// switches and reports what this returns.
/// </summary>
public static class TransitForwarding
{
    public const string ForwardingOff = "transit-forwarding-off";
    public const string ForwardingUnknown = "transit-forwarding-unknown";

    public static NodeFinding? Evaluate(bool transit, ForwardingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!transit) return null;
        return state.IPv4 switch
        {
            false => new NodeFinding(ForwardingOff,
                "this node is a transit node (overlayd.yaml transit: true) but net.ipv4.ip_forward is 0: traffic routed through it between tunnels is dropped",
                "apply render's sysctl drop-in: copy NODE/sysctl.d/60-overlay.conf to /etc/sysctl.d/ and run sysctl -p /etc/sysctl.d/60-overlay.conf"),
            null => new NodeFinding(ForwardingUnknown,
                "this node is a transit node but net.ipv4.ip_forward could not be read",
                "check that /proc/sys/net/ipv4/ip_forward is readable by overlayd"),
            _ => null,
        };
    }
}
