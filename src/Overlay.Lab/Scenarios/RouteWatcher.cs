using System.Diagnostics;

namespace Overlay.Lab.Scenarios;

/// <summary>
/// Timestamps of kernel route changes for one prefix in a node, from "ip monitor route" running inside the
/// node's namespace. Polling "ip route" says WHAT the route is; the monitor says WHEN it changed, to the
/// millisecond, without the fork-per-poll delay of a probe loop.
/// </summary>
public sealed class RouteWatcher : IDisposable
{
    private readonly Process _process;
    private readonly string _prefixText;
    private readonly Lock _lock = new();
    private readonly List<(long Ticks, string Line)> _changes = [];
    private readonly Stopwatch _clock;

    private RouteWatcher(Process process, string prefixText, Stopwatch clock)
    {
        _process = process;
        _prefixText = prefixText;
        _clock = clock;
    }

    /// <summary>Starts watching <paramref name="prefix"/> (e.g. 203.0.113.10/32) in <paramref name="node"/>; times are read from <paramref name="clock"/>.</summary>
    public static RouteWatcher Start(LabNode node, string prefix, Stopwatch clock)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", node.Namespace, "ip", "monitor", "route"]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new LabException($"could not start ip monitor route in {node.Namespace}");
        // "ip monitor" prints host routes without "/32".
        string text = prefix.EndsWith("/32", StringComparison.Ordinal) ? prefix[..^3] : prefix;
        var w = new RouteWatcher(p, text, clock);
        p.OutputDataReceived += (_, e) => w.OnLine(e.Data);
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return w;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        long now = _clock.ElapsedTicks;
        string body = line.StartsWith("Deleted ", StringComparison.Ordinal) ? line[8..] : line;
        if (!body.StartsWith(_prefixText + " ", StringComparison.Ordinal) && body != _prefixText) return;
        lock (_lock) _changes.Add((now, line));
    }

    /// <summary>Route changes seen so far (clock time, monitor line).</summary>
    public IReadOnlyList<(TimeSpan At, string Line)> Changes
    {
        get
        {
            lock (_lock) return [.. _changes.Select(c => (TimeSpan.FromTicks(c.Ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency), c.Line))];
        }
    }

    /// <summary>The time of the last change at or after <paramref name="since"/>, or null when none was seen.</summary>
    public TimeSpan? LastChangeSince(TimeSpan since)
    {
        var hits = Changes.Where(c => c.At >= since).ToList();
        return hits.Count == 0 ? null : hits[^1].At;
    }

    /// <summary>The time of the first change at or after <paramref name="since"/> whose line matches, or null.</summary>
    public TimeSpan? FirstChangeSince(TimeSpan since, Func<string, bool> match) =>
        Changes.Where(c => c.At >= since && match(c.Line)).Select(c => (TimeSpan?)c.At).FirstOrDefault();

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(2000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
