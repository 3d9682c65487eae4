using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tmds.Linux;

namespace Overlay.Lab;

/// <summary>What a sweep or a teardown removed, one line per item.</summary>
public sealed record SweepReport(IReadOnlyList<string> RunIds, IReadOnlyList<string> Removed, IReadOnlyList<string> Failures)
{
    public bool Clean => Failures.Count == 0;
}

/// <summary>
/// Finds and removes what labs leave on the machine: processes, namespaces, FRR pathspace folders,
/// wireguard-go UAPI sockets and run directories. A run is alive while the process recorded in its
/// run directory's owner file (pid and start time, so a reused pid does not count) exists; the sweeper
/// only touches runs that are not alive. Everything here is idempotent and never throws for things
/// that are already gone.
/// </summary>
public static partial class LabSweeper
{
    internal const string OwnerFile = "owner";

    /// <summary>Removes the leftovers of every lab run whose owning process is gone.</summary>
    public static SweepReport Sweep(ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var removed = new List<string>();
        var failures = new List<string>();
        var swept = new List<string>();
        foreach (var runId in FindRunIds().Order())
        {
            if (IsAlive(runId)) continue;
            swept.Add(runId);
            LogSweeping(logger, runId);
            RemoveRun(runId, removed, failures);
        }
        foreach (var f in failures) LogFailure(logger, f);
        return new SweepReport(swept, removed, failures);
    }

    /// <summary>Every run id that has something on this machine.</summary>
    public static IReadOnlySet<string> FindRunIds()
    {
        var ids = new HashSet<string>();
        void Add(IEnumerable<string> names)
        {
            foreach (var n in names) if (LabNames.RunIdOf(n) is { } id) ids.Add(id);
        }
        Add(ListNames(LabNames.NetnsDirectory));
        Add(ListNames(LabNames.FrrStateDirectory));
        Add(ListNames(LabNames.WireGuardSocketDirectory));
        Add(ListNames(LabNames.RunRoot));
        foreach (var (_, cmdline) in Processes()) ids.UnionWith(LabNames.RunIdsIn(cmdline));
        return ids;
    }

    /// <summary>True while the process that created the run is running.</summary>
    public static bool IsAlive(string runId)
    {
        string path = Path.Combine(LabNames.RunDirectory(runId), OwnerFile);
        try
        {
            var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int pid)
                && ProcessStartTime(pid) is { } start && start == parts[1];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Creates the run directory with its owner file in one atomic rename, so no sweep (from any process)
    /// ever sees the run directory without an owner and takes it for a crashed run.
    /// Throws <see cref="IOException"/> when the run directory already exists.
    /// </summary>
    internal static void CreateOwnedRunDirectory(string runDirectory)
    {
        int pid = Environment.ProcessId;
        string staging = Path.Combine(Path.GetDirectoryName(runDirectory)!, $".{Path.GetFileName(runDirectory)}-{pid}");
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            File.WriteAllText(Path.Combine(staging, OwnerFile), $"{pid} {ProcessStartTime(pid)}");
            Directory.Move(staging, runDirectory);
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>Removes everything of one run, whether or not it is alive (teardown uses this too).</summary>
    internal static void RemoveRun(string runId, List<string> removed, List<string> failures)
    {
        KillProcesses(runId, removed, failures);

        foreach (var ns in ListNames(LabNames.NetnsDirectory).Where(n => LabNames.RunIdOf(n) == runId))
        {
            var r = TryRun(["netns", "delete", ns], failures);
            if (r is null) continue;
            if (r.Succeeded || !File.Exists(Path.Combine(LabNames.NetnsDirectory, ns))) removed.Add("namespace " + ns);
            else failures.Add($"namespace {ns}: {r.StdErr.Trim()}");
        }
        foreach (var sock in ListNames(LabNames.WireGuardSocketDirectory).Where(n => LabNames.RunIdOf(n) == runId))
            Delete(Path.Combine(LabNames.WireGuardSocketDirectory, sock), "wireguard socket ", removed, failures);
        foreach (var dir in ListNames(LabNames.FrrStateDirectory).Where(n => LabNames.RunIdOf(n) == runId))
            Delete(Path.Combine(LabNames.FrrStateDirectory, dir), "frr pathspace ", removed, failures);
        // The run directory holds the owner file: it goes last, so a half-removed run stays recognisable.
        Delete(LabNames.RunDirectory(runId), "run directory ", removed, failures);
    }

    private static void KillProcesses(string runId, List<string> removed, List<string> failures)
    {
        var pids = new HashSet<int>();
        foreach (var (pid, cmdline) in Processes())
            if (pid != Environment.ProcessId && LabNames.RunIdsIn(cmdline).Contains(runId)) pids.Add(pid);
        foreach (var ns in ListNames(LabNames.NetnsDirectory).Where(n => LabNames.RunIdOf(n) == runId))
        {
            var r = TryRun(["netns", "pids", ns], failures);
            foreach (var line in (r?.StdOut ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (int.TryParse(line, CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId) pids.Add(pid);
        }
        foreach (int pid in pids)
        {
            string what = $"process {pid} ({Comm(pid)})";
            if (LibC.kill(pid, LabProcess.SIGKILL) == 0) removed.Add(what);
            else if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != LibC.ESRCH) failures.Add(what + ": kill failed");
        }
        // SIGKILL is asynchronous: wait until the processes are really gone so their TUNs and sockets are released.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (pids.Any(p => Directory.Exists($"/proc/{p}")) && DateTime.UtcNow < deadline) Thread.Sleep(10);
        foreach (int pid in pids.Where(p => Directory.Exists($"/proc/{p}") && ProcessStartTime(p) is not null && !IsZombie(p)))
            failures.Add($"process {pid} still running after SIGKILL");
    }

    private static ExecResult? TryRun(string[] ipArgs, List<string> failures)
    {
        try
        {
            return Command.Run("ip", ipArgs, TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is LabException or System.ComponentModel.Win32Exception or IOException)
        {
            failures.Add($"ip {string.Join(' ', ipArgs)}: {e.Message}");
            return null;
        }
    }

    private static void Delete(string path, string label, List<string> removed, List<string> failures)
    {
        try
        {
            if (Directory.Exists(path)) { Directory.Delete(path, recursive: true); removed.Add(label + path); }
            else if (File.Exists(path) || IsSocketOrOther(path)) { File.Delete(path); removed.Add(label + path); }
        }
        catch (DirectoryNotFoundException) { }
        catch (FileNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add($"{label}{path}: {e.Message}");
        }
    }

    private static bool IsSocketOrOther(string path)
    {
        try { return File.GetAttributes(path) != 0; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static IEnumerable<string> ListNames(string dir)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(dir, LabNames.Prefix + "*").Select(Path.GetFileName).OfType<string>().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IEnumerable<(int Pid, string CommandLine)> Processes()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out int pid)) continue;
            string cmdline;
            try { cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            yield return (pid, cmdline);
        }
    }

    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks since boot); null when the process is gone.</summary>
    internal static string? ProcessStartTime(int pid) => StatField(pid, 22);

    private static bool IsZombie(int pid) => StatField(pid, 3) == "Z";

    private static string? StatField(int pid, int field)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces and parentheses: count fields after its last ')'.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return rest[field - 3];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static string Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Sweeping leftovers of lab run {RunId}")]
    private static partial void LogSweeping(ILogger logger, string runId);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Sweep could not remove: {What}")]
    private static partial void LogFailure(ILogger logger, string what);
}
