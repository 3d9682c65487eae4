using Microsoft.Extensions.Logging;
using Overlay.Core.Config;
using Overlay.Core.Events;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Writer;
using Overlay.Core.Model;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// Makes the platform match the decisions: VIP advertisements and overlayd's kernel routes through the
/// <see cref="ChangeWriter"/> (it never writes itself), FRR drift detection, and the TUN leases (with the service
/// manager's fd store).
/// </summary>
internal sealed class VipUpdater(ChangeWriter writer, SignalReader signals, ILeaseManager leases, LeaseFdStore fdStore,
    EventTimeline events, ILogger logger)
{
    public async Task<bool> ApplyAsync(VipEntry entry, bool advertise, CancellationToken ct)
    {
        Change change = advertise
            ? new AdvertiseVip(entry.Config.Name, new VipRoute(entry.Config.Prefix, entry.Config.Lease))
            : new WithdrawVip(entry.Config.Name, entry.Config.Prefix);
        var result = await writer.SubmitAsync(change, ct);
        if (result.Ok) entry.Applied = advertise;
        return result.Ok;
    }

    /// <summary>What FRR has, as read (at start, or by the drift check), goes to the ledger.</summary>
    public void RecordRunning(VipEntry entry, bool present) => writer.RecordRunning(new VipSubject(entry.Config.Name), present);

    /// <summary>A VIP removed (or re-keyed) by a reload: the ledger forgets it.</summary>
    public void Forget(VipEntry entry) => writer.Forget(new VipSubject(entry.Config.Name));

    public Task WithdrawOrphanAsync(VipRoute orphan, CancellationToken ct) =>
        writer.SubmitAsync(new WithdrawVip("(orphan) " + orphan.Prefix, orphan.Prefix), ct);

    /// <summary>
    /// FRR can lose (or gain) a VIP route behind overlayd's back: staticd restarted from its own file, zebra
    /// restarted, an operator's vtysh. Where FRR (<paramref name="running"/>, just read) differs from what was applied,
    /// forget the applied state so this pass's apply step makes FRR match the decision again.
    /// </summary>
    public void CheckDrift(IEnumerable<VipEntry> entries, IReadOnlyList<VipRoute> running)
    {
        foreach (var entry in entries)
        {
            var vip = entry.Config;
            bool present = running.Any(r => r.Prefix == vip.Prefix && r.LeaseInterface == vip.Lease);
            RecordRunning(entry, present);
            if (entry.Applied is not bool applied || applied == present) continue;
            string was = LedgerStates.Of(applied).Text(), now = LedgerStates.Of(present).Text();
            Log.FrrRouteDrift(logger, vip.Name, now, was);
            events.Append(EventSource.Vip, vip.Name, "frr-route", was, now, "FRR's configuration differs from what was applied; re-applying");
            entry.Applied = present;
        }
    }

    /// <summary>
    /// Makes overlayd's kernel routes match the config: missing ones added, stale ones removed. Runs at start,
    /// on reload, and when <see cref="SignalReader.KernelRoutesDue"/> says so.
    /// </summary>
    public async Task ReconcileKernelRoutesAsync(NodeConfig? old, NodeConfig cfg, CancellationToken ct)
    {
        var desired = cfg.Routes.ToList();
        List<OwnedRoute> stale, missing;
        if (await signals.ReadOwnedRoutesAsync(ct) is { } owned)
        {
            stale = owned.Where(o => !desired.Contains(o)).ToList();
            missing = desired.Where(d => !owned.Contains(d)).ToList();
        }
        else
        {
            // Without a listing, replace everything (idempotent) and remove what the previous config owned.
            stale = old?.Routes.Where(r => !desired.Contains(r)).ToList() ?? [];
            missing = desired;
        }
        foreach (var r in stale) await writer.SubmitAsync(new DeleteKernelRoute(r), ct);
        foreach (var r in missing) await writer.SubmitAsync(new ReplaceKernelRoute(r), ct);
        foreach (var r in desired.Except(missing)) writer.RecordRunning(new RouteSubject(r.Prefix), present: true);
    }

    public async Task EnsureLeaseAsync(VipEntry entry, CancellationToken ct)
    {
        try
        {
            var lease = await leases.AcquireAsync(entry.Config.Lease, entry.Config.Prefix, ct);
            entry.Lease = lease;
            entry.LeaseFailing = false;
            if (lease.Adopted)
            {
                Log.LeaseAdopted(logger, entry.Config.Lease, entry.Config.Prefix.ToString());
                events.Append(EventSource.Daemon, entry.Config.Lease, "lease", "handed over", "held");
            }
            else
            {
                Log.LeaseAcquired(logger, entry.Config.Lease, entry.Config.Prefix.ToString());
                events.Append(EventSource.Daemon, entry.Config.Lease, "lease", "absent", "held");
            }
            fdStore.Store(lease);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // Retried every pass; said once per outage so the log stays readable.
            if (!entry.LeaseFailing) Log.LeaseFailed(logger, entry.Config.Lease, entry.Config.Name, FailureLog.Cause(ex), FailureLog.StackWorthy(ex));
            entry.LeaseFailing = true;
        }
    }

    public async Task ReleaseLeaseAsync(VipEntry entry)
    {
        if (entry.Lease is not { } lease) return;
        entry.Lease = null;
        // Released on purpose (drained stop, VIP removed): the service manager must not keep the TUN alive.
        fdStore.Remove(lease.Name);
        await lease.DisposeAsync();
        Log.LeaseReleased(logger, lease.Name);
        events.Append(EventSource.Daemon, lease.Name, "lease", "held", "released");
    }

    /// <summary>A lease the previous process handed over that no configured VIP uses: closing its fd deletes the TUN.</summary>
    public async Task ReleaseInheritedAsync(string name)
    {
        await leases.ReleaseInheritedAsync(name);
        fdStore.Remove(name);
        Log.InheritedLeaseReleased(logger, name);
        events.Append(EventSource.Daemon, name, "lease", "handed over", "released", "no configured VIP uses it");
    }
}
