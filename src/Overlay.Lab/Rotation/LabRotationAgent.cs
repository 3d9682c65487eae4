using System.Globalization;
using Overlay.Core.Rotation.Execution;

namespace Overlay.Lab.Rotation;

/// <summary>
/// Applies rotation changes to lab nodes for real: wg-quick files are kept in the node's run directory, interfaces
/// are wireguard-go processes configured with 'wg', FRR lines go through 'vtysh -N PATHSPACE', commands run in the
/// node's namespace. Inventory node names map to lab nodes.
/// </summary>
public sealed class LabRotationAgent(RunningLab lab, IReadOnlyDictionary<string, LabNode> nodes) : IRotationNodeAgent
{
    private const string WireGuardGo = "/usr/bin/wireguard-go";
    private readonly HashSet<string> _interfaces = [];

    /// <summary>Every interface this agent brought up (their UAPI sockets must go when the lab goes).</summary>
    public IReadOnlyCollection<string> InterfacesSeen { get { lock (_interfaces) return [.. _interfaces]; } }

    private LabNode Node(string name) => nodes.TryGetValue(name, out var n) ? n
        : throw new LabException($"rotation step for node '{name}', which is not in this lab (nodes: {string.Join(", ", nodes.Keys)})");

    public string InterfaceFile(string node, string iface) => Path.Combine(lab.NodeDirectory(Node(node)), "wireguard", iface + ".conf");

    public Task WriteInterfaceAsync(string node, string iface, IReadOnlyList<string> wgQuickFile, CancellationToken ct)
    {
        string path = InterfaceFile(node, iface);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, string.Join('\n', wgQuickFile) + "\n");
        return Task.CompletedTask;
    }

    public async Task BringUpAsync(string node, string iface, CancellationToken ct)
    {
        var n = Node(node);
        string path = InterfaceFile(node, iface);
        if (!File.Exists(path)) throw new LabException($"{node}: cannot bring up {iface}: no configuration at {path}");
        var conf = WgQuickFile.Parse(File.ReadAllLines(path), path);
        lock (_interfaces) _interfaces.Add(iface);

        bool running;
        try { running = !lab.Process(n, iface).HasExited; }
        catch (ArgumentException) { running = false; }
        if (!running)
        {
            string socket = Path.Combine(LabNames.WireGuardSocketDirectory, iface + ".sock");
            File.Delete(socket);   // a SIGKILLed wireguard-go leaves it behind
            var p = lab.StartProcess(n, new LabProcessSpec(iface, WireGuardGo, ["-f", iface])
            {
                Environment = new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1", ["LOG_LEVEL"] = "error" },
            });
            await Poll.UntilAsync($"wireguard-go {iface} on {node} creates {socket}", () =>
            {
                if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
                return File.Exists(socket);
            }, RunningLab.DefaultReadyTimeout, ct: ct).ConfigureAwait(false);
        }
        var args = new List<string> { "wg", "set", iface, "private-key", conf.PrivateKeyFile, "listen-port", conf.ListenPort.ToString(CultureInfo.InvariantCulture),
            "peer", conf.PeerPublicKey, "allowed-ips", string.Join(',', conf.AllowedIps) };
        if (conf.Endpoint is { } ep) args.AddRange(["endpoint", ep]);
        if (conf.PersistentKeepalive is { } ka) args.AddRange(["persistent-keepalive", ka.ToString(CultureInfo.InvariantCulture)]);
        await InNodeAsync(n, Command.Quote(args), ct).ConfigureAwait(false);
        await InNodeAsync(n, $"ip addr replace {conf.Address} dev {iface} && ip link set {iface} up", ct).ConfigureAwait(false);
    }

    public async Task TearDownAsync(string node, string iface, CancellationToken ct)
    {
        var n = Node(node);
        LabProcess? p;
        try { p = lab.Process(n, iface); }
        catch (ArgumentException) { p = null; }
        if (p is not null && !p.HasExited) await lab.StopProcessAsync(p).ConfigureAwait(false);
        // wireguard-go deletes its TUN on SIGTERM; the interface is gone only once the kernel says so.
        await Poll.UntilAsync($"{iface} on {node} is gone", async c =>
            !(await lab.ExecAsync(n, $"ip link show {iface}", ct: c).ConfigureAwait(false)).Succeeded,
            TimeSpan.FromSeconds(10), ct: ct).ConfigureAwait(false);
        File.Delete(Path.Combine(LabNames.WireGuardSocketDirectory, iface + ".sock"));
    }

    public Task DeleteInterfaceAsync(string node, string iface, CancellationToken ct)
    {
        File.Delete(InterfaceFile(node, iface));
        return Task.CompletedTask;
    }

    public async Task ApplyFrrAsync(string node, IReadOnlyList<string> lines, CancellationToken ct)
    {
        var n = Node(node);
        var args = new List<string> { "-N", n.FrrPathspace, "-c", "configure terminal" };
        foreach (var line in lines) args.AddRange(["-c", line]);
        var r = await Command.RunAsync("vtysh", args, TimeSpan.FromSeconds(15), null, ct).ConfigureAwait(false);
        // vtysh keeps going after a rejected line and may still exit 0: a '%' line is FRR's error marker. The lab has no
        // per-pathspace vtysh.conf, which vtysh reports the same way; that one is harmless.
        string rejected = string.Join("; ", (r.StdOut + "\n" + r.StdErr).Split('\n')
            .Where(l => l.TrimStart().StartsWith('%') && !l.Contains("vtysh.conf", StringComparison.Ordinal)).Select(l => l.Trim()));
        if (!r.Succeeded || rejected.Length > 0)
            throw new LabException($"{node}: FRR rejected configuration ({rejected}{(r.Succeeded ? "" : $", exit {r.ExitCode}")}): {string.Join(" / ", lines)}");
    }

    public async Task RunCommandsAsync(string node, IReadOnlyList<string> commands, CancellationToken ct)
    {
        var n = Node(node);
        foreach (var command in commands) await InNodeAsync(n, command, ct).ConfigureAwait(false);
    }

    private async Task InNodeAsync(LabNode n, string command, CancellationToken ct) =>
        (await lab.ExecAsync(n, command, ct: ct).ConfigureAwait(false)).EnsureSuccess();
}

/// <summary>The parts of a wg-quick file that the rotation's interface files use.</summary>
internal sealed record WgQuickFile(string Address, int ListenPort, string PrivateKeyFile, string PeerPublicKey,
    IReadOnlyList<string> AllowedIps, string? Endpoint, int? PersistentKeepalive)
{
    public static WgQuickFile Parse(IEnumerable<string> lines, string path)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith('[')) continue;
            int eq = line.IndexOf('=');
            if (eq < 0) throw new LabException($"{path}: '{line}' is not KEY = VALUE");
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        string Need(string key) => values.TryGetValue(key, out var v) ? v : throw new LabException($"{path}: no {key}");
        const string KeyMarker = "private-key ";
        string postUp = Need("PostUp");
        int k = postUp.IndexOf(KeyMarker, StringComparison.Ordinal);
        if (k < 0) throw new LabException($"{path}: PostUp does not load a private key file: {postUp}");
        return new WgQuickFile(Need("Address"), int.Parse(Need("ListenPort"), CultureInfo.InvariantCulture), postUp[(k + KeyMarker.Length)..].Trim(),
            Need("PublicKey"), [.. Need("AllowedIPs").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)],
            values.GetValueOrDefault("Endpoint"),
            values.TryGetValue("PersistentKeepalive", out var ka) ? int.Parse(ka, CultureInfo.InvariantCulture) : null);
    }
}
