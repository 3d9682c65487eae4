using System.Net;
using Overlay.Core.Net;

namespace Overlay.Core.Model;

/// <summary>Which implementation serves a device.</summary>
public enum WireGuardDeviceType
{
    /// <summary>The Linux kernel module, reached over generic netlink.</summary>
    Kernel,
    /// <summary>A userspace implementation (wireguard-go, boringtun) reached over its UAPI socket.</summary>
    Userspace,
}

/// <summary>
/// The running state of one WireGuard device as read from its backend (wgctrl-go's wgtypes.Device): the one model the
/// netlink/UAPI codecs produce and the health model, route explainer and daemon read, so nothing re-maps it.
/// </summary>
/// <param name="PrivateKey">Null when the device has no private key yet. Never printed.</param>
/// <param name="PublicKey">Derived from the private key; zero when there is none.</param>
/// <param name="ListenPort">0 while the device has no port (no private key, or link down on some backends).</param>
/// <param name="FirewallMark">0 means off.</param>
public sealed record WireGuardDevice(
    string Name,
    WireGuardDeviceType Type,
    WireGuardPrivateKey? PrivateKey,
    WireGuardKey PublicKey,
    int ListenPort,
    uint FirewallMark,
    IReadOnlyList<WireGuardPeer> Peers);

/// <summary>One peer of a device as the backend reports it.</summary>
/// <param name="PresharedKey">Null when the peer has none (the all-zero key). Never printed.</param>
/// <param name="Endpoint">Null until configured or learned from an authenticated packet.</param>
/// <param name="AllowedIPs">In the order the backend reports them.</param>
/// <param name="PersistentKeepalive">Zero means off.</param>
/// <param name="LastHandshake">Null when no handshake has completed yet.</param>
public sealed record WireGuardPeer(
    WireGuardKey PublicKey,
    WireGuardPresharedKey? PresharedKey,
    IPEndPoint? Endpoint,
    IReadOnlyList<IpPrefix> AllowedIPs,
    TimeSpan PersistentKeepalive,
    DateTimeOffset? LastHandshake,
    long ReceiveBytes,
    long TransmitBytes,
    int ProtocolVersion)
{
    /// <summary>Time since the last completed handshake, or null when there has been none.</summary>
    public TimeSpan? Age(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return LastHandshake is { } at ? time.GetUtcNow() - at : null;
    }
}
