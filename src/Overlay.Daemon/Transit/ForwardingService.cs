using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Events;
using Overlay.Core.Health;
using Overlay.Daemon.Config;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;

namespace Overlay.Daemon.Transit;

/// <summary>Reads the kernel's forwarding switches of the namespace overlayd runs in.</summary>
public interface IForwardingSource
{
    ForwardingState Read();
}

/// <summary>/proc/sys/net/ipv4/ip_forward and /proc/sys/net/ipv6/conf/all/forwarding (per network namespace).</summary>
internal sealed class ProcSysForwardingSource : IForwardingSource
{
    public ForwardingState Read() => new(Flag("/proc/sys/net/ipv4/ip_forward"), Flag("/proc/sys/net/ipv6/conf/all/forwarding"));

    private static bool? Flag(string path)
    {
        try { return File.ReadAllText(path).Trim() != "0"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

/// <summary>The latest node findings, read by the status API.</summary>
public sealed class NodeFindings
{
    private volatile IReadOnlyList<NodeFinding> _current = [];

    public IReadOnlyList<NodeFinding> Current => _current;

    public void Publish(IReadOnlyList<NodeFinding> findings) => _current = findings;
}

/// <summary>
/// Checks, every <see cref="Interval"/>, that a transit node forwards: publishes the finding for <c>overlayctl
/// status</c>, the switches as metrics, and an event (and a warning) when the verdict changes.
/// </summary>
public sealed partial class ForwardingService(
    ConfigStore config, IForwardingSource source, NodeFindings findings, EventTimeline events, DaemonMetrics metrics,
    TimeProvider time, ILogger<ForwardingService> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private string? _lastCode = "";

    /// <summary>One check (also what the loop runs); returns the finding, if any.</summary>
    public NodeFinding? CheckOnce()
    {
        bool transit = config.Current.Transit;
        var state = source.Read();
        metrics.ObserveForwarding(transit, state);
        var finding = TransitForwarding.Evaluate(transit, state);
        findings.Publish(finding is null ? [] : [finding]);
        if (finding?.Code != _lastCode)
        {
            bool first = _lastCode == "";
            string? old = first ? null : _lastCode ?? "ok";
            _lastCode = finding?.Code;
            // A healthy start is not news; a problem at start is.
            if (!(first && finding is null))
            {
                events.Append(EventSource.Daemon, "net.ipv4.ip_forward", "transit forwarding", old, finding?.Code ?? "ok", finding?.Message);
                if (finding is null) LogTransitForwardingOk(log);
                else LogTransitForwardingProblem(log, finding.Message, finding.Fix);
            }
        }
        return finding;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            CheckOnce();
            try { await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    [LoggerMessage(EventId = EventIds.TransitForwardingProblem, Level = LogLevel.Warning, Message = "{Problem}; fix: {Fix}")]
    private static partial void LogTransitForwardingProblem(ILogger logger, string problem, string fix);

    [LoggerMessage(EventId = EventIds.TransitForwardingOk, Level = LogLevel.Information, Message = "Transit node forwards again (net.ipv4.ip_forward = 1)")]
    private static partial void LogTransitForwardingOk(ILogger logger);
}
