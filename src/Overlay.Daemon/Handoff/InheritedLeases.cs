using System.Globalization;
using Overlay.Linux.Interop;

namespace Overlay.Daemon.Handoff;

/// <summary>
/// The lease (TUN) fds this process was given at start, by name: by the previous overlayd over the hand-off
/// socket (SIGUSR2 / overlayctl restart), or by the service manager from its fd store (LISTEN_FDS). Each fd is
/// owned here until a VIP takes it (<see cref="Take"/>) or it is released.
/// </summary>
public sealed class InheritedLeases : IDisposable
{
    private readonly Dictionary<string, FileDescriptorHandle> _fds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public InheritedLeases(string source, IEnumerable<(string Name, FileDescriptorHandle Fd)> fds)
    {
        Source = source;
        foreach (var (name, fd) in fds)
        {
            // Two fds under one name: keep the first; closing the other is harmless (the TUN lives while any fd does).
            if (!_fds.TryAdd(name, fd)) fd.Dispose();
        }
    }

    public static InheritedLeases None => new("", []);

    public string Source { get; }

    public IReadOnlyCollection<string> Names
    {
        get { lock (_lock) return [.. _fds.Keys.Order(StringComparer.Ordinal)]; }
    }

    /// <summary>Removes the fd for <paramref name="name"/> from here; the caller owns it. Null when none was inherited.</summary>
    public FileDescriptorHandle? Take(string name)
    {
        lock (_lock) return _fds.Remove(name, out var fd) ? fd : null;
    }

    /// <summary>Read-only view for the hand-off preflight (verify before reporting ready).</summary>
    public IReadOnlyList<(string Name, FileDescriptorHandle Fd)> Peek()
    {
        lock (_lock) return [.. _fds.Select(kv => (kv.Key, kv.Value))];
    }

    public void Release(string name) => Take(name)?.Dispose();

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var fd in _fds.Values) fd.Dispose();
            _fds.Clear();
        }
    }

    /// <summary>
    /// sd_listen_fds(3) with names: fds 3..3+LISTEN_FDS-1 named by LISTEN_FDNAMES (colon-separated), meant for this
    /// process only when LISTEN_PID is its pid. The variables are removed from the environment either way, so no child
    /// mistakes them for its own. <paramref name="problem"/> says why nothing was taken when the variables were set but
    /// not for us.
    /// </summary>
    public static InheritedLeases FromListenFds(out string? problem)
    {
        var parsed = ParseListenFds(Environment.GetEnvironmentVariable("LISTEN_PID"), Environment.GetEnvironmentVariable("LISTEN_FDS"),
            Environment.GetEnvironmentVariable("LISTEN_FDNAMES"), Environment.ProcessId, out problem);
        foreach (var v in (string[])["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) Environment.SetEnvironmentVariable(v, null);
        var fds = new List<(string, FileDescriptorHandle)>();
        foreach (var (fd, name) in parsed)
        {
            try { fds.Add((name, UnixFdPassing.AdoptInherited(fd, $"LISTEN_FDS fd {fd} ('{name}')"))); }
            catch (LinuxException ex) { problem = (problem is null ? "" : problem + "; ") + ex.Message; }
        }
        return new InheritedLeases("the service manager (LISTEN_FDS)", fds);
    }

    /// <summary>The pure part of <see cref="FromListenFds"/>: which fd numbers carry which names.</summary>
    public static IReadOnlyList<(int Fd, string Name)> ParseListenFds(string? listenPid, string? listenFds, string? listenFdNames, int ownPid, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(listenFds)) return [];
        if (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != ownPid)
        {
            problem = $"LISTEN_FDS={listenFds} is for pid {listenPid ?? "(LISTEN_PID unset)"}, not this process ({ownPid})";
            return [];
        }
        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count <= 0 || count > UnixFdPassing.MaxFds)
        {
            problem = $"LISTEN_FDS='{listenFds}' is not a count of fds (1..{UnixFdPassing.MaxFds})";
            return [];
        }
        var names = (listenFdNames ?? "").Split(':');
        if (names.Length != count)
            problem = $"LISTEN_FDNAMES has {names.Length} name(s) for {count} fd(s); unnamed fds are released";
        var result = new List<(int, string)>();
        for (int i = 0; i < count; i++)
            result.Add((3 + i, i < names.Length && names[i].Length > 0 ? names[i] : "unknown"));
        return result;
    }
}

/// <summary>How this process is going to exit: drain (the default) or hand over without withdrawing.</summary>
public sealed class ExitIntent
{
    private volatile string? _handOver;

    /// <summary>Non-null once this process has handed its leases on: its VIP loop stops writing and it exits without a drain.</summary>
    public string? HandOverReason => _handOver;
    public bool HandedOver => _handOver is not null;

    public void HandOver(string reason) => _handOver = reason;
}
