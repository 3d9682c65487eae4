using Microsoft.Extensions.Logging;
using Overlay.Core.Anycast;

namespace Overlay.Daemon.Logging;

internal static partial class Log
{
    [LoggerMessage(EventIds.Starting, LogLevel.Information, "overlayd starting for node {Node} with {Vips} VIP(s) and {Interfaces} interface(s)")]
    public static partial void Starting(ILogger logger, string node, int vips, int interfaces);

    [LoggerMessage(EventIds.Ready, LogLevel.Information, "overlayd ready")]
    public static partial void Ready(ILogger logger);

    [LoggerMessage(EventIds.Stopping, LogLevel.Information, "overlayd stopping: draining VIPs")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventIds.Stopped, LogLevel.Information, "overlayd stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventIds.ConfigLoaded, LogLevel.Information, "configuration loaded from {Path}")]
    public static partial void ConfigLoaded(ILogger logger, string path);

    [LoggerMessage(EventIds.ConfigReloaded, LogLevel.Information, "configuration reloaded from {Path} (generation {Generation})")]
    public static partial void ConfigReloaded(ILogger logger, string path, int generation);

    [LoggerMessage(EventIds.ConfigReloadRejected, LogLevel.Error, "reload of {Path} rejected, keeping the last good configuration: {Errors}")]
    public static partial void ConfigReloadRejected(ILogger logger, string path, string errors);

    [LoggerMessage(EventIds.ConfigNeedsRestart, LogLevel.Warning, "reload changed {Setting}; it takes effect only after a restart")]
    public static partial void ConfigNeedsRestart(ILogger logger, string setting);

    [LoggerMessage(EventIds.ApiListening, LogLevel.Information, "control API on unix:{Socket} (mode {Mode}, group {Group})")]
    public static partial void ApiListening(ILogger logger, string socket, string mode, string group);

    [LoggerMessage(EventIds.MetricsListening, LogLevel.Information, "metrics on http://{Endpoint}/metrics")]
    public static partial void MetricsListening(ILogger logger, string endpoint);

    [LoggerMessage(EventIds.VipTransition, LogLevel.Information, "VIP {Vip}: {From} -> {To} (advertise={Advertise}): {Reason}")]
    public static partial void VipTransition(ILogger logger, string vip, VipState from, VipState to, bool advertise, string reason);

    [LoggerMessage(EventIds.InterfaceHealthChanged, LogLevel.Information, "interface {Interface} is now {Health}: {Summary}")]
    public static partial void InterfaceHealthChanged(ILogger logger, string @interface, string health, string summary);

    [LoggerMessage(EventIds.PeerEndpointChanged, LogLevel.Information, "peer {Peer} on {Interface} now sends from {Endpoint} (was {Previous}): it roamed, e.g. its NAT mapping changed")]
    public static partial void PeerEndpointChanged(ILogger logger, string @interface, string peer, string endpoint, string previous);

    /// <param name="exception">Only for an exception that is not an expected outage (<see cref="FailureLog.IsExpected"/>): a bug gets its stack.</param>
    [LoggerMessage(EventIds.SignalReadFailed, LogLevel.Warning, "reading {Signal} failed: {Cause}; treating it as unknown")]
    public static partial void SignalReadFailed(ILogger logger, string signal, string cause, Exception? exception);

    [LoggerMessage(EventIds.StartupWithdraw, LogLevel.Warning, "VIP {Vip} is unhealthy or drained at start; withdrawing {Prefix} before the lease is created")]
    public static partial void StartupWithdraw(ILogger logger, string vip, string prefix);

    [LoggerMessage(EventIds.StartupAdopt, LogLevel.Information, "VIP {Vip} is healthy and already advertised; adopted without a flap")]
    public static partial void StartupAdopt(ILogger logger, string vip);

    [LoggerMessage(EventIds.OrphanWithdraw, LogLevel.Warning, "FRR has a VIP route {Prefix} via {Lease} that no configured VIP owns; withdrawing it")]
    public static partial void OrphanWithdraw(ILogger logger, string prefix, string lease);

    [LoggerMessage(EventIds.FrrRouteDrift, LogLevel.Warning, "FRR's VIP route for {Vip} is {Running} but overlayd applied {Applied} (FRR daemon restarted or edited by hand); re-applying")]
    public static partial void FrrRouteDrift(ILogger logger, string vip, string running, string applied);

    [LoggerMessage(EventIds.LeaseAcquired, LogLevel.Information, "lease {Lease} holds {Address}")]
    public static partial void LeaseAcquired(ILogger logger, string lease, string address);

    /// <param name="exception">Only for an exception that is not an expected outage (<see cref="FailureLog.IsExpected"/>): a bug gets its stack.</param>
    [LoggerMessage(EventIds.LeaseFailed, LogLevel.Error, "could not acquire lease {Lease}: {Cause}; VIP {Vip} stays withdrawn (retried every pass)")]
    public static partial void LeaseFailed(ILogger logger, string lease, string vip, string cause, Exception? exception);

    [LoggerMessage(EventIds.LeaseReleased, LogLevel.Information, "lease {Lease} released")]
    public static partial void LeaseReleased(ILogger logger, string lease);

    [LoggerMessage(EventIds.DrainChanged, LogLevel.Warning, "drain: {Description}")]
    public static partial void DrainChanged(ILogger logger, string description);

    [LoggerMessage(EventIds.DrainWaiting, LogLevel.Information, "waiting up to {Timeout} for upstream to lose {Prefixes}")]
    public static partial void DrainWaiting(ILogger logger, string timeout, string prefixes);

    [LoggerMessage(EventIds.DrainComplete, LogLevel.Information, "upstream lost all VIP paths after {ElapsedMs} ms")]
    public static partial void DrainComplete(ILogger logger, long elapsedMs);

    [LoggerMessage(EventIds.DrainTimeout, LogLevel.Warning, "shutdown timeout: upstream may still have {Prefixes}")]
    public static partial void DrainTimeout(ILogger logger, string prefixes);

    [LoggerMessage(EventIds.ApplyOk, LogLevel.Information, "applied {Operation} {Subject} in {ElapsedMs:F1} ms")]
    public static partial void ApplyOk(ILogger logger, string operation, string subject, double elapsedMs);

    [LoggerMessage(EventIds.OperationFailing, LogLevel.Warning, "{What} failed: {Cause}; retrying (repeats are counted, not logged)")]
    public static partial void OperationFailing(ILogger logger, string what, string cause);

    [LoggerMessage(EventIds.OperationFailedUnexpectedly, LogLevel.Error, "{What} failed unexpectedly; retrying (repeats are counted, not logged)")]
    public static partial void OperationFailedUnexpectedly(ILogger logger, string what, Exception exception);

    [LoggerMessage(EventIds.OperationStillFailing, LogLevel.Warning, "{What} still failing: {Repeats} more failure(s) in the last {Seconds} s: {Cause}")]
    public static partial void OperationStillFailing(ILogger logger, string what, long repeats, long seconds, string cause);

    [LoggerMessage(EventIds.OperationRecovered, LogLevel.Information, "{What} recovered after {Failures} failure(s) over {Seconds} s")]
    public static partial void OperationRecovered(ILogger logger, string what, long failures, double seconds);

    [LoggerMessage(EventIds.WatchdogEnabled, LogLevel.Information, "systemd watchdog every {IntervalMs} ms")]
    public static partial void WatchdogEnabled(ILogger logger, long intervalMs);

    [LoggerMessage(EventIds.WatchdogSkipped, LogLevel.Warning, "watchdog ping skipped: the VIP loop did not complete a pass within {WaitedMs} ms")]
    public static partial void WatchdogSkipped(ILogger logger, long waitedMs);

    [LoggerMessage(EventIds.WatchdogArmed, LogLevel.Information, "session watchdog on {Interface}: {What}")]
    public static partial void WatchdogArmed(ILogger logger, string @interface, string what);

    [LoggerMessage(EventIds.SessionReset, LogLevel.Warning, "session watchdog on {Interface}: {What}")]
    public static partial void SessionReset(ILogger logger, string @interface, string what);

    [LoggerMessage(EventIds.SessionRecovered, LogLevel.Information, "session watchdog on {Interface}: {What}")]
    public static partial void SessionRecovered(ILogger logger, string @interface, string what);

    [LoggerMessage(EventIds.SessionHandshake, LogLevel.Information, "session watchdog on {Interface}: handshake completed {AfterMs:F0} ms after the reset")]
    public static partial void SessionHandshake(ILogger logger, string @interface, double afterMs);

    [LoggerMessage(EventIds.ProbeUnavailable, LogLevel.Warning, "session watchdog on {Interface}: cannot probe {Target} ({Reason}); retrying every interval")]
    public static partial void ProbeUnavailable(ILogger logger, string @interface, string target, string reason);
    [LoggerMessage(EventIds.FdStored, LogLevel.Debug, "lease {Lease}: fd stored with the service manager (FDSTORE=1)")]
    public static partial void FdStored(ILogger logger, string lease);

    [LoggerMessage(EventIds.FdStoreRemoved, LogLevel.Information, "lease {Lease}: fd removed from the service manager's store (FDSTOREREMOVE=1)")]
    public static partial void FdStoreRemoved(ILogger logger, string lease);

    [LoggerMessage(EventIds.ListenFdsIgnored, LogLevel.Warning, "inherited fds ignored: {Reason}")]
    public static partial void ListenFdsIgnored(ILogger logger, string reason);

    [LoggerMessage(EventIds.HandoffStarting, LogLevel.Information, "hand-off ({Trigger}): starting {Command} with {Leases} lease fd(s)")]
    public static partial void HandoffStarting(ILogger logger, string trigger, string command, int leases);

    [LoggerMessage(EventIds.HandoffReady, LogLevel.Information, "hand-off: new process {Pid} ready after {ElapsedMs:F0} ms; exiting without withdrawing")]
    public static partial void HandoffReady(ILogger logger, int pid, double elapsedMs);

    [LoggerMessage(EventIds.HandoffFailed, LogLevel.Error, "hand-off failed, this process stays in charge: {Reason}")]
    public static partial void HandoffFailed(ILogger logger, string reason);

    [LoggerMessage(EventIds.HandoffExit, LogLevel.Information, "exiting without withdrawing any VIP: {Reason}")]
    public static partial void HandoffExit(ILogger logger, string reason);

    [LoggerMessage(EventIds.LeasesInherited, LogLevel.Information, "{Count} lease fd(s) inherited from {Source}: {Names}")]
    public static partial void LeasesInherited(ILogger logger, int count, string source, string names);

    [LoggerMessage(EventIds.LeaseAdopted, LogLevel.Information, "lease {Lease} for {Prefix} adopted from the previous process")]
    public static partial void LeaseAdopted(ILogger logger, string lease, string prefix);

    [LoggerMessage(EventIds.InheritedLeaseReleased, LogLevel.Information, "inherited lease {Lease} is used by no configured VIP: released (its route withdrawn)")]
    public static partial void InheritedLeaseReleased(ILogger logger, string lease);
}
