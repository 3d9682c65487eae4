namespace Overlay.Remote.Shell;

/// <summary>
/// The node is reached over OpenSSH from the operator's machine, Ansible-style: key-based and non-interactive
/// (BatchMode), nothing installed on the node. Exit status 255 is ssh's own failure (unreachable, refused, host key);
/// it becomes a <see cref="NodeShellException"/>, every other status is the script's.
/// </summary>
public sealed class SshNodeShell : INodeShell
{
    private readonly Func<string, string> _hostOf;
    private readonly string? _user;
    private readonly IReadOnlyList<string> _options;

    /// <param name="hostOf">The address to connect to for a node (the inventory endpoint host unless overridden).</param>
    /// <param name="options">Passed as <c>-o OPTION</c> each (e.g. "Port=2222", "StrictHostKeyChecking=accept-new").</param>
    public SshNodeShell(Func<string, string> hostOf, string? user = null, IReadOnlyList<string>? options = null)
    {
        if (user is not null && !ShellWords.IsValidUser(user))
            throw new ArgumentException($"ssh user '{user}' is not a valid user name", nameof(user));
        _hostOf = hostOf;
        _user = user;
        _options = options ?? [];
    }

    public const int SshFailure = 255;

    /// <summary>The ssh argument vector for one script: options, '--', destination, then one remote command word.</summary>
    public IReadOnlyList<string> CommandLine(string node, string script)
    {
        ShellWords.ValidateNodeName(node);
        string host = _hostOf(node);
        if (!ShellWords.IsValidHost(host))
            throw new ArgumentException($"node '{node}': '{host}' is not a host name or address ssh can be given safely", nameof(node));
        var argv = new List<string> { "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5" };
        foreach (var o in _options) argv.AddRange(["-o", o]);
        // '--' ends ssh's options; the remote side gets one command line, parsed by the login shell: quote the script once.
        argv.AddRange(["--", _user is null ? host : $"{_user}@{host}", "sh -c " + ShellWords.Quote(script)]);
        return argv;
    }

    public string Describe(string node) => $"ssh {(_user is null ? "" : _user + "@")}{_hostOf(node)}";

    public async Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct)
    {
        var r = await ShellProcess.RunAsync($"{node} ({Describe(node)})", CommandLine(node, script), stdin, timeout, ct).ConfigureAwait(false);
        if (r.ExitCode == SshFailure)
            throw new NodeShellException($"{node}: {Describe(node)} failed: {(r.StdErr.Trim().Length > 0 ? r.StdErr.Trim() : "exit 255")}");
        return r;
    }
}

/// <summary>The node the CLI runs on: <c>sh -c SCRIPT</c>.</summary>
public sealed class LocalNodeShell : INodeShell
{
    public static IReadOnlyList<string> CommandLine(string script) => ["sh", "-c", script];

    public string Describe(string node) => "this machine";

    public Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct) =>
        ShellProcess.RunAsync($"{node} (local)", CommandLine(script), stdin, timeout, ct);
}

/// <summary>
/// Any command prefix the operator names, with <c>{node}</c> replaced by the node's name: "ip netns exec lab-{node}"
/// (the namespace lab), "docker exec -i {node}", "lxc exec {node} --". The prefix runs locally with <c>sh -c SCRIPT</c>
/// appended as two more words; a prefix that cannot start is a <see cref="NodeShellException"/>.
/// </summary>
public sealed class TemplateNodeShell : INodeShell
{
    private readonly string _template;

    public TemplateNodeShell(string template)
    {
        ShellWords.Split(template);   // refuses what it cannot split, before anything runs
        _template = template;
    }

    public IReadOnlyList<string> CommandLine(string node, string script) => [.. ShellWords.Expand(_template, node), "sh", "-c", script];

    public string Describe(string node) => string.Join(' ', ShellWords.Expand(_template, node));

    public Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct) =>
        ShellProcess.RunAsync($"{node} ({Describe(node)})", CommandLine(node, script), stdin, timeout, ct);
}

/// <summary>The composite front: one backend per named node (e.g. the local one), a default for the rest.</summary>
public sealed class NodeShellRouter(INodeShell fallback, IReadOnlyDictionary<string, INodeShell>? perNode = null) : INodeShell
{
    private INodeShell For(string node) => perNode is not null && perNode.TryGetValue(node, out var s) ? s : fallback;

    public string Describe(string node) => For(node).Describe(node);

    public Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct) =>
        For(node).RunAsync(node, script, stdin, timeout, ct);
}
