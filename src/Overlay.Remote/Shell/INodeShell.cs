namespace Overlay.Remote.Shell;

/// <summary>What a script printed and returned on a node.</summary>
public sealed record ShellResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs a POSIX shell script on a named node. The script is code the caller built from validated names and quoted
/// words; data (file contents, configuration lines, paths) travels on <c>stdin</c>, never inside the script.
/// </summary>
public interface INodeShell
{
    /// <summary>
    /// Runs <paramref name="script"/> with <c>sh -c</c> on <paramref name="node"/>. A non-zero exit is a result, not an
    /// error; throws <see cref="NodeShellException"/> when the node cannot be reached at all or the deadline passes.
    /// </summary>
    Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct);

    /// <summary>How the node is reached, for messages ("ssh root@192.0.2.1", "ip netns exec lab-hub").</summary>
    string Describe(string node);
}

/// <summary>The node could not be reached, or the script did not finish in time; the message names node and transport.</summary>
public sealed class NodeShellException(string message, Exception? inner = null) : Exception(message, inner);
