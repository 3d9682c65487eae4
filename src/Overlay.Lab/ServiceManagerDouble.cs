using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Overlay.Linux.Interop;

namespace Overlay.Lab;

/// <summary>
/// A test double of systemd for one Type=notify service with <c>FileDescriptorStoreMax=</c> and
/// <c>RestartKillSignal=SIGUSR1</c> (examples/systemd/overlayd.service), following the documented protocols only:
/// sd_notify(3) (a datagram socket named by NOTIFY_SOCKET; READY=1, STOPPING=1, FDSTORE=1 + FDNAME= with the fd as
/// SCM_RIGHTS, FDSTOREREMOVE=1 + FDNAME=) and sd_listen_fds(3) (the stored fds at 3..N in the next process, with
/// LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID = that process's pid). What it does not model: NotifyAccess checks
/// (it does not read SCM_CREDENTIALS), watchdog, start limits, cgroups.
/// The fds are placed at 3..N by a launcher: each stored fd is duplicated to a high number with close-on-exec cleared
/// for the one Process.Start call only, and <c>bash</c> moves it to its slot (<c>exec 3&lt;&amp;100-</c>), exports
/// LISTEN_PID=$$ and execs overlayd, so the pid LISTEN_PID names is the one that reads it.
/// </summary>
public sealed class ServiceManagerDouble : IAsyncDisposable
{
    public const int RestartKillSignal = 10; // SIGUSR1
    private readonly RunningLab _lab;
    private readonly LabNode _node;
    private readonly string _name;
    private readonly IReadOnlyList<string> _command;
    private readonly Socket _notify;
    private readonly Dictionary<string, FileDescriptorHandle> _store = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Thread _reader;
    private readonly List<(TimeSpan At, string Message)> _messages = [];
    private readonly Stopwatch _clock;
    private volatile bool _disposed;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="command">The service's ExecStart= (program and arguments).</param>
    /// <param name="clock">Times of notifications are read from it (the lab's clock).</param>
    public ServiceManagerDouble(RunningLab lab, LabNode node, string name, IReadOnlyList<string> command, Stopwatch clock)
    {
        _lab = lab;
        _node = node;
        _name = name;
        _command = command;
        _clock = clock;
        NotifySocketPath = Path.Combine(lab.NodeDirectory(node), name + ".notify.sock");
        File.Delete(NotifySocketPath);
        _notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _notify.Bind(new UnixDomainSocketEndPoint(NotifySocketPath));
        _reader = new Thread(ReadNotifications) { IsBackground = true, Name = "sm-double " + name };
        _reader.Start();
    }

    public string NotifySocketPath { get; }

    /// <summary>The service's main process, once started.</summary>
    public LabProcess? Main { get; private set; }

    /// <summary>Names of the fds in the store now.</summary>
    public IReadOnlyList<string> StoredNames
    {
        get { lock (_lock) return [.. _store.Keys.Order(StringComparer.Ordinal)]; }
    }

    /// <summary>Every notification received (lab clock, text with newlines as spaces, "+N fd" when fds came with it).</summary>
    public IReadOnlyList<(TimeSpan At, string Message)> Messages
    {
        get { lock (_lock) return [.. _messages]; }
    }

    /// <summary>"systemctl start": the stored fds (if any) at 3..N, then waits for READY=1. Returns start -> READY=1.</summary>
    public async Task<TimeSpan> StartAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        lock (_lock) _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var t0 = _clock.Elapsed;
        List<(string Name, FileDescriptorHandle Fd)> passed;
        lock (_lock) passed = [.. _store.Select(kv => (kv.Key, UnixFdPassing.Duplicate(kv.Value, 100, $"stored fd '{kv.Key}'")))];
        try
        {
            var script = new StringBuilder("export NOTIFY_SOCKET=").Append(Quote(NotifySocketPath));
            if (passed.Count > 0)
            {
                script.Append(" LISTEN_PID=$$ LISTEN_FDS=").Append(passed.Count.ToString(CultureInfo.InvariantCulture))
                    .Append(" LISTEN_FDNAMES=").Append(Quote(string.Join(':', passed.Select(p => p.Name)))).Append("; exec");
                for (int i = 0; i < passed.Count; i++)
                    script.Append(' ').Append(3 + i).Append("<&").Append((int)passed[i].Fd.DangerousGetHandle()).Append('-');
            }
            script.Append("; exec \"$@\"");
            foreach (var (_, fd) in passed) UnixFdPassing.SetInheritable(fd, true, "fd for the next process");
            // The fds are inheritable only across this one start; the lab starts nothing else meanwhile.
            Main = _lab.StartProcess(_node, new LabProcessSpec(_name, "/bin/bash", ["-c", script.ToString(), "bash", .. _command])
            {
                Environment = new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" },
            });
        }
        finally
        {
            foreach (var (_, fd) in passed) fd.Dispose();
        }
        Task ready;
        lock (_lock) ready = _ready.Task;
        var main = Main;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var exited = WaitExitAsync(main, cts.Token);
        var first = await Task.WhenAny(ready, exited).ConfigureAwait(false);
        if (first != ready || !ready.IsCompletedSuccessfully)
            throw new LabException($"{_name} on {_node.Name}: no READY=1 within {timeout.TotalSeconds:0} s{(main.HasExited ? $" (exited with {main.ExitCode})" : "")}; see {main.OutputPath}");
        return _clock.Elapsed - t0;
    }

    /// <summary>"systemctl restart": RestartKillSignal to the main process, wait for it to exit, start again with the store. Returns (signal -> exited, signal -> READY=1 of the new process).</summary>
    public async Task<(TimeSpan Exited, TimeSpan Ready)> RestartAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var t0 = _clock.Elapsed;
        await StopMainAsync(RestartKillSignal, timeout).ConfigureAwait(false);
        var exited = _clock.Elapsed - t0;
        await StartAsync(timeout, ct).ConfigureAwait(false);
        return (exited, _clock.Elapsed - t0);
    }

    /// <summary>"systemctl stop": SIGTERM, wait, then the store is flushed (closed) as the unit goes inactive.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await StopMainAsync(LabProcess.SIGTERM, timeout).ConfigureAwait(false);
        Flush();
    }

    /// <summary>A crash: SIGKILL. With <paramref name="restart"/> (Restart=on-failure) the next process gets the store; without, the unit fails and the store is flushed.</summary>
    public async Task<TimeSpan?> CrashAsync(bool restart, TimeSpan timeout, CancellationToken ct = default)
    {
        Main!.Kill();
        await Main.WaitForExitAsync(timeout).ConfigureAwait(false);
        if (!restart)
        {
            Flush();
            return null;
        }
        return await StartAsync(timeout, ct).ConfigureAwait(false);
    }

    private async Task StopMainAsync(int signal, TimeSpan timeout)
    {
        var main = Main ?? throw new InvalidOperationException($"{_name} is not started");
        main.Signal(signal);
        if (!await main.WaitForExitAsync(timeout).ConfigureAwait(false))
        {
            main.Kill(); // TimeoutStopSec= elapsed
            await main.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }

    private static async Task WaitExitAsync(LabProcess p, CancellationToken ct)
    {
        while (!p.HasExited) await Task.Delay(10, ct).ConfigureAwait(false);
    }

    /// <summary>Closes every stored fd (what the manager does when the unit stops or fails for good).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            foreach (var fd in _store.Values) fd.Dispose();
            _store.Clear();
        }
    }

    private void ReadNotifications()
    {
        while (!_disposed)
        {
            byte[] payload;
            FileDescriptorHandle[] fds;
            try { (payload, fds) = UnixFdPassing.Receive(_notify.SafeHandle, 4096, TimeSpan.FromMilliseconds(100), "NOTIFY_SOCKET " + NotifySocketPath); }
            catch (LinuxException) { continue; }
            catch (ObjectDisposedException) { return; }
            var fields = Encoding.UTF8.GetString(payload).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
            lock (_lock)
            {
                _messages.Add((_clock.Elapsed, Encoding.UTF8.GetString(payload).Replace('\n', ' ').Trim() + (fds.Length > 0 ? $" +{fds.Length} fd" : "")));
                string name = fields.GetValueOrDefault("FDNAME", "stored");
                if (fields.GetValueOrDefault("FDSTORE") == "1" && fds.Length > 0)
                {
                    // One entry per name here (systemd keeps an fd once per file, several may share a name).
                    if (_store.Remove(name, out var old)) old.Dispose();
                    _store[name] = fds[0];
                    foreach (var extra in fds.Skip(1)) extra.Dispose();
                    fds = [];
                }
                if (fields.GetValueOrDefault("FDSTOREREMOVE") == "1" && _store.Remove(name, out var removed)) removed.Dispose();
                if (fields.GetValueOrDefault("READY") == "1") _ready.TrySetResult();
            }
            foreach (var f in fds) f.Dispose(); // fds without FDSTORE=1 are closed, as systemd does
        }
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public async ValueTask DisposeAsync()
    {
        if (Main is { HasExited: false } m) await m.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _disposed = true;
        _reader.Join(TimeSpan.FromSeconds(2));
        _notify.Dispose();
        Flush();
        File.Delete(NotifySocketPath);
    }
}
