using Microsoft.Extensions.Logging;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Systemd;

/// <summary>
/// Keeps every lease fd in the service manager's fd store (sd_notify FDSTORE=1 + FDNAME=lease name, the unit needs
/// FileDescriptorStoreMax=), so a restart or a restarted crash finds the TUNs alive and adopts them (LISTEN_FDS),
/// and removes them (FDSTOREREMOVE=1) when a lease is released on purpose: a drained stop, a VIP removed by a reload.
/// Without NOTIFY_SOCKET it does nothing.
/// </summary>
public sealed class LeaseFdStore(SdNotify notify, ILogger<LeaseFdStore> logger)
{
    private readonly FailureLog _failures = new(logger, TimeProvider.System);

    public bool Enabled => notify.Enabled;

    public void Store(IVipLease lease)
    {
        if (!notify.Enabled || lease.Handle is not { IsInvalid: false, IsClosed: false } fd) return;
        Send(() => notify.Notify($"FDSTORE=1\nFDNAME={lease.Name}", [fd]));
        Log.FdStored(logger, lease.Name);
    }

    public void Remove(string lease)
    {
        if (!notify.Enabled) return;
        Send(() => notify.Notify($"FDSTOREREMOVE=1\nFDNAME={lease}"));
        Log.FdStoreRemoved(logger, lease);
    }

    private void Send(Action send)
    {
        string what = "sd_notify to " + (notify.Socket ?? "NOTIFY_SOCKET") + " (fd store)";
        try
        {
            send();
            _failures.Succeeded(what);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException) { _failures.Failed(what, ex); }
    }
}
