using Overlay.Core.Config;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Hosting;

/// <summary>
/// Wires the real adapters (FRR northbound/vty from Overlay.Frr, netlink/TUN from Overlay.Linux, the
/// WireGuard composite) behind the daemon's ports. Those adapters are built on other branches; until they
/// are merged here, overlayd refuses to start rather than run on pretend platform state.
/// </summary>
public static class PlatformPorts
{
    public static DaemonPorts Create(NodeConfig config, Serilog.ILogger logger) =>
        throw new PlatformNotSupportedException(
            $"this overlayd build has no platform adapters wired for node {config.Node} (FRR, netlink, TUN lease, WireGuard); " +
            "see src/Overlay.Daemon/Hosting/PlatformPorts.cs");
}
