using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Overlay.Core.Events;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Config;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Systemd;
using Overlay.Linux.Interop;

namespace Overlay.Daemon.Handoff;

/// <summary>
/// Restart without a flap, without a service manager (SIGUSR2, <c>overlayctl restart</c>): start the overlayd binary
/// on disk, hand it every lease fd over a private Unix socket (SCM_RIGHTS), wait until it reports ready (config valid,
/// leases verified, FRR answering), then stop this process without withdrawing. If it is not ready within
/// <see cref="ReadyTimeout"/>, or exits, or says why not, it is killed and this process stays in charge.
/// </summary>
/// <remarks>
/// Why a socket and not inherited fds: .NET opens every fd close-on-exec and Process.Start relies on that; clearing
/// FD_CLOEXEC would leak the fds into any other child started meanwhile, and sd_listen_fds' LISTEN_PID cannot be set
/// to a pid Process.Start only returns after the exec. Over the socket the fds arrive only in the process that
/// connects, whose pid is checked (SO_PEERCRED) against the one we started, and the same socket carries the ready
/// report and, by its EOF, the "previous process gone" signal the new one waits for before binding the API.
/// </remarks>
public sealed class HandoffService(VipService vips, ConfigStore config, ExitIntent exit, SdNotify notify, EventTimeline events,
    IHostApplicationLifetime lifetime, ILogger<HandoffService> logger)
{
    public const string SocketVariable = "OVERLAYD_HANDOFF_SOCKET";
    public const string Magic = "overlayd-handoff 1";
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);
    private readonly SemaphoreSlim _one = new(1, 1);
    private Socket? _connection; // kept open until this process exits: its EOF tells the new process we are gone

    public async Task<HandoffResult> HandOffAsync(string trigger, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        if (exit.HandedOver) return Fail(sw, "already handed over; this process is exiting");
        if (!await _one.WaitAsync(0, ct)) return Fail(sw, "a hand-off is already in progress");
        try
        {
            if (notify.Enabled)
                return Fail(sw, "running under a service manager (NOTIFY_SOCKET is set): restart with 'systemctl restart overlayd', which keeps the lease fds in its fd store");
            var leases = vips.HeldLeases();
            string dir = Path.GetDirectoryName(config.Current.Api.Socket)!;
            string path = Path.Combine(dir, $"overlayd.handoff.{Environment.ProcessId}.sock");
            File.Delete(path);
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(1);
            Process? child = null;
            try
            {
                var (exe, args) = OwnCommandLine();
                Log.HandoffStarting(logger, trigger, string.Join(' ', args.Prepend(exe)), leases.Count);
                events.Append(EventSource.Daemon, "overlayd", "hand-off", reason: $"{trigger}: starting {exe} with {leases.Count} lease fd(s)");
                var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
                foreach (var a in args) psi.ArgumentList.Add(a);
                psi.Environment[SocketVariable] = path;
                foreach (var v in (string[])["NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"]) psi.Environment.Remove(v);
                child = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");

                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(ReadyTimeout);
                var accept = listener.AcceptAsync(deadline.Token).AsTask();
                var exited = child.WaitForExitAsync(deadline.Token);
                if (await Task.WhenAny(accept, exited) != accept || !accept.IsCompletedSuccessfully)
                    return Fail(sw, Why(child, sw, "before it connected to the hand-off socket"), child);
                var conn = accept.Result;
                int peer = PeerPid(conn);
                if (peer != child.Id)
                {
                    conn.Dispose();
                    return Fail(sw, $"the hand-off socket was answered by pid {peer}, not by the started process {child.Id}", child);
                }
                var text = new StringBuilder(Magic).Append('\n').Append("from ").Append(Environment.ProcessId).Append('\n');
                foreach (var l in leases) text.Append("lease ").Append(l.Name).Append(' ').Append(l.Address).Append('\n');
                UnixFdPassing.Send(conn.SafeHandle, Encoding.UTF8.GetBytes(text.ToString()), [.. leases.Select(l => l.Handle!)], $"hand-off socket {path}");

                var remaining = ReadyTimeout - sw.Elapsed;
                var (reply, fds) = await Task.Run(() =>
                {
                    try { return UnixFdPassing.Receive(conn.SafeHandle, 4096, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, $"hand-off socket {path}"); }
                    catch (LinuxException ex) when (ex.Errno == Errno.ETIMEDOUT) { return ([], []); }
                }, CancellationToken.None);
                foreach (var f in fds) f.Dispose();
                string answer = Encoding.UTF8.GetString(reply).Trim();
                if (!answer.StartsWith("READY", StringComparison.Ordinal))
                {
                    conn.Dispose();
                    string why = answer.StartsWith("FAILED ", StringComparison.Ordinal) ? "the new process refused: " + answer[7..]
                        : Why(child, sw, "before it reported ready");
                    return Fail(sw, why, child);
                }
                // From here the new process owns the VIPs: this one stops writing and exits without withdrawing.
                _connection = conn;
                exit.HandOver($"handed over to pid {child.Id}");
                Log.HandoffReady(logger, child.Id, sw.Elapsed.TotalMilliseconds);
                events.Append(EventSource.Daemon, "overlayd", "hand-off", reason: $"pid {child.Id} ready after {sw.Elapsed.TotalMilliseconds:F0} ms");
                int pid = child.Id;
                child.Dispose();
                child = null;
                lifetime.StopApplication();
                return new HandoffResult(true, pid, sw.Elapsed.TotalMilliseconds, null);
            }
            catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return Fail(sw, ex.Message, child);
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            _one.Release();
        }
    }

    private static string Why(Process child, Stopwatch sw, string when) =>
        child.HasExited ? $"the new process (pid {child.Id}) exited with code {child.ExitCode} {when} (its output says why)"
        : $"the new process (pid {child.Id}) was not ready within {ReadyTimeout.TotalSeconds:F0} s ({when})";

    private HandoffResult Fail(Stopwatch sw, string reason, Process? child = null)
    {
        if (child is not null)
        {
            // The failed child holds duplicates of our lease fds and maybe the API socket path: it must go.
            try
            {
                if (!child.HasExited) child.Kill();
                child.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            child.Dispose();
        }
        Log.HandoffFailed(logger, reason);
        events.Append(EventSource.Daemon, "overlayd", "hand-off failed", reason: reason);
        return new HandoffResult(false, null, sw.Elapsed.TotalMilliseconds, reason);
    }

    /// <summary>SO_PEERCRED: the pid of the process at the other end of a Unix socket.</summary>
    private static int PeerPid(Socket s)
    {
        Span<byte> cred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        s.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, cred);
        return BitConverter.ToInt32(cred);
    }

    /// <summary>
    /// The program and arguments this process was started with (/proc/self/cmdline), so the new process is the binary
    /// now on disk at the same path: an upgrade takes effect. A bare program name is resolved through PATH.
    /// </summary>
    internal static (string Exe, IReadOnlyList<string> Args) OwnCommandLine()
    {
        var argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        string exe = argv[0];
        if (!exe.Contains('/'))
            exe = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, exe)).FirstOrDefault(File.Exists)
                ?? Environment.ProcessPath ?? exe;
        return (exe, argv[1..]);
    }

    // ---------------------------------------------------------------- the new process's side

    /// <summary>The hand-off as the new process sees it: the connection, the previous pid and the lease fds by name.</summary>
    public sealed class Incoming(Socket connection, int fromPid, InheritedLeases leases) : IDisposable
    {
        public Socket Connection { get; } = connection;
        public int FromPid { get; } = fromPid;
        public InheritedLeases Leases { get; } = leases;

        public void Ready() => Connection.Send(Encoding.UTF8.GetBytes($"READY {Environment.ProcessId}\n"));

        public void Refuse(string reason)
        {
            try { Connection.Send(Encoding.UTF8.GetBytes("FAILED " + reason.ReplaceLineEndings(" ") + "\n")); }
            catch (SocketException) { }
        }

        /// <summary>Waits until the previous process has exited (EOF on the connection), at most <paramref name="timeout"/>.</summary>
        public bool WaitForPreviousExit(TimeSpan timeout)
        {
            try
            {
                var (payload, fds) = UnixFdPassing.Receive(Connection.SafeHandle, 64, timeout, "hand-off socket");
                foreach (var f in fds) f.Dispose();
                return payload.Length == 0;
            }
            catch (LinuxException) { return false; }
        }

        public void Dispose() => Connection.Dispose();
    }

    /// <summary>Connects to the previous process's hand-off socket and receives the lease fds. Throws with the reason.</summary>
    public static Incoming Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            var (payload, fds) = UnixFdPassing.Receive(s.SafeHandle, 64 * 1024, TimeSpan.FromSeconds(10), $"hand-off socket {path}");
            var lines = Encoding.UTF8.GetString(payload).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length < 2 || lines[0] != Magic || !lines[1].StartsWith("from ", StringComparison.Ordinal))
            {
                foreach (var f in fds) f.Dispose();
                throw new IOException($"hand-off socket {path}: not an overlayd hand-off message");
            }
            int from = int.Parse(lines[1][5..], CultureInfo.InvariantCulture);
            var names = lines.Skip(2).Where(l => l.StartsWith("lease ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToList();
            if (names.Count != fds.Length)
            {
                foreach (var f in fds) f.Dispose();
                throw new IOException($"hand-off socket {path}: {names.Count} lease name(s) for {fds.Length} fd(s)");
            }
            return new Incoming(s, from, new InheritedLeases($"pid {from} (hand-off)", names.Zip(fds)));
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }
}
