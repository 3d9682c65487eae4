using Overlay.Remote.Shell;

namespace Overlay.Remote.Tests;

/// <summary>Records every script with its node and stdin; answers from a function (default: exit 0, no output).</summary>
internal sealed class FakeNodeShell(Func<string, string, string?, ShellResult>? answer = null) : INodeShell
{
    public sealed record Call(string Node, string Script, string? Stdin);

    private readonly List<Call> _calls = [];

    public IReadOnlyList<Call> Calls { get { lock (_calls) return [.. _calls]; } }

    public HashSet<string> Unreachable { get; } = [];

    public string Describe(string node) => $"fake {node}";

    public Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct)
    {
        lock (_calls) _calls.Add(new Call(node, script, stdin));
        if (Unreachable.Contains(node)) throw new NodeShellException($"{node}: ssh: connect to host {node} port 22: Connection refused");
        return Task.FromResult(answer?.Invoke(node, script, stdin) ?? new ShellResult(0, "", ""));
    }

    public static ShellResult Ok(string stdout = "") => new(0, stdout, "");
}
