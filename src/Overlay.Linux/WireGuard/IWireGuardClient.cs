using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Reads and configures WireGuard devices, whichever implementation runs them (the shape of wgctrl-go's Client).
/// Backends: userspace UAPI sockets, kernel generic netlink, and a composite that asks each in turn.
/// </summary>
public interface IWireGuardClient : IDisposable
{
    /// <summary>Every device this client can reach. Devices that vanish while listing are left out.</summary>
    Task<IReadOnlyList<WireGuardDevice>> DevicesAsync(CancellationToken cancellationToken = default);

    /// <summary>One device.</summary>
    /// <exception cref="WireGuardDeviceNotFoundException">No backend serves a device of that name.</exception>
    Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Applies one change to a device.</summary>
    /// <exception cref="WireGuardDeviceNotFoundException">No backend serves a device of that name.</exception>
    Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default);
}
