using Overlay.Core.Rotation.Execution;
using Overlay.Remote.Shell;

namespace Overlay.Remote.Rotation;

/// <summary>
/// Applies a rotation's changes on real nodes through <see cref="INodeShell"/> only, with the tools every node of the
/// overlay already has: wg-quick files written with mode 0600 from stdin, <c>wg-quick up/down</c> (or systemd's
/// <c>wg-quick@IFACE</c>), <c>vtysh -c 'configure terminal' -c LINE…</c> with the lines read from stdin.
/// Each step is idempotent: bringing up an existing link or tearing down a missing one does nothing.
/// </summary>
public sealed class HostRotationAgent(INodeShell shell, HostRotationOptions? options = null) : IRotationNodeAgent
{
    private readonly HostRotationOptions _o = options ?? new HostRotationOptions();

    public async Task WriteInterfaceAsync(string node, string iface, IReadOnlyList<string> wgQuickFile, CancellationToken ct)
    {
        string file = _o.ConfigFile(node, iface);
        string dir = ShellWords.Quote(_o.Directory(node));
        // Written beside and renamed: wg-quick never reads half a file; umask makes it 0600 from the first byte.
        string script = $"set -e; umask 077; mkdir -p {dir}; cat > {file}.tmp; chmod 600 {file}.tmp; mv -f {file}.tmp {file}";
        await RunAsync(node, $"write {iface}.conf", script, string.Join('\n', wgQuickFile) + "\n", ct).ConfigureAwait(false);
    }

    public async Task BringUpAsync(string node, string iface, CancellationToken ct)
    {
        string file = _o.ConfigFile(node, iface);
        string up = _o.Systemd ? $"systemctl start {ShellWords.Quote("wg-quick@" + iface)}" : $"wg-quick up {file}";
        string script = $"if ip link show dev {ShellWords.Quote(iface)} >/dev/null 2>&1; then exit 0; fi; {up}";
        await RunAsync(node, $"bring up {iface}", script, null, ct).ConfigureAwait(false);
    }

    public async Task TearDownAsync(string node, string iface, CancellationToken ct)
    {
        string file = _o.ConfigFile(node, iface);
        string q = ShellWords.Quote(iface);
        // An interface that was not started from its file (or whose file is gone) is still removed: deleting the link is
        // what wg-quick down does for a table=off interface.
        string down = _o.Systemd
            ? $"systemctl stop {ShellWords.Quote("wg-quick@" + iface)}; if ip link show dev {q} >/dev/null 2>&1; then ip link delete dev {q}; fi"
            : $"if [ -f {file} ]; then wg-quick down {file}; else ip link delete dev {q}; fi";
        string script = $"if ! ip link show dev {q} >/dev/null 2>&1; then exit 0; fi; {down}";
        await RunAsync(node, $"tear down {iface}", script, null, ct).ConfigureAwait(false);
    }

    public async Task DeleteInterfaceAsync(string node, string iface, CancellationToken ct) =>
        await RunAsync(node, $"delete {iface}.conf", $"rm -f {_o.ConfigFile(node, iface)}", null, ct).ConfigureAwait(false);

    public async Task ApplyFrrAsync(string node, IReadOnlyList<string> lines, CancellationToken ct)
    {
        // The lines are data: read from stdin into "-c LINE" arguments, never pasted into the script.
        string script = "set -- -c 'configure terminal'; while IFS= read -r line; do set -- \"$@\" -c \"$line\"; done; "
            + $"exec {_o.VtyshCommand(node)} \"$@\"";
        var r = await shell.RunAsync(node, script, string.Join('\n', lines) + "\n", _o.CommandTimeout, ct).ConfigureAwait(false);
        string rejected = FrrRejections(r.StdOut + "\n" + r.StdErr);
        if (!r.Succeeded || rejected.Length > 0)
            throw new HostAgentException($"{node}: FRR rejected configuration ({(rejected.Length > 0 ? rejected : $"vtysh exit {r.ExitCode}: {Tail(r)}")}): {string.Join(" / ", lines)}");
    }

    /// <summary>
    /// 'write memory': FRR's running configuration to the file(s) FRR starts from. vtysh writes the integrated frr.conf
    /// when vtysh.conf says 'service integrated-vtysh-config' or frr.conf exists, otherwise each daemon writes its own
    /// (-f) file. Returns the "saved to" lines; throws when vtysh fails or reports an error.
    /// </summary>
    public async Task<string> SaveFrrAsync(string node, CancellationToken ct)
    {
        var r = await shell.RunAsync(node, $"{_o.VtyshCommand(node)} -c 'write memory'", null, _o.CommandTimeout, ct).ConfigureAwait(false);
        string all = r.StdOut + "\n" + r.StdErr;
        string rejected = FrrRejections(all);
        var saved = all.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("saved to", StringComparison.OrdinalIgnoreCase)).ToList();
        if (!r.Succeeded || rejected.Length > 0 || all.Contains("[FAILED]", StringComparison.Ordinal) || saved.Count == 0)
            throw new HostAgentException($"{node}: 'write memory' failed (exit {r.ExitCode}): {(rejected.Length > 0 ? rejected : Tail(r))}");
        return string.Join("; ", saved);
    }

    /// <summary>
    /// vtysh keeps going after a rejected line and may still exit 0: a '%' line is FRR's error marker. A missing
    /// vtysh.conf (FRR pathspaces have none) is reported the same way and is harmless.
    /// </summary>
    internal static string FrrRejections(string output) => string.Join("; ", output.Split('\n')
        .Where(l => l.TrimStart().StartsWith('%') && !l.Contains("vtysh.conf", StringComparison.Ordinal)).Select(l => l.Trim()));

    public async Task RunCommandsAsync(string node, IReadOnlyList<string> commands, CancellationToken ct)
    {
        // The plan's exact lines ('wg set …', 'test -s KEY && wg pubkey < KEY'): they are the plan's code, shown to the
        // operator by 'rotate plan'. Their output is never printed: only the exit status counts.
        foreach (var command in commands)
            await RunAsync(node, command, command, null, ct).ConfigureAwait(false);
    }

    private async Task RunAsync(string node, string step, string script, string? stdin, CancellationToken ct)
    {
        var r = await shell.RunAsync(node, script, stdin, _o.CommandTimeout, ct).ConfigureAwait(false);
        if (!r.Succeeded) throw new HostAgentException($"{node}: {step} failed (exit {r.ExitCode}): {Tail(r)}");
    }

    internal static string Tail(ShellResult r)
    {
        var lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no message)" : string.Join(" / ", lines.TakeLast(3));
    }
}
