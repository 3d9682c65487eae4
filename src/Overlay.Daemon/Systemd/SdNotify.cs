using System.Net.Sockets;
using System.Text;

namespace Overlay.Daemon.Systemd;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram to the AF_UNIX socket named by NOTIFY_SOCKET
/// ('@' prefix = abstract namespace). Without NOTIFY_SOCKET every call is a no-op.
/// </summary>
public sealed class SdNotify
{
    private readonly string? _socket;

    public SdNotify(string? notifySocket, TimeSpan? watchdog = null)
    {
        _socket = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;
        Watchdog = _socket is null ? null : watchdog;
    }

    public static SdNotify FromEnvironment() => new(
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET"),
        WatchdogInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId));

    /// <summary>The period systemd expects a WATCHDOG=1 within; null when the watchdog is off.</summary>
    public TimeSpan? Watchdog { get; }

    public bool Enabled => _socket is not null;
    public string? Socket => _socket;

    public void Notify(string state)
    {
        if (_socket is null) return;
        using var s = Connect();
        s.Send(Encoding.UTF8.GetBytes(state));
    }

    /// <summary>
    /// One datagram with <paramref name="fds"/> attached as SCM_RIGHTS, as sd_pid_notify_with_fds(3) sends it
    /// (FDSTORE=1). The manager keeps its own duplicates; ours stay open.
    /// </summary>
    public void Notify(string state, IReadOnlyList<System.Runtime.InteropServices.SafeHandle> fds)
    {
        if (_socket is null) return;
        using var s = Connect();
        Overlay.Linux.Interop.UnixFdPassing.Send(s.SafeHandle, Encoding.UTF8.GetBytes(state), fds, "NOTIFY_SOCKET " + _socket);
    }

    private System.Net.Sockets.Socket Connect()
    {
        var path = _socket![0] == '@' ? "\0" + _socket[1..] : _socket;
        var s = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The watchdog period systemd expects (WATCHDOG_USEC), when it is meant for this process (WATCHDOG_PID
    /// absent or ours). Pings are sent at half of it, as sd_watchdog_enabled(3) recommends.
    /// </summary>
    public static TimeSpan? WatchdogInterval(string? usec, string? pid, int ownPid)
    {
        if (!long.TryParse(usec, out long us) || us <= 0) return null;
        if (!string.IsNullOrEmpty(pid) && (!int.TryParse(pid, out int p) || p != ownPid)) return null;
        return TimeSpan.FromMicroseconds(us);
    }
}
