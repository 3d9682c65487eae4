using Overlay.Core.Fleet;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Fleet;

/// <summary>How the fleet commands find things on a node, beyond what the rotation agent already knows (wg-quick folder, vtysh).</summary>
public sealed record FleetOptions
{
    public const string DefaultOverlaydConfig = "/etc/overlay/overlayd.yaml";

    public HostRotationOptions Host { get; init; } = new();

    /// <summary>Where overlayd.yaml lives on the node; <c>{node}</c> is replaced.</summary>
    public string OverlaydConfig { get; init; } = DefaultOverlaydConfig;

    /// <summary>overlayd's pid file on the node ({node} replaced); null: reload with 'systemctl reload overlayd' when that unit is active.</summary>
    public string? OverlaydPidFile { get; init; }

    /// <summary>How long apply waits for routes to leave a costed-out tunnel before removing it.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(Host.Validate());
        if (!OverlaydConfig.StartsWith('/')) errors.Add($"--overlayd-config '{OverlaydConfig}' must be an absolute path");
        if (OverlaydPidFile is not null && !OverlaydPidFile.StartsWith('/')) errors.Add($"--overlayd-pidfile '{OverlaydPidFile}' must be an absolute path");
        return errors;
    }

    internal string OverlaydPath(string node) => Expand(OverlaydConfig, node);

    internal string? PidFile(string node) => OverlaydPidFile is null ? null : Expand(OverlaydPidFile, node);

    private static string Expand(string template, string node)
    {
        ShellWords.ValidateNodeName(node);
        return template.Replace("{node}", node, StringComparison.Ordinal);
    }
}

/// <summary>
/// Reads a node's running state in one script through <see cref="INodeShell"/>: every WireGuard interface of the node's
/// network namespace ('wg show IFACE dump' with the private and preshared key fields blanked ON the node, so they never
/// travel), their addresses, FRR's running configuration through vtysh, overlayd.yaml, and 'wg pubkey' of the key file.
/// </summary>
public static class FleetNodeReader
{
    /// <summary>The sections' markers carry a per-read nonce, so no file content can end a section early.</summary>
    internal static string Script(FleetOptions o, string node, string nonce)
    {
        string vtysh = o.Host.VtyshCommand(node);
        string overlayd = ShellWords.Quote(o.OverlaydPath(node));
        string m = "@@" + nonce;
        return string.Join('\n',
            $"echo {m}-wg",
            // 'wg show interfaces' also lists userspace sockets of other namespaces (/var/run/wireguard is shared): keep the links we have.
            "for i in $(wg show interfaces 2>/dev/null); do",
            "  ip link show dev \"$i\" >/dev/null 2>&1 || continue",
            "  wg show \"$i\" dump | awk -v i=\"$i\" 'BEGIN { FS = OFS = \"\\t\" } NR == 1 { print i, \"-\", $2, $3, $4; next } { $2 = \"-\"; print i, $0 }'",
            "  ip -o addr show dev \"$i\" | awk -v i=\"$i\" '$3 == \"inet\" { print \"addr\\t\" i \"\\t\" $4 }'",
            "done",
            $"echo {m}-frr",
            $"{vtysh} -c 'show running-config' 2>/dev/null || echo {m}-frr-failed",
            $"echo {m}-overlayd",
            $"if [ -f {overlayd} ]; then cat {overlayd}; echo; else echo {m}-missing; fi",
            $"echo {m}-key",
            "IFS= read -r key",
            "if [ -s \"$key\" ]; then wg pubkey < \"$key\" || echo unreadable; fi",
            $"echo {m}-end");
    }

    public static async Task<NodeRunningState> ReadAsync(INodeShell shell, FleetOptions o, Inventory inventory, string node, CancellationToken ct)
    {
        string nonce = Guid.NewGuid().ToString("N")[..12];
        // The key file's path is data: on stdin, never inside the script.
        var r = await shell.RunAsync(node, Script(o, node, nonce), inventory.GetNode(node).KeyFile + "\n", o.Host.CommandTimeout, ct).ConfigureAwait(false);
        return Parse(node, r, nonce);
    }

    internal static NodeRunningState Parse(string node, ShellResult r, string nonce)
    {
        string m = "@@" + nonce;
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in r.StdOut.Split('\n'))
        {
            if (line.StartsWith(m + "-", StringComparison.Ordinal) && line.Length > m.Length + 1 && !line.EndsWith("-failed", StringComparison.Ordinal)
                && !line.EndsWith("-missing", StringComparison.Ordinal))
            {
                sections[line[(m.Length + 1)..]] = current = [];
                continue;
            }
            current?.Add(line);
        }
        if (!sections.ContainsKey("end"))
            throw new HostAgentException($"{node}: reading the node's state did not finish (exit {r.ExitCode}): {HostRotationAgent.Tail(r)}");
        string frr = string.Join('\n', sections["frr"]);
        if (frr.Contains(m + "-frr-failed", StringComparison.Ordinal) || !frr.Contains("frr version", StringComparison.Ordinal))
            throw new HostAgentException($"{node}: FRR's running configuration could not be read through vtysh (is FRR running? is --vtysh right?)");
        var overlayd = sections["overlayd"];
        string? overlaydText = overlayd.Contains(m + "-missing") ? null : string.Join('\n', overlayd);
        string? key = sections["key"].Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        if (key == "unreadable") throw new HostAgentException($"{node}: the key file exists but 'wg pubkey' cannot read it");
        return new NodeRunningState(node, WireGuardState.ParseDump(string.Join('\n', sections["wg"])), frr, overlaydText, key);
    }
}
