using Overlay.Frr.Northbound;

namespace Overlay.Frr.Vty;

/// <summary>
/// Runs CLI commands on an FRR daemon's vty socket. Each call is a fresh session, which FRR starts
/// in VIEW mode: <c>show</c> commands work without <c>enable</c> (verified on 8.4.4); configuration
/// commands would need <c>enable</c> + <c>configure terminal</c> and are not Overlay's business here
/// (configuration goes through the northbound API).
/// </summary>
public interface IVty
{
    /// <summary>
    /// Runs one command and returns its output. A non-zero completion status throws
    /// <see cref="FrrVtyException"/> carrying the command, status and output.
    /// </summary>
    Task<string> ExecuteAsync(FrrDaemon daemon, string command, CancellationToken cancellationToken = default);
}

/// <summary>The CLI completion status FRR appends to every reply (lib/command.h CMD_*).</summary>
public enum VtyStatus : byte
{
    Success = 0,
    Warning = 1,
    NoMatch = 2,
    Ambiguous = 3,
    Incomplete = 4,
    TooManyArguments = 5,
    NothingToDo = 6,
    CompleteFullMatch = 7,
    CompleteMatch = 8,
    CompleteListMatch = 9,
    SuccessDaemon = 10,
    NoFile = 11,
    Suspend = 12,
    WarningConfigFailed = 13,
    NotMyInstance = 14,
    NoLevelUp = 15,
    NoDaemon = 16,
}

/// <summary>A vty command finished with a non-zero status, or the socket failed.</summary>
public sealed class FrrVtyException : Exception
{
    public FrrVtyException(FrrDaemon daemon, string command, VtyStatus status, string output)
        : base($"FRR {daemon.ToDaemonName()} vty command '{command}' failed with status {status} ({(int)status}): {FirstLine(output)}")
    {
        Daemon = daemon;
        Command = command;
        Status = status;
        Output = output;
    }

    public FrrVtyException(FrrDaemon daemon, string command, string socketPath, Exception inner)
        : base($"FRR {daemon.ToDaemonName()} vty command '{command}' failed on {socketPath}: {inner.Message}", inner)
    {
        Daemon = daemon;
        Command = command;
        Output = string.Empty;
    }

    public FrrDaemon Daemon { get; }

    public string Command { get; }

    /// <summary>The daemon's status; null when the socket itself failed.</summary>
    public VtyStatus? Status { get; }

    public string Output { get; }

    private static string FirstLine(string output)
    {
        var text = output.Trim();
        var newline = text.IndexOf('\n');
        return text.Length == 0 ? "(no output)" : newline < 0 ? text : text[..newline];
    }
}
