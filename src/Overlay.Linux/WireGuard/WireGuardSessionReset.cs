using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Drops a peer's session (keys, receiver index, handshake state) without changing its configuration: one set
/// that removes the peer and adds it back with identical settings. WireGuard has no "rehandshake now" command; a
/// freshly added peer has no session, so the next packet to it starts a handshake at once (a new peer's last
/// initiation counts as long ago). On userspace devices the two operations are one UAPI <c>set</c> transaction
/// (wireguard-go applies it under its device lock); on the kernel they are two peer entries in one
/// WG_CMD_SET_DEVICE message (the kernel handles the entries in order), unless the peer's allowed IPs are too many
/// for one message, when the codec splits it and the re-add follows in the next message.
/// </summary>
public static class WireGuardSessionReset
{
    /// <summary>The change that resets <paramref name="peer"/>'s session: remove, then re-add as it is configured now.</summary>
    public static WireGuardDeviceConfig Plan(WireGuardPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return new WireGuardDeviceConfig
        {
            Peers =
            [
                new WireGuardPeerConfig(peer.PublicKey) { Remove = true },
                new WireGuardPeerConfig(peer.PublicKey)
                {
                    PresharedKey = peer.PresharedKey,
                    // The endpoint as the device has it now: for an anycast endpoint the VIP (sites answer from it).
                    Endpoint = peer.Endpoint,
                    PersistentKeepalive = peer.PersistentKeepalive > TimeSpan.Zero ? peer.PersistentKeepalive : null,
                    ReplaceAllowedIPs = true,
                    AllowedIPs = peer.AllowedIPs,
                },
            ],
        };
    }

    /// <summary>Reads the device, then resets the peer's session; returns the peer as it was configured.</summary>
    /// <exception cref="WireGuardDeviceNotFoundException">The device does not exist.</exception>
    /// <exception cref="WireGuardException">The device has no such peer, or the set failed.</exception>
    public static async Task<WireGuardPeer> ResetPeerSessionAsync(this IWireGuardClient client, string device, WireGuardKey peer,
                                                                  CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var current = await client.DeviceAsync(device, cancellationToken).ConfigureAwait(false);
        var have = current.Peers.FirstOrDefault(p => p.PublicKey == peer)
            ?? throw new WireGuardException(device, "set", $"the device has no peer {peer}; nothing to reset");
        await client.ConfigureDeviceAsync(device, Plan(have), cancellationToken).ConfigureAwait(false);
        return have;
    }
}
