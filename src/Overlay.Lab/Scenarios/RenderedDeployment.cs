using System.Text;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Lab.Scenarios;

/// <summary>
/// How a lab renders a node's folder (<c>NODE/frr/frr.conf</c>, <c>NODE/overlayd.yaml</c>, <c>NODE/sysctl.d/…</c>,
/// <c>NODE/wireguard/IFACE.conf</c>) from an inventory file: in process through Overlay.Core's renderer (the code
/// <c>overlayctl render</c> runs), or by running an <c>overlayctl</c> build (e.g. one built from an older commit, to
/// measure what that version rendered).
/// </summary>
public sealed class LabRenderer
{
    private readonly string? _overlayctlDll;

    private LabRenderer(string? overlayctlDll, bool writesInventoryPath)
    {
        _overlayctlDll = overlayctlDll;
        WritesInventoryPath = writesInventoryPath;
    }

    /// <summary>Overlay.Core's renderer in this process.</summary>
    public static LabRenderer InProcess { get; } = new(null, writesInventoryPath: true);

    /// <summary>
    /// "dotnet OVERLAYCTL_DLL render INVENTORY -o DIR --node NODE". <paramref name="writesInventoryPath"/>: whether that
    /// build knows the inventory's <c>daemon.inventory</c> (older builds reject it as an unknown key).
    /// </summary>
    public static LabRenderer Overlayctl(string overlayctlDll, bool writesInventoryPath) => new(overlayctlDll, writesInventoryPath);

    public bool WritesInventoryPath { get; }

    public override string ToString() => _overlayctlDll is null ? "Overlay.Core renderer (in process)" : $"overlayctl render ({_overlayctlDll})";

    /// <summary>Renders one node of the inventory file into <paramref name="outDir"/>/NODE/.</summary>
    public async Task RenderAsync(string inventoryPath, string node, string outDir, CancellationToken ct = default)
    {
        if (_overlayctlDll is not null)
        {
            var (file, arguments) = BuiltDll.Command(_overlayctlDll, ["render", inventoryPath, "-o", outDir, "--node", node]);
            (await Command.RunAsync(file, arguments, TimeSpan.FromSeconds(60), ct: ct)
                .ConfigureAwait(false)).EnsureSuccess();
            return;
        }
        var parsed = InventoryParser.Parse(await File.ReadAllTextAsync(inventoryPath, ct).ConfigureAwait(false), inventoryPath);
        if (parsed.Inventory is null)
            throw new LabException($"the lab's inventory {inventoryPath} does not parse:\n{string.Join('\n', parsed.Diagnostics)}");
        foreach (var f in Renderer.Render(parsed.Inventory, node))
        {
            string path = Path.Combine(outDir, f.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, f.Utf8.ToArray(), ct).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Applies one node's rendered folder inside its lab namespace the way a node applies it at boot: the sysctl drop-in
/// (<c>sysctl -p</c>), each WireGuard file as wg-quick would (wireguard-go, <c>wg setconf</c> of the stripped file,
/// addresses, link up, PostUp), and frr.conf through vtysh into the already running daemons (FRR's integrated
/// configuration, as <c>vtysh -b</c> applies it). Nothing here adds to or changes what render wrote.
/// </summary>
public static class RenderedDeployment
{
    private const string WireGuardGo = "/usr/bin/wireguard-go";

    public static string SysctlPath(string nodeDir) => Path.Combine(nodeDir, "sysctl.d", "60-overlay.conf");
    public static string FrrPath(string nodeDir) => Path.Combine(nodeDir, "frr", "frr.conf");
    public static string OverlaydPath(string nodeDir) => Path.Combine(nodeDir, "overlayd.yaml");

    /// <summary>The node's WireGuard files, by interface name.</summary>
    public static IReadOnlyList<string> WireGuardFiles(string nodeDir)
    {
        string dir = Path.Combine(nodeDir, "wireguard");
        return Directory.Exists(dir) ? [.. Directory.EnumerateFiles(dir, "*.conf").Order(StringComparer.Ordinal)] : [];
    }

    /// <summary>sysctl -p of the drop-in, when render wrote one; per-namespace keys (net.*) apply to the node's namespace only.</summary>
    public static async Task<bool> ApplySysctlAsync(RunningLab lab, LabNode node, string nodeDir, CancellationToken ct = default)
    {
        string file = SysctlPath(nodeDir);
        if (!File.Exists(file)) return false;
        (await lab.ExecAsync(node, Command.Quote(["sysctl", "-q", "-p", file]), ct: ct).ConfigureAwait(false)).EnsureSuccess();
        return true;
    }

    /// <summary>Applies frr.conf to the node's running FRR (zebra, ospfd, bfdd, staticd; bgpd when the file needs it).</summary>
    public static async Task ApplyFrrAsync(RunningLab lab, LabNode node, string nodeDir, CancellationToken ct = default)
    {
        var r = await Command.RunAsync("vtysh", ["-N", node.FrrPathspace, "-f", FrrPath(nodeDir)], TimeSpan.FromSeconds(30), ct: ct).ConfigureAwait(false);
        // vtysh prints "% ..." for every line a daemon refused; a refused line is a render bug, not something to skip.
        var refused = r.StdOut.Split('\n').Where(l => l.StartsWith('%') || l.Contains("Unknown command", StringComparison.Ordinal)).ToList();
        if (!r.Succeeded || refused.Count > 0)
            throw new LabException($"vtysh -f {FrrPath(nodeDir)} on {node.Name} (exit {r.ExitCode}):\n{r.StdOut}{r.StdErr}");
    }

    /// <summary>
    /// Brings up the interface of one rendered WireGuard file (its name is the file's name) as wg-quick does, with
    /// wireguard-go as the implementation: the process is the lab's, named after the interface, so it can be killed.
    /// </summary>
    public static async Task StartWireGuardAsync(RunningLab lab, LabNode node, string confPath, CancellationToken ct = default)
    {
        string ifname = Path.GetFileNameWithoutExtension(confPath);
        var file = WgQuickFile.Parse(await File.ReadAllTextAsync(confPath, ct).ConfigureAwait(false), confPath);
        string socket = WireGuardGoSocket.PathOf(ifname);
        // A wireguard-go killed with SIGKILL leaves its socket behind; waiting for "the socket listens" needs it gone
        // (and on a fresh machine /var/run/wireguard does not exist yet).
        WireGuardGoSocket.RemoveStale(ifname);
        var p = lab.StartProcess(node, new LabProcessSpec(ifname, WireGuardGo, ["-f", ifname])
        {
            Environment = new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1", ["LOG_LEVEL"] = "error" },
        });
        await Poll.UntilAsync($"wireguard-go {ifname} listens on {socket}", () =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
            return WireGuardGoSocket.IsListening(ifname);
        }, RunningLab.DefaultReadyTimeout, ct: ct).ConfigureAwait(false);

        string stripped = Path.Combine(lab.NodeDirectory(node), ifname + ".setconf");
        await File.WriteAllTextAsync(stripped, file.SetConf, ct).ConfigureAwait(false);
        var steps = new List<string> { Command.Quote(["wg", "setconf", ifname, stripped]) };
        steps.AddRange(file.Addresses.Select(a => Command.Quote(["ip", "address", "add", a, "dev", ifname])));
        steps.Add(Command.Quote(["ip", "link", "set", ifname, "up"]));
        // PostUp is shell text by definition (wg-quick evaluates it); %i is the interface.
        steps.AddRange(file.PostUp.Select(c => c.Replace("%i", ifname, StringComparison.Ordinal)));
        foreach (var step in steps)
            (await lab.ExecAsync(node, step, ct: ct).ConfigureAwait(false)).EnsureSuccess();
    }

    /// <summary>The parts of a wg-quick file the lab applies; refuses keys it would silently ignore.</summary>
    internal sealed record WgQuickFile(IReadOnlyList<string> Addresses, IReadOnlyList<string> PostUp, string SetConf)
    {
        // wg-quick's own keys (stripped before "wg setconf", as "wg-quick strip" does).
        private static readonly string[] QuickKeys = ["Address", "Table", "PostUp"];
        private static readonly string[] Unsupported = ["DNS", "MTU", "PreUp", "PreDown", "PostDown", "SaveConfig"];

        public static WgQuickFile Parse(string text, string path)
        {
            var addresses = new List<string>();
            var postUp = new List<string>();
            var setconf = new StringBuilder();
            string? section = null;
            int lineNo = 0;
            foreach (var raw in text.Split('\n'))
            {
                lineNo++;
                string line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                if (line.StartsWith('['))
                {
                    section = line;
                    setconf.Append(line).Append('\n');
                    continue;
                }
                int eq = line.IndexOf('=');
                if (eq < 0) throw new LabException($"{path}:{lineNo}: not 'Key = value': {line}");
                string key = line[..eq].Trim(), value = line[(eq + 1)..].Trim();
                if (section == "[Interface]" && Unsupported.Contains(key, StringComparer.OrdinalIgnoreCase))
                    throw new LabException($"{path}:{lineNo}: the lab does not apply wg-quick's {key}");
                if (section == "[Interface]" && QuickKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    if (key.Equals("Address", StringComparison.OrdinalIgnoreCase)) addresses.AddRange(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                    else if (key.Equals("PostUp", StringComparison.OrdinalIgnoreCase)) postUp.Add(value);
                    else if (!value.Equals("off", StringComparison.OrdinalIgnoreCase))
                        throw new LabException($"{path}:{lineNo}: Table = {value}: the lab applies only Table = off (routes come from FRR)");
                    continue;
                }
                setconf.Append(key).Append(" = ").Append(value).Append('\n');
            }
            return new WgQuickFile(addresses, postUp, setconf.ToString());
        }
    }
}
