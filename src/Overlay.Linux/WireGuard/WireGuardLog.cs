using Microsoft.Extensions.Logging;

namespace Overlay.Linux.WireGuard;

internal static partial class WireGuardLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Skipped WireGuard socket {Device}: {Reason}")]
    public static partial void SkippedStaleSocket(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Configured WireGuard device {Device} via {Backend} ({PeerOperations} peer operations)")]
    public static partial void Configured(ILogger logger, string device, string backend, int peerOperations);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "WireGuard kernel backend unavailable: {Reason}")]
    public static partial void KernelUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Synced WireGuard device {Device}: {Added} added, {Updated} updated, {Removed} removed, {Unchanged} unchanged")]
    public static partial void Synced(ILogger logger, string device, int added, int updated, int removed, int unchanged);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "WireGuard device {Device} already matches ({Unchanged} peers)")]
    public static partial void InSync(ILogger logger, string device, int unchanged);
}
