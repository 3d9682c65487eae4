using System.Globalization;
using System.Text.RegularExpressions;
using Overlay.Linux.Interop;
using Tmds.Linux;

namespace Overlay.Lab.Scenarios;

/// <summary>Timings of one overlayd hand-off (SIGUSR2), on the lab's clock.</summary>
/// <param name="SignalToReady">kill -USR2 -> the old process logged that the new one reported ready.</param>
/// <param name="SignalToServing">kill -USR2 -> the new process answers on the control socket (after the old one exited).</param>
/// <param name="ReportedReadyMs">The old process's own measurement of the same (from its hand-off start).</param>
public sealed record HandoffTiming(int OldPid, int NewPid, TimeSpan SignalToReady, TimeSpan SignalToServing, double ReportedReadyMs);

/// <summary>
/// Restarts of a site's overlayd in the anycast lab that hand the VIP leases on (issue #12): SIGUSR2 and
/// <c>overlayctl restart</c>. The processes started by a hand-off are not the lab's own <see cref="LabProcess"/>es,
/// so this tracks them and stops them (SIGTERM, then SIGKILL) when disposed: dispose it before the lab.
/// </summary>
public sealed partial class AnycastHandoff(AnycastLab any) : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly List<int> _successors = [];

    public string OutputPath(AnycastSite site) => Path.Combine(any.Lab.NodeDirectory(site.Node), "overlayd.out");

    /// <summary>The pid of the overlayd serving the site's control socket now.</summary>
    public async Task<int> PidAsync(AnycastSite site, CancellationToken ct = default) =>
        (await any.Api(site).StatusAsync(ct).ConfigureAwait(false)).GetProperty("pid").GetInt32();

    /// <summary>kill -USR2 the site's overlayd and wait until its successor is ready and serving. Throws with the old process's reason when it stayed.</summary>
    public async Task<HandoffTiming> SignalAsync(AnycastSite site, CancellationToken ct = default)
    {
        int old = await PidAsync(site, ct).ConfigureAwait(false);
        long offset = new FileInfo(OutputPath(site)).Length;
        var t0 = any.Now;
        if (LibC.kill(old, LibC.SIGUSR2) != 0) throw LinuxException.FromLastError("kill -USR2", $"overlayd (pid {old})");
        (int Pid, double Ms)? ready = null;
        TimeSpan readyAt = default;
        string? failed = null;
        await Poll.UntilAsync($"{site.Name}'s overlayd (pid {old}) reports its successor ready", () =>
        {
            foreach (var line in LinesFrom(OutputPath(site), offset))
            {
                // Poll retries on exceptions: note the refusal and stop polling instead.
                if (line.Contains("hand-off failed", StringComparison.Ordinal)) { failed = line; return true; }
                if (ReadyLine().Match(line) is { Success: true } m)
                {
                    ready = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
                    readyAt = any.Now;
                    return true;
                }
            }
            return false;
        }, Timeout, TimeSpan.FromMilliseconds(5), ct).ConfigureAwait(false);
        if (failed is not null) throw new LabException($"{site.Name}'s overlayd (pid {old}) stayed in charge: {failed}");
        int next = ready!.Value.Pid;
        lock (_successors) _successors.Add(next);
        var serving = await WaitServingAsync(site, next, old, ct).ConfigureAwait(false);
        return new HandoffTiming(old, next, readyAt - t0, serving - t0, ready.Value.Ms);
    }

    /// <summary><c>overlayctl restart</c> against the site's control socket, as an operator runs it.</summary>
    public async Task<OverlayctlResult> OverlayctlRestartAsync(AnycastSite site, CancellationToken ct = default)
    {
        int old = await PidAsync(site, ct).ConfigureAwait(false);
        var r = await Overlayctl.RunAsync(Overlayctl.Require(), ["restart", "--socket", any.OverlaydSocketPath(site)], ct).ConfigureAwait(false);
        if (r.Code == 0 && PidWord().Match(r.StdOut) is { Success: true } m)
        {
            int next = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            lock (_successors) _successors.Add(next);
            await WaitServingAsync(site, next, old, ct).ConfigureAwait(false);
        }
        return r;
    }

    /// <summary>Waits until <paramref name="old"/> is gone and <paramref name="next"/> answers on the control socket.</summary>
    private async Task<TimeSpan> WaitServingAsync(AnycastSite site, int next, int old, CancellationToken ct)
    {
        await Poll.UntilAsync($"{site.Name}'s overlayd pid {next} serving (pid {old} gone)", async c =>
        {
            if (Directory.Exists($"/proc/{old}") && !IsZombie(old)) return false;
            try { return await PidAsync(site, c).ConfigureAwait(false) == next; }
            catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or TaskCanceledException) { return false; }
        }, Timeout, TimeSpan.FromMilliseconds(10), ct).ConfigureAwait(false);
        return any.Now;
    }

    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return true; }
    }

    internal static IEnumerable<string> LinesFrom(string path, long offset)
    {
        if (!File.Exists(path)) yield break;
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (offset > s.Length) yield break;
        s.Seek(offset, SeekOrigin.Begin);
        using var r = new StreamReader(s);
        while (r.ReadLine() is { } line) yield return line;
    }

    [GeneratedRegex(@"hand-off: new process (\d+) ready after (\d+(?:\.\d+)?) ms")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"pid (\d+) ready")]
    private static partial Regex PidWord();

    /// <summary>Stops every process a hand-off started (a SIGTERM drains, as at the end of any lab run).</summary>
    public async ValueTask DisposeAsync()
    {
        List<int> pids;
        lock (_successors)
        {
            pids = [.. _successors];
            _successors.Clear();
        }
        foreach (int pid in pids) _ = LibC.kill(pid, LabProcess.SIGTERM);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (pids.Any(p => Directory.Exists($"/proc/{p}") && !IsZombie(p)) && DateTime.UtcNow < deadline)
            await Task.Delay(20).ConfigureAwait(false);
        foreach (int pid in pids.Where(p => Directory.Exists($"/proc/{p}"))) _ = LibC.kill(pid, LabProcess.SIGKILL);
    }
}
