using Overlay.Daemon.Ports;
using Overlay.Linux.Interop;
using Overlay.Linux.Tun;

namespace Overlay.Daemon.Handoff;

/// <summary>What the new process checks before it tells the previous one it may exit.</summary>
public static class HandoffPreflight
{
    public static readonly TimeSpan FrrTimeout = TimeSpan.FromSeconds(10);

    /// <returns>Null when ready; otherwise why not (sent to the previous process, which then stays in charge).</returns>
    public static async Task<string?> CheckAsync(InheritedLeases leases, DaemonPorts ports)
    {
        foreach (var (name, fd) in leases.Peek())
        {
            try
            {
                string attached = TunLease.AttachedInterface(fd, name);
                if (attached != name) return $"the fd handed over as lease '{name}' is TUN '{attached}'";
            }
            catch (LinuxException ex) { return ex.Message; }
        }
        using var cts = new CancellationTokenSource(FrrTimeout);
        try { await ports.Advertiser.ListAsync(cts.Token); }
        catch (Exception ex) { return $"FRR's staticd did not answer within {FrrTimeout.TotalSeconds:F0} s: {ex.Message}"; }
        return null;
    }
}
