namespace Overlay.Daemon.Logging;

/// <summary>Every log event id overlayd emits, in one place so ids stay unique and greppable.</summary>
public static class EventIds
{
    // 1xx: lifecycle and configuration
    public const int Starting = 100;
    public const int Ready = 101;
    public const int Stopping = 102;
    public const int Stopped = 103;
    public const int ConfigLoaded = 110;
    public const int ConfigReloaded = 112;
    public const int ConfigReloadRejected = 113;
    public const int ConfigNeedsRestart = 114;
    public const int ApiListening = 120;
    public const int MetricsListening = 121;
    // 2xx: health and VIP decisions
    public const int VipTransition = 200;
    public const int InterfaceHealthChanged = 201;
    public const int SignalReadFailed = 202;
    public const int PeerEndpointChanged = 203;
    public const int StartupWithdraw = 210;
    public const int StartupAdopt = 211;
    public const int OrphanWithdraw = 212;
    public const int FrrRouteDrift = 213;
    public const int LeaseAcquired = 220;
    public const int LeaseFailed = 221;
    public const int LeaseReleased = 222;
    public const int DrainChanged = 230;
    public const int DrainWaiting = 231;
    public const int DrainComplete = 232;
    public const int DrainTimeout = 233;
    public const int WatchdogArmed = 240;
    public const int SessionReset = 241;
    public const int SessionRecovered = 242;
    public const int SessionHandshake = 243;
    public const int ProbeUnavailable = 244;
    public const int TransitForwardingProblem = 245;
    public const int TransitForwardingOk = 246;
    // 3xx: the writer
    public const int ApplyOk = 300;
    public const int ApplyFailed = 301; // retired: failed applies go through OperationFailing (25x)
    // 25x: retried operations (reads and applies): one line per cause, repeats counted, recovery
    public const int OperationFailing = 250;
    public const int OperationFailedUnexpectedly = 251;
    public const int OperationStillFailing = 252;
    public const int OperationRecovered = 253;
    // 4xx: systemd
    public const int SdNotifyFailed = 400; // retired: a failed sd_notify goes through OperationFailing (25x)
    public const int WatchdogEnabled = 401;
    public const int WatchdogSkipped = 402;
    public const int FdStored = 403;
    public const int FdStoreRemoved = 404;
    public const int ListenFdsIgnored = 405;
    // 5xx: hand-over to the next process (restart without withdrawing)
    public const int HandoffStarting = 500;
    public const int HandoffReady = 501;
    public const int HandoffFailed = 502;
    public const int HandoffExit = 503;
    public const int LeasesInherited = 510;
    public const int LeaseAdopted = 511;
    public const int InheritedLeaseReleased = 512;
}
