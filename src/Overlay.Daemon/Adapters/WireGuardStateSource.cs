using Overlay.Core.Health;
using Overlay.Daemon.Ports;
using Overlay.Linux.WireGuard;

namespace Overlay.Daemon.Adapters;

/// <summary>WireGuard device state through the composite client (kernel genetlink first, then userspace UAPI).</summary>
internal sealed class WireGuardStateSource(IWireGuardClient client) : IWireGuardStateSource
{
    public async Task<WireGuardInterfaceState?> GetInterfaceAsync(string name, CancellationToken cancellationToken)
    {
        WireGuardDevice device;
        try { device = await client.DeviceAsync(name, cancellationToken); }
        catch (WireGuardDeviceNotFoundException) { return null; }
        return new WireGuardInterfaceState(device.Name, device.ListenPort, device.Peers.Select(p => new WireGuardPeerState(
            p.PublicKey, p.LastHandshake, p.ReceiveBytes, p.TransmitBytes, p.PersistentKeepalive, p.AllowedIPs,
            p.Endpoint?.ToString())).ToList());
    }
}
