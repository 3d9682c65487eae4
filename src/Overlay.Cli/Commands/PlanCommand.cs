using System.CommandLine;
using System.Text;
using Overlay.Cli.Output;
using Overlay.Core.Diagnostics;
using Overlay.Core.Fleet;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Remote.Fleet;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Cli.Commands;

/// <summary>What 'plan' and 'apply' were asked to do: the inventory, the nodes, and how to reach them.</summary>
internal sealed record FleetRequest(string Inventory)
{
    public IReadOnlyList<string> Nodes { get; init; } = [];
    public RotateApplyRequest Transport { get; init; } = new("", "", null);
    public string OverlaydConfig { get; init; } = FleetOptions.DefaultOverlaydConfig;
    public string? OverlaydPidFile { get; init; }
    public bool Json { get; init; }
    public bool Yes { get; init; }
}

/// <summary>
/// overlayctl plan INVENTORY [--node N…]: reads every node's running WireGuard, FRR and overlayd.yaml over its node
/// shell, renders what the inventory wants, and prints the difference per node (public keys only).
/// Exit codes: 0 nothing would change, 2 changes pending, 1 errors (a node unreachable or unreadable, bad input, a
/// problem the plan cannot resolve such as a key that differs from the inventory).
/// </summary>
internal static class PlanCommand
{
    public const int NoChanges = 0;
    public const int Errors = 1;
    public const int ChangesPending = 2;

    /// <summary>The options plan and apply share (transport as for 'rotate apply', node selection, overlayd paths).</summary>
    internal sealed class Options
    {
        public Argument<string> Inventory { get; } = new("inventory") { Description = "Inventory YAML file" };
        public Option<string[]> Node { get; } = new("--node") { Description = "Only these nodes (repeatable, or several after one --node)", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        public Option<string?> Via { get; } = new("--via") { Description = "Reach nodes with this command prefix instead of ssh; {node} is the node's name (e.g. 'ip netns exec lab-{node}')" };
        public Option<string?> SshUser { get; } = new("--ssh-user") { Description = "ssh login user (default: ssh's own)" };
        public Option<string[]> SshHost { get; } = new("--ssh-host") { Description = "NODE=HOST: connect to HOST for NODE (default: the node's endpoint host); repeatable", Arity = ArgumentArity.ZeroOrMore };
        public Option<string[]> SshOption { get; } = new("--ssh-option") { Description = "Passed to ssh as '-o OPTION'; repeatable", Arity = ArgumentArity.ZeroOrMore };
        public Option<string?> LocalNode { get; } = new("--local-node") { Description = "This machine's inventory name: its steps run here with sh, not over ssh" };
        public Option<string> WgDir { get; } = new("--wg-dir") { Description = "Folder of the wg-quick files on the nodes; {node} is the node's name", DefaultValueFactory = _ => HostRotationOptions.DefaultWireGuardDirectory };
        public Option<bool> Systemd { get; } = new("--systemd") { Description = "Start/stop interfaces with systemd's wg-quick@IFACE units" };
        public Option<string> Vtysh { get; } = new("--vtysh") { Description = "vtysh command on the nodes; {node} is the node's name", DefaultValueFactory = _ => "vtysh" };
        public Option<string> OverlaydConfig { get; } = new("--overlayd-config") { Description = "overlayd.yaml on the nodes; {node} is the node's name", DefaultValueFactory = _ => FleetOptions.DefaultOverlaydConfig };
        public Option<string?> OverlaydPidFile { get; } = new("--overlayd-pidfile") { Description = "overlayd's pid file on the nodes (SIGHUP target); default: 'systemctl reload overlayd' when active" };
        public Option<string> Output { get; } = new("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };

        public Options() => Output.AcceptOnlyFromAmong("text", "json");

        public IEnumerable<Symbol> All => [Inventory, Node, Via, SshUser, SshHost, SshOption, LocalNode, WgDir, Systemd, Vtysh, OverlaydConfig, OverlaydPidFile, Output];

        public FleetRequest Read(ParseResult parse) => new(parse.GetRequiredValue(Inventory))
        {
            Nodes = parse.GetValue(Node) ?? [],
            Transport = new RotateApplyRequest(parse.GetRequiredValue(Inventory), "", null)
            {
                Via = parse.GetValue(Via),
                SshUser = parse.GetValue(SshUser),
                SshHosts = parse.GetValue(SshHost) ?? [],
                SshOptions = parse.GetValue(SshOption) ?? [],
                LocalNode = parse.GetValue(LocalNode),
                WireGuardDirectory = parse.GetValue(WgDir) ?? HostRotationOptions.DefaultWireGuardDirectory,
                Systemd = parse.GetValue(Systemd),
                Vtysh = parse.GetValue(Vtysh) ?? "vtysh",
            },
            OverlaydConfig = parse.GetValue(OverlaydConfig) ?? FleetOptions.DefaultOverlaydConfig,
            OverlaydPidFile = parse.GetValue(OverlaydPidFile),
            Json = parse.GetValue(Output) == "json",
        };
    }

    public static Command Create()
    {
        var o = new Options();
        var command = new Command("plan", "Read every node's running WireGuard, FRR and overlayd.yaml and show what 'apply' would change (exit 0 none, 2 changes, 1 errors)");
        foreach (var s in o.All) Add(command, s);
        command.SetAction((parse, ct) => RunAsync(o.Read(parse), Console.Out, Console.Error, null, ct));
        return command;
    }

    internal static void Add(Command command, Symbol s)
    {
        if (s is Argument a) command.Arguments.Add(a);
        else command.Options.Add((Option)s);
    }

    internal static async Task<int> RunAsync(FleetRequest r, TextWriter stdout, TextWriter stderr, INodeShell? shellOverride, CancellationToken ct)
    {
        var ctx = Prepare(r, stderr, shellOverride);
        if (ctx is null) return Errors;
        var result = await ReadAndPlanAsync(ctx, ct).ConfigureAwait(false);
        Print(result, r.Json, stdout);
        return result.Any(x => x.Error is not null || x.Plan!.Problems.Count > 0) ? Errors : result.Any(x => x.Plan!.HasChanges) ? ChangesPending : NoChanges;
    }

    internal sealed record Context(FleetRequest Request, Inventory Inventory, IReadOnlyList<string> Nodes, INodeShell Shell, FleetOptions Options);

    internal sealed record NodeResult(string Node, string Via, NodePlan? Plan, string? Error, long ReadMs);

    /// <summary>Inventory, lint, node selection, transport and options: every problem reported at once; null when any.</summary>
    internal static Context? Prepare(FleetRequest r, TextWriter stderr, INodeShell? shellOverride)
    {
        var parsed = InventoryParser.Load(new DiskFiles(), r.Inventory);
        foreach (var d in parsed.Diagnostics) stderr.WriteLine(d.ToString());
        if (parsed.Inventory is not { } inv) return null;
        var lint = Linter.Lint(inv, FileSystemView.Unknown).Where(d => d.Severity == Severity.Error).ToList();
        foreach (var d in lint) stderr.WriteLine(d.ToString());
        if (lint.Count > 0)
        {
            stderr.WriteLine($"{r.Inventory}: lint reports errors: fix them first (overlayctl lint {r.Inventory}); nothing was read or changed");
            return null;
        }
        var errors = new List<string>();
        foreach (var n in r.Nodes.Where(n => inv.FindNode(n) is null))
            errors.Add($"--node '{n}': no such node in {r.Inventory} (nodes: {string.Join(", ", inv.Nodes.Select(x => x.Name))})");
        var nodes = r.Nodes.Count == 0 ? inv.Nodes.Select(n => n.Name).ToList() : r.Nodes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var options = new FleetOptions
        {
            Host = new HostRotationOptions { WireGuardDirectory = r.Transport.WireGuardDirectory, Systemd = r.Transport.Systemd, Vtysh = r.Transport.Vtysh },
            OverlaydConfig = r.OverlaydConfig,
            OverlaydPidFile = r.OverlaydPidFile,
        };
        errors.AddRange(options.Validate());
        var shell = shellOverride ?? (errors.Count == 0 ? RotateApplyCommand.BuildShell(r.Transport with { Inventory = r.Inventory }, inv, nodes.Where(n => inv.FindNode(n) is not null).ToList(), errors) : null);
        if (errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine($"error: {e}");
            return null;
        }
        return new Context(r, inv, nodes, shell!, options);
    }

    internal static async Task<IReadOnlyList<NodeResult>> ReadAndPlanAsync(Context c, CancellationToken ct) =>
        await Task.WhenAll(c.Nodes.Select(async n =>
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var running = await FleetNodeReader.ReadAsync(c.Shell, c.Options, c.Inventory, n, ct).ConfigureAwait(false);
                return new NodeResult(n, c.Shell.Describe(n), FleetPlanner.Plan(c.Inventory, n, running), null, sw.ElapsedMilliseconds);
            }
            catch (Exception e) when (e is NodeShellException or HostAgentException or ArgumentException)
            {
                return new NodeResult(n, c.Shell.Describe(n), null, e.Message, sw.ElapsedMilliseconds);
            }
        })).ConfigureAwait(false);

    internal static void Print(IReadOnlyList<NodeResult> results, bool json, TextWriter w)
    {
        if (json)
        {
            w.WriteLine(CliJson.Serialize(new PlanJson(
                Changes: results.Any(r => r.Plan?.HasChanges == true),
                Errors: results.Any(r => r.Error is not null || r.Plan?.Problems.Count > 0),
                Nodes: results.Select(ToJson)), CliJson.Indented));
            return;
        }
        foreach (var r in results) w.Write(Text(r));
        int changing = results.Count(r => r.Plan?.HasChanges == true), failed = results.Count(r => r.Error is not null || r.Plan?.Problems.Count > 0);
        w.WriteLine($"plan: {changing} node(s) to change, {results.Count - changing - failed} unchanged, {failed} with errors");
    }

    private static PlanNodeJson ToJson(NodeResult r) => new(
        r.Node,
        r.Via,
        r.ReadMs,
        r.Error,
        r.Plan?.HasChanges,
        r.Plan?.Problems,
        r.Plan is null ? null : new PlanKeyJson(r.Plan.Key, r.Plan.NodePublicKey),
        r.Plan?.WireGuard.Select(w => new PlanInterfaceJson(
            w.Kind,
            w.Interface,
            ListenPort: w.After?.ListenPort ?? w.Before?.ListenPort,
            ListenPortBefore: w.ListenPortChanged ? w.Before!.ListenPort : null,
            Address: w.After?.Address ?? w.Before?.Address,
            AddressBefore: w.AddressChanged ? w.Before!.Address : null,
            w.Peers.Select(p => new PlanPeerJson(p.Kind, p.PublicKey, Changed: p.What, p.Before, p.After)),
            FleetPlanner.WgSetCommands(w).Select(ShellWords.Join))),
        r.Plan is null ? null : new PlanFrrJson(
            r.Plan.Frr.Select(c => new PlanFrrChangeJson(c.Kind, c.Path, c.Line)),
            FrrDiff.Commands(r.Plan.Frr)),
        r.Plan is null ? null : new PlanOverlaydJson(r.Plan.OverlaydMissing, r.Plan.Overlayd));

    // What 'plan -o json' prints (docs/cli.md); property order is output order.
    internal sealed record PlanJson(bool Changes, bool Errors, IEnumerable<PlanNodeJson> Nodes);

    internal sealed record PlanNodeJson(
        string Node, string Via, long ReadMs, string? Error, bool? Changes, IReadOnlyList<string>? Problems, PlanKeyJson? Key,
        IEnumerable<PlanInterfaceJson>? Wireguard, PlanFrrJson? Frr, PlanOverlaydJson? Overlayd);

    internal sealed record PlanKeyJson(KeyStatus Status, string? NodePublicKey);

    internal sealed record PlanInterfaceJson(
        PlanChangeKind Kind, string Interface, int? ListenPort, int? ListenPortBefore, string? Address, string? AddressBefore,
        IEnumerable<PlanPeerJson> Peers, IEnumerable<string> Commands);

    internal sealed record PlanPeerJson(PlanChangeKind Kind, string PublicKey, IReadOnlyList<string> Changed, WgPeer? Before, WgPeer? After);

    internal sealed record PlanFrrJson(IEnumerable<PlanFrrChangeJson> Changes, IReadOnlyList<string> Commands);

    internal sealed record PlanFrrChangeJson(FrrChangeKind Kind, IReadOnlyList<string> Path, string Line);

    internal sealed record PlanOverlaydJson(bool Missing, IReadOnlyList<string> Diff);

    internal static string Text(NodeResult r)
    {
        var sb = new StringBuilder();
        if (r.Error is not null) return $"node {r.Node} ({r.Via}): ERROR {r.Error}\n";
        var p = r.Plan!;
        sb.Append($"node {r.Node} ({r.Via}): {(p.HasChanges ? "changes" : "no changes")}\n");
        foreach (var problem in p.Problems) sb.Append($"  PROBLEM  {problem}\n");
        if (p.Key == KeyStatus.Missing) sb.Append("  key      missing: apply generates one on the node and prints its public key for the inventory\n");
        if (p.Key == KeyStatus.Differs) sb.Append($"  key      the node's key is {p.NodePublicKey}\n");
        foreach (var w in p.WireGuard)
        {
            string sign = w.Kind switch { PlanChangeKind.Added => "+", PlanChangeKind.Removed => "-", _ => "~" };
            var i = w.After ?? w.Before!;
            sb.Append($"  wg     {sign} {w.Interface}  listen-port {(w.ListenPortChanged ? $"{w.Before!.ListenPort} -> " : "")}{i.ListenPort}"
                + $"  address {(w.AddressChanged ? $"{w.Before!.Address} -> " : "")}{i.Address ?? "?"}\n");
            foreach (var peer in w.Peers)
            {
                string ps = peer.Kind switch { PlanChangeKind.Added => "+", PlanChangeKind.Removed => "-", _ => "~" };
                var v = peer.After ?? peer.Before!;
                sb.Append($"           {ps} peer {peer.PublicKey}");
                if (peer.Kind == PlanChangeKind.Changed)
                {
                    foreach (var what in peer.What)
                        sb.Append(what switch
                        {
                            "allowed-ips" => $"  allowed-ips {string.Join(",", peer.Before!.AllowedIps)} -> {string.Join(",", peer.After!.AllowedIps)}",
                            "endpoint" => $"  endpoint {peer.Before!.Endpoint ?? "(none)"} -> {peer.After!.Endpoint}",
                            _ => $"  keepalive {peer.Before!.Keepalive} -> {peer.After!.Keepalive}",
                        });
                }
                else sb.Append($"  allowed-ips {string.Join(",", v.AllowedIps)}  endpoint {v.Endpoint ?? "(none)"}  keepalive {v.Keepalive}");
                sb.Append('\n');
            }
        }
        foreach (var c in p.Frr)
            sb.Append($"  frr    {(c.Kind == FrrChangeKind.Add ? "+" : "-")} {string.Concat(c.Path.Select(x => x + " / "))}{c.Line}{(c.IsStanza ? " (whole stanza)" : "")}\n");
        if (p.OverlaydMissing) sb.Append("  overlayd.yaml  missing: apply writes it\n");
        foreach (var l in p.Overlayd) sb.Append($"  overlayd.yaml  {l}\n");
        return sb.ToString();
    }
}
