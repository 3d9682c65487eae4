using Overlay.Core.Model;
using Overlay.Daemon.Ports;
using Overlay.Linux.WireGuard;

namespace Overlay.Daemon.Adapters;

/// <summary>WireGuard device state through the composite client (kernel genetlink first, then userspace UAPI).</summary>
internal sealed class WireGuardStateSource(IWireGuardClient client) : IWireGuardStateSource
{
    // The client's model is the one the daemon reads (Core.Model), so the device is handed over as it is.
    public async Task<WireGuardDevice?> GetInterfaceAsync(string name, CancellationToken cancellationToken)
    {
        try { return await client.DeviceAsync(name, cancellationToken); }
        catch (WireGuardDeviceNotFoundException) { return null; }
    }
}
