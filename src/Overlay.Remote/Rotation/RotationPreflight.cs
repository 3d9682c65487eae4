using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Rotation;

/// <summary>What the pre-flight found on one node; <see cref="Ready"/> when it was reached and nothing is missing.</summary>
public sealed record PreflightNode(string Node, string Via, bool Reachable, IReadOnlyList<string> Problems)
{
    public bool Ready => Reachable && Problems.Count == 0;
}

/// <summary>
/// Before a rotation changes anything: reaches every node the executed phases touch and checks it can do its part
/// (wg, wg-quick, ip, FRR through vtysh, its key file, a writable wg-quick folder) and that the rotating node's new key
/// file holds the private key of the given public key. The key is checked on the node with <c>wg pubkey</c>; only the
/// derived public key travels back and is compared, never printed.
/// </summary>
public static class RotationPreflight
{
    private const string Marker = "overlay-preflight";
    private const string Problem = "problem: ";
    private const string DerivedKey = "derived-public-key: ";

    /// <summary>The nodes the executor will change or probe (phases it runs), rotating node first.</summary>
    public static IReadOnlyList<string> NodesInvolved(RotationPlan plan) =>
        [.. plan.Phases.Where(p => !RotationExecutor.IsOperatorPhase(p))
            .SelectMany(p => p.Changes.Select(c => c.Node).Concat(p.Rollback.Select(c => c.Node)).Concat(p.WaitFor.Select(v => v.Node)))
            .Distinct().OrderBy(n => n != plan.Node).ThenBy(n => n, StringComparer.Ordinal)];

    public static async Task<IReadOnlyList<PreflightNode>> CheckAsync(INodeShell shell, HostRotationOptions options, Inventory inventory,
        RotationPlan plan, CancellationToken ct = default)
    {
        var nodes = NodesInvolved(plan);
        return await Task.WhenAll(nodes.Select(n => CheckNodeAsync(shell, options, inventory, plan, n, ct))).ConfigureAwait(false);
    }

    /// <summary>The script: tools, FRR, folder; then the key files named on stdin (line 1: own key, line 2: new key or empty).</summary>
    internal static string Script(HostRotationOptions o, string node)
    {
        string dir = ShellWords.Quote(o.Directory(node));
        string vtysh = o.VtyshCommand(node);
        var tools = o.Systemd ? "wg wg-quick ip systemctl" : "wg wg-quick ip";
        return string.Join('\n',
            $"echo {Marker}",
            $"for t in {tools}; do command -v \"$t\" >/dev/null 2>&1 || echo \"{Problem}$t is not installed\"; done",
            $"{vtysh} -c 'show version' >/dev/null 2>&1 || echo \"{Problem}FRR does not answer: {vtysh.Replace("\"", "", StringComparison.Ordinal)} -c 'show version' failed\"",
            $"if [ -e {dir} ] && ! [ -w {dir} ]; then echo \"{Problem}cannot write {o.Directory(node)}\"; fi",
            "IFS= read -r key; IFS= read -r newkey",
            $"[ -s \"$key\" ] || echo \"{Problem}key file $key is missing or empty\"",
            "if [ -n \"$newkey\" ]; then",
            $"  if [ -s \"$newkey\" ]; then echo \"{DerivedKey}$(wg pubkey < \"$newkey\" 2>/dev/null)\"; else echo \"{Problem}new key file $newkey is missing or empty (generate it on the node: umask 077; wg genkey > $newkey)\"; fi",
            "fi");
    }

    private static async Task<PreflightNode> CheckNodeAsync(INodeShell shell, HostRotationOptions o, Inventory inventory, RotationPlan plan,
        string node, CancellationToken ct)
    {
        string via = shell.Describe(node);
        var n = inventory.GetNode(node);
        // Key file paths are data: they go on stdin, the script only ever says "$key".
        string newKeyFile = node == plan.Node ? n.KeyFile + ".new" : "";
        ShellResult r;
        try
        {
            r = await shell.RunAsync(node, Script(o, node), $"{n.KeyFile}\n{newKeyFile}\n", o.CommandTimeout, ct).ConfigureAwait(false);
        }
        catch (NodeShellException e)
        {
            return new PreflightNode(node, via, false, [e.Message]);
        }
        var lines = r.StdOut.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (!lines.Contains(Marker))
            return new PreflightNode(node, via, false, [$"{via} did not run the check (exit {r.ExitCode}): {HostRotationAgent.Tail(r)}"]);
        var problems = lines.Where(l => l.StartsWith(Problem, StringComparison.Ordinal)).Select(l => l[Problem.Length..]).ToList();
        if (newKeyFile.Length > 0 && !problems.Any(p => p.StartsWith("new key file", StringComparison.Ordinal)))
        {
            string? derived = lines.FirstOrDefault(l => l.StartsWith(DerivedKey, StringComparison.Ordinal))?[DerivedKey.Length..];
            if (derived != plan.NewPublicKey)
                problems.Add($"{newKeyFile} does not hold the private key of --new-public-key (compared on the node's 'wg pubkey' output)");
        }
        return new PreflightNode(node, via, true, problems);
    }
}
