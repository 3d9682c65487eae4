using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Overlay.Cli.Output;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Cli.Commands;

/// <summary>What 'rotate apply' was asked to do, as parsed from the command line.</summary>
internal sealed record RotateApplyRequest(string Inventory, string Node, string? NewPublicKey)
{
    public string? Via { get; init; }
    public string? SshUser { get; init; }
    public IReadOnlyList<string> SshHosts { get; init; } = [];
    public IReadOnlyList<string> SshOptions { get; init; } = [];
    public string? LocalNode { get; init; }
    public string WireGuardDirectory { get; init; } = HostRotationOptions.DefaultWireGuardDirectory;
    public bool Systemd { get; init; }
    public string Vtysh { get; init; } = "vtysh";
    public bool DryRun { get; init; }
    public string PhaseTimeout { get; init; } = "60s";
    public bool Json { get; init; }
}

/// <summary>
/// overlayctl rotate apply INVENTORY NODE --new-public-key KEY: executes the make-before-break rotation of NODE from
/// the operator's machine, driving every node it touches through a shell (SSH by default, a command prefix with --via,
/// sh for --local-node). Pre-flight first: every node reached and able to do its part, the new key file matching the
/// key, or nothing is changed. Then <see cref="RotationExecutor"/> runs phases 1-4, each verified before the next, and
/// rolls back on failure; every step is printed as it happens.
/// Exit codes: 0 done (or dry run passed), 2 bad input, 3 refused by the pre-flight, 4 rolled back, 5 rollback incomplete.
/// </summary>
internal static class RotateApplyCommand
{
    public const int Ok = 0;
    public const int BadInput = 2;
    public const int Refused = 3;
    public const int RolledBack = 4;
    public const int RollbackIncomplete = 5;

    public static Command Create()
    {
        var inventory = new Argument<string>("inventory") { Description = "Inventory YAML file" };
        var node = new Argument<string>("node") { Description = "The node whose WireGuard key is rotated" };
        var newKey = new Option<string?>("--new-public-key") { Description = "The new public key: 'wg pubkey < KEYFILE.new' on the node (required)" };
        var via = new Option<string?>("--via") { Description = "Reach nodes with this command prefix instead of ssh; {node} is the node's name (e.g. 'ip netns exec lab-{node}')" };
        var sshUser = new Option<string?>("--ssh-user") { Description = "ssh login user (default: ssh's own)" };
        var sshHost = new Option<string[]>("--ssh-host") { Description = "NODE=HOST: connect to HOST for NODE (default: the node's endpoint host); repeatable", Arity = ArgumentArity.ZeroOrMore };
        var sshOption = new Option<string[]>("--ssh-option") { Description = "Passed to ssh as '-o OPTION' (e.g. Port=2222); repeatable", Arity = ArgumentArity.ZeroOrMore };
        var localNode = new Option<string?>("--local-node") { Description = "This machine's inventory name: its steps run here with sh, not over ssh" };
        var wgDir = new Option<string>("--wg-dir") { Description = "Folder of the wg-quick files on the nodes; {node} is the node's name", DefaultValueFactory = _ => HostRotationOptions.DefaultWireGuardDirectory };
        var systemd = new Option<bool>("--systemd") { Description = "Start/stop interfaces with systemd's wg-quick@IFACE units" };
        var vtysh = new Option<string>("--vtysh") { Description = "vtysh command on the nodes; {node} is the node's name (e.g. 'vtysh -N {node}')", DefaultValueFactory = _ => "vtysh" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Pre-flight only: reach every node, check tools and keys, print the phases; change nothing" };
        var phaseTimeout = new Option<string>("--phase-timeout") { Description = "How long a phase may take to verify before it is rolled back (e.g. 60s, 2m, 500ms)", DefaultValueFactory = _ => "60s" };
        var output = new Option<string>("--output", "-o") { Description = "text or json (one JSON object per line)", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var apply = new Command("apply", "Execute the make-before-break rotation of a node on the real nodes (over ssh, or --via); see docs/rotation.md")
        {
            inventory, node, newKey, via, sshUser, sshHost, sshOption, localNode, wgDir, systemd, vtysh, dryRun, phaseTimeout, output,
        };
        apply.SetAction((parse, ct) => ApplyAsync(new RotateApplyRequest(parse.GetRequiredValue(inventory), parse.GetRequiredValue(node), parse.GetValue(newKey))
        {
            Via = parse.GetValue(via),
            SshUser = parse.GetValue(sshUser),
            SshHosts = parse.GetValue(sshHost) ?? [],
            SshOptions = parse.GetValue(sshOption) ?? [],
            LocalNode = parse.GetValue(localNode),
            WireGuardDirectory = parse.GetValue(wgDir) ?? HostRotationOptions.DefaultWireGuardDirectory,
            Systemd = parse.GetValue(systemd),
            Vtysh = parse.GetValue(vtysh) ?? "vtysh",
            DryRun = parse.GetValue(dryRun),
            PhaseTimeout = parse.GetValue(phaseTimeout) ?? "60s",
            Json = parse.GetValue(output) == "json",
        }, Console.Out, Console.Error, null, ct));
        return apply;
    }

    /// <param name="shellOverride">Tests: the shell to reach nodes with instead of the one the request describes.</param>
    internal static async Task<int> ApplyAsync(RotateApplyRequest r, TextWriter stdout, TextWriter stderr, INodeShell? shellOverride, CancellationToken ct)
    {
        var parsed = InventoryParser.Load(new DiskFiles(), r.Inventory);
        foreach (var d in parsed.Diagnostics) stderr.WriteLine(d.ToString());
        if (parsed.Inventory is not { } inv) return BadInput;
        if (r.NewPublicKey is null)
        {
            stderr.WriteLine("rotate apply: error: --new-public-key is required: generate the key on the node first "
                + "('(umask 077; wg genkey > KEYFILE.new)', then 'wg pubkey < KEYFILE.new'); the executor never runs a plan with a placeholder key");
            return BadInput;
        }
        if (!WireGuardKey.TryParse(r.NewPublicKey, out var key, out var keyError))
        {
            stderr.WriteLine($"--new-public-key: error: {keyError}");
            return BadInput;
        }
        if (key.IsLowOrder)
        {
            stderr.WriteLine($"--new-public-key: error: the key is {WireGuardKey.LowOrderMessage}");
            return BadInput;
        }
        RotationPlan plan;
        try
        {
            plan = RotationPlanner.Plan(inv, r.Node, new RotationOptions { NewPublicKey = key }).MakeBeforeBreak;
        }
        catch (RotationPlanException e)
        {
            stderr.WriteLine($"{r.Inventory}: error: {e.Message}");
            return BadInput;
        }

        var involved = RotationPreflight.NodesInvolved(plan);
        var errors = new List<string>();
        var options = new HostRotationOptions { WireGuardDirectory = r.WireGuardDirectory, Systemd = r.Systemd, Vtysh = r.Vtysh };
        errors.AddRange(options.Validate());
        if (!TryParseDuration(r.PhaseTimeout, out var phaseTimeout))
            errors.Add($"--phase-timeout '{r.PhaseTimeout}' is not a duration: use e.g. 60s, 2m, 500ms");
        var shell = shellOverride ?? BuildShell(r, inv, involved, errors);
        if (errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine($"rotate apply: error: {e}");
            return BadInput;
        }

        var output = new Output(r.Json, stdout);
        var automated = plan.Phases.Where(p => !RotationExecutor.IsOperatorPhase(p)).Select(p => p.Number).ToList();
        output.Text($"rotate apply: make-before-break rotation of '{plan.Node}' to {plan.NewPublicKey}: phases {string.Join(", ", automated)} on {involved.Count} node(s)");

        // Pre-flight: nothing is changed unless every node can do its part.
        var clock = Stopwatch.StartNew();
        var preflight = await RotationPreflight.CheckAsync(shell!, options, inv, plan, ct).ConfigureAwait(false);
        foreach (var p in preflight)
        {
            output.Json(new PreflightLine("preflight", p.Node, p.Via, p.Reachable, p.Ready, p.Problems));
            output.Text($"{clock.ElapsedMilliseconds,7} ms  pre-flight  [{p.Node}] {(p.Ready ? "ok" : p.Reachable ? "NOT READY" : "UNREACHABLE")} ({p.Via})"
                + string.Concat(p.Problems.Select(x => $"\n                      - {x}")));
        }
        var notReady = preflight.Where(p => !p.Ready).ToList();
        if (notReady.Count > 0)
        {
            var unreachable = notReady.Where(p => !p.Reachable).Select(p => p.Node).ToList();
            var unready = notReady.Where(p => p.Reachable).Select(p => p.Node).ToList();
            string why = string.Join("; ", new[]
            {
                unreachable.Count > 0 ? $"unreachable: {string.Join(", ", unreachable)}" : null,
                unready.Count > 0 ? $"not ready: {string.Join(", ", unready)}" : null,
            }.Where(x => x is not null));
            output.Json(new RotateRefusedLine("refused", unreachable, NotReady: unready));
            stderr.WriteLine($"rotate apply: refused: nothing was changed. Pre-flight failed ({why}); fix the problems listed above and run it again.");
            return Refused;
        }
        if (r.DryRun)
        {
            foreach (var phase in plan.Phases.Where(p => automated.Contains(p.Number)))
            {
                output.Json(new PhaseLine("phase", phase.Number, phase.Title, phase.Changes.Count, phase.WaitFor.Count));
                output.Text($"  phase {phase.Number}: {phase.Title}: {phase.Changes.Count} change(s), {phase.WaitFor.Count} verification(s)");
            }
            output.Text($"dry run: pre-flight passed on every node; nothing was changed ('overlayctl rotate plan {r.Inventory} {r.Node} --new-public-key {plan.NewPublicKey}' shows every step).");
            output.Json(new DryRunLine("result", "dryRun"));
            return Ok;
        }

        var executor = new RotationExecutor(new HostRotationAgent(shell!, options), new HostRotationProbe(shell!, inv, plan, DateTimeOffset.UtcNow, options),
            TimeProvider.System, new RotationExecutionOptions
            {
                PhaseTimeout = phaseTimeout,
                PollInterval = TimeSpan.FromMilliseconds(200),
                OnEvent = e =>
                {
                    output.Json(new EventLine("event", e.AtMs, e.Kind, e.Phase, e.Node, e.Target, e.Detail));
                    output.Text(e.ToString());
                },
            });
        var result = await executor.ExecuteAsync(plan, ct).ConfigureAwait(false);
        output.Json(new RotateResultLine("result", result.Outcome, result.PhasesCompleted, result.PhasesLeftToOperator, result.Failure));
        switch (result.Outcome)
        {
            case RotationOutcome.Completed:
                output.Text($"rotate apply: phases {string.Join(", ", result.PhasesCompleted)} done and verified. Left to you (phase {string.Join(", ", result.PhasesLeftToOperator)}): "
                    + $"record the new publicKey of '{plan.Node}' in the inventory and retire the old key file; see 'rotate plan'.");
                return Ok;
            case RotationOutcome.RolledBack:
                stderr.WriteLine($"rotate apply: rolled back: {result.Failure}. Every executed phase was undone; the old tunnels carry the traffic.");
                return RolledBack;
            default:
                var failed = result.Events.Where(e => e.Kind == RotationEventKind.RollbackChangeFailed).Select(e => $"phase {e.Phase} [{e.Node}] {e.Target}: {e.Detail}");
                stderr.WriteLine($"rotate apply: ROLLBACK INCOMPLETE after: {result.Failure}. These rollback steps failed and need an operator: {string.Join("; ", failed)}");
                return RollbackIncomplete;
        }
    }

    /// <summary>The transport the options describe: the template for every node, or ssh; sh for --local-node.</summary>
    internal static INodeShell? BuildShell(RotateApplyRequest r, Inventory inv, IReadOnlyList<string> involved, List<string> errors)
    {
        int before = errors.Count;
        if (r.LocalNode is not null && inv.FindNode(r.LocalNode) is null)
            errors.Add($"--local-node '{r.LocalNode}' is not a node of {r.Inventory}");
        INodeShell remote;
        if (r.Via is not null)
        {
            if (r.SshUser is not null || r.SshHosts.Count > 0 || r.SshOptions.Count > 0)
                errors.Add("--via replaces ssh: drop --ssh-user/--ssh-host/--ssh-option, or --via");
            try { remote = new TemplateNodeShell(r.Via); }
            catch (ArgumentException e) { errors.Add($"--via: {e.Message}"); return null; }
        }
        else
        {
            var hosts = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in r.SshHosts)
            {
                int eq = pair.IndexOf('=');
                if (eq <= 0 || eq == pair.Length - 1) { errors.Add($"--ssh-host '{pair}': use NODE=HOST"); continue; }
                string n = pair[..eq], h = pair[(eq + 1)..];
                if (inv.FindNode(n) is null) errors.Add($"--ssh-host '{pair}': no node '{n}' in {r.Inventory}");
                else if (!ShellWords.IsValidHost(h)) errors.Add($"--ssh-host '{pair}': '{h}' is not a host name or address");
                else hosts[n] = h;
            }
            foreach (var n in involved.Where(n => n != r.LocalNode && !hosts.ContainsKey(n)))
            {
                var ep = inv.GetNode(n).Endpoint;
                if (ep is null) errors.Add($"node '{n}' has no endpoint in {r.Inventory} to ssh to: pass --ssh-host {n}=HOST");
                else if (!ShellWords.IsValidHost(ep.Host)) errors.Add($"node '{n}': endpoint host '{ep.Host}' cannot be given to ssh; pass --ssh-host {n}=HOST");
                else hosts[n] = ep.Host;
            }
            if (r.SshUser is not null && !ShellWords.IsValidUser(r.SshUser)) { errors.Add($"--ssh-user '{r.SshUser}' is not a user name"); return null; }
            foreach (var o in r.SshOptions.Where(o => o.StartsWith('-') || o.Length == 0))
                errors.Add($"--ssh-option '{o}': give the option itself (KEY=VALUE), it is passed as '-o {o}'");
            remote = new SshNodeShell(n => hosts.TryGetValue(n, out var h) ? h : throw new NodeShellException($"no ssh host for node '{n}'"), r.SshUser, r.SshOptions);
        }
        if (errors.Count > before) return null;
        return r.LocalNode is null ? remote
            : new NodeShellRouter(remote, new Dictionary<string, INodeShell> { [r.LocalNode] = new LocalNodeShell() });
    }

    /// <summary>"60s", "2m", "500ms", "1h" or plain seconds.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string number, double scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1) : text.EndsWith('m') ? (text[..^1], 60) : text.EndsWith('h') ? (text[..^1], 3600) : (text, 1);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || n <= 0 || double.IsInfinity(n)) return false;
        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    /// <summary>Text lines for people, or one JSON object per line for machines; never both.</summary>
    private sealed class Output(bool json, TextWriter writer)
    {
        private readonly Lock _lock = new();

        public void Text(string line)
        {
            if (json) return;
            lock (_lock) { writer.WriteLine(line); writer.Flush(); }
        }

        public void Json<T>(T o)
        {
            if (!json) return;
            lock (_lock) { writer.WriteLine(CliJson.Serialize(o, CliJson.Line)); writer.Flush(); }
        }
    }

    // The lines 'rotate apply -o json' prints (docs/cli.md); property order is output order.
    internal sealed record PreflightLine(string Type, string Node, string Via, bool Reachable, bool Ready, IReadOnlyList<string> Problems);

    internal sealed record RotateRefusedLine(string Type, IReadOnlyList<string> Unreachable, IReadOnlyList<string> NotReady);

    internal sealed record PhaseLine(string Type, int Number, string Title, int Changes, int Verifications);

    internal sealed record DryRunLine(string Type, string Outcome);

    internal sealed record EventLine(string Type, long AtMs, RotationEventKind Kind, int Phase, string Node, string Target, string Detail);

    internal sealed record RotateResultLine(string Type, RotationOutcome Outcome, IReadOnlyList<int> PhasesCompleted, IReadOnlyList<int> PhasesLeftToOperator, string? Failure);
}
