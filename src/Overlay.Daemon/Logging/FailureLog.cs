using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Grpc;
using Overlay.Frr.Routing;
using Overlay.Frr.Vty;
using Overlay.Linux.Netlink;

namespace Overlay.Daemon.Logging;

/// <summary>
/// Logs failures of operations the daemon retries (reads of FRR, WireGuard and the kernel; applies): one line per
/// cause and per recovery, repeats counted and summarised at most once a minute (<see cref="RepeatSuppressor"/>), and a
/// stack trace only for an exception that is not one of the expected transient kinds (a bug, not an outage).
/// </summary>
internal sealed class FailureLog(ILogger logger, TimeProvider time, TimeSpan? summaryEvery = null)
{
    public static readonly TimeSpan DefaultSummaryInterval = TimeSpan.FromMinutes(1);

    private readonly RepeatSuppressor _suppressor = new(time, summaryEvery ?? DefaultSummaryInterval);

    public void Failed(string what, Exception ex)
    {
        bool expected = IsExpected(ex);
        string cause = Cause(ex);
        var verdict = _suppressor.Failure(what, expected ? cause : ex.GetType().FullName + ": " + cause);
        switch (verdict.Kind)
        {
            case RepeatKind.First when expected: Log.OperationFailing(logger, what, cause); break;
            case RepeatKind.First: Log.OperationFailedUnexpectedly(logger, what, ex); break;
            case RepeatKind.Summary: Log.OperationStillFailing(logger, what, verdict.Repeats, (long)verdict.Period.TotalSeconds, cause); break;
        }
    }

    public void Succeeded(string what)
    {
        if (_suppressor.Success(what) is { } r)
            Log.OperationRecovered(logger, what, r.Failures, Math.Round(r.Duration.TotalSeconds, 1));
    }

    /// <summary>Outages the daemon expects and retries: I/O and sockets, FRR unreachable or refusing, timeouts.</summary>
    public static bool IsExpected(Exception ex) => ex is IOException or SocketException or TimeoutException or HttpRequestException
        or FrrNorthboundException or FrrVtyException or FrrParseException or NetlinkFormatException or OperationCanceledException
        or UnauthorizedAccessException;

    /// <summary>The exception to log with a line: none for an expected outage (its cause is in the line), itself for a bug.</summary>
    public static Exception? StackWorthy(Exception ex) => IsExpected(ex) ? null : ex;

    /// <summary>The message and those of its causes, once each: what an operator needs without the stack.</summary>
    public static string Cause(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null && parts.Count < 4; e = e.InnerException)
            if (!parts.Any(p => p.Contains(e.Message, StringComparison.Ordinal))) parts.Add(e.Message);
        return string.Join(": ", parts);
    }
}
