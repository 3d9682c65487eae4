using System.Diagnostics;
using Overlay.Core.Fleet;
using Overlay.Core.Render;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Fleet;

/// <summary>One step apply took on a node (printed as it happens).</summary>
public sealed record FleetStep(long AtMs, string Node, string Phase, string What, bool Ok, string? Detail = null)
{
    public override string ToString() => $"{AtMs,7} ms  {Phase,-6} [{Node}] {What}{(Ok ? "" : " FAILED")}{(Detail is null ? "" : ": " + Detail)}";
}

public enum FleetApplyOutcome
{
    /// <summary>Every planned change applied and the re-read nodes match the inventory.</summary>
    Applied,
    /// <summary>Nothing to change.</summary>
    NothingToDo,
    /// <summary>Keys were generated or differ: the inventory must record them first; only key files were written.</summary>
    KeysToRecord,
    /// <summary>A step failed; apply stopped there (see <see cref="FleetApplyResult.ChangedNodes"/>).</summary>
    Failed,
}

public sealed record FleetApplyResult(FleetApplyOutcome Outcome, IReadOnlyList<string> ChangedNodes, IReadOnlyDictionary<string, string> GeneratedKeys,
    string? Failure, IReadOnlyList<NodePlan> Remaining);

/// <summary>
/// Applies node plans make-before-break across the fleet, through <see cref="INodeShell"/> only:
/// 1. keys: a node without a key file generates one on the node ('wg genkey'); only its public key comes back.
/// 2. make, node by node: new WireGuard interfaces (wg-quick file, 0600, then up); changed ones by 'wg set' on the changed
///    peers only (their files rewritten too, for the next boot); FRR's additions and settings through vtysh; overlayd.yaml
///    written beside and renamed, then SIGHUP. A new tunnel carries nothing before OSPF is Full on it, which needs both ends.
/// 3. break: every tunnel to be removed is costed out on both ends (OSPF cost 65535), apply waits until the routes over it
///    stop moving, then removes the link, its file and its FRR stanza.
/// 4. verify: every changed node is read again and planned again; anything left is reported.
/// 5. save: on every node whose FRR changed, 'write memory', so a restart of FRR comes back with what apply set (only after a clean verify).
/// The first failing step stops everything; nodes already changed are named; nothing that carries traffic has been
/// removed before step 3, so a failure in 1 or 2 leaves every old path in place.
/// </summary>
public sealed class FleetApplier(INodeShell shell, FleetOptions options, Action<FleetStep>? onStep = null)
{
    private readonly HostRotationAgent _agent = new(shell, options.Host);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly SortedSet<string> _changed = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _frrChanged = new(StringComparer.Ordinal);

    public async Task<FleetApplyResult> ApplyAsync(Inventory inventory, IReadOnlyList<NodePlan> plans, CancellationToken ct)
    {
        var todo = plans.Where(p => p.HasChanges).ToList();
        if (todo.Count == 0) return new FleetApplyResult(FleetApplyOutcome.NothingToDo, [], new Dictionary<string, string>(), null, []);
        var generated = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? step = null;
        try
        {
            // 1. keys
            foreach (var p in todo.Where(p => p.Key == KeyStatus.Missing))
            {
                step = "generate key";
                string pub = await GenerateKeyAsync(inventory, p.Node, ct).ConfigureAwait(false);
                generated[p.Node] = pub;
                Step(p.Node, "key", $"generated a key on the node; its public key is {pub}");
                _changed.Add(p.Node);
            }
            var mismatched = generated.Where(g => g.Value != inventory.GetNode(g.Key).PublicKey.ToBase64()).ToList();
            if (mismatched.Count > 0)
                return new FleetApplyResult(FleetApplyOutcome.KeysToRecord, [.. _changed], generated,
                    "record these public keys in the inventory, then run apply again: " + string.Join(", ", mismatched.Select(m => $"{m.Key}: {m.Value}")), []);

            // 2. make
            foreach (var p in todo)
            {
                var files = Renderer.Render(inventory, p.Node);
                foreach (var w in p.WireGuard.Where(w => w.Kind == PlanChangeKind.Added))
                {
                    step = $"bring up {w.Interface}";
                    await _agent.WriteInterfaceAsync(p.Node, w.Interface, WgQuickFile(files, p.Node, w.Interface), ct).ConfigureAwait(false);
                    _changed.Add(p.Node);
                    await _agent.BringUpAsync(p.Node, w.Interface, ct).ConfigureAwait(false);
                    Step(p.Node, "make", step);
                }
                foreach (var w in p.WireGuard.Where(w => w.Kind == PlanChangeKind.Changed))
                {
                    step = $"update {w.Interface}";
                    await _agent.WriteInterfaceAsync(p.Node, w.Interface, WgQuickFile(files, p.Node, w.Interface), ct).ConfigureAwait(false);
                    _changed.Add(p.Node);
                    var commands = FleetPlanner.WgSetCommands(w).Select(ShellWords.Join).ToList();
                    if (w.AddressChanged)
                    {
                        string dev = ShellWords.Quote(w.Interface);
                        commands.Insert(0, $"ip address add {ShellWords.Quote(w.After!.Address!)} dev {dev}"
                            + (w.Before!.Address is { } old ? $" && ip address del {ShellWords.Quote(old)} dev {dev}" : ""));
                    }
                    await _agent.RunCommandsAsync(p.Node, commands, ct).ConfigureAwait(false);
                    Step(p.Node, "make", $"{step}: {string.Join("; ", w.Peers.Select(Describe))}");
                }
                var make = FrrDiff.Commands(p.FrrMake);
                if (make.Count > 0)
                {
                    step = "FRR";
                    await _agent.ApplyFrrAsync(p.Node, make, ct).ConfigureAwait(false);
                    _changed.Add(p.Node);
                    _frrChanged.Add(p.Node);
                    Step(p.Node, "make", $"FRR: {p.FrrMake.Count} change(s) in {make.Count} vtysh line(s), no restart");
                }
                if (p.Overlayd.Count > 0 || p.OverlaydMissing)
                {
                    step = "overlayd.yaml";
                    string reload = await WriteOverlaydAsync(p.Node, files.Single(f => f.RelativePath == $"{p.Node}/overlayd.yaml").Content, ct).ConfigureAwait(false);
                    _changed.Add(p.Node);
                    Step(p.Node, "make", $"overlayd.yaml written ({reload})");
                }
            }

            // 3. break: cost out everywhere first, then wait, then remove.
            var breaking = todo.Where(p => p.RemovedInterfaces.Any()).ToList();
            foreach (var p in breaking)
            {
                step = "cost out";
                var lines = p.RemovedInterfaces.SelectMany(i => new[] { $"interface {i}", $"ip ospf cost {FleetPlanner.CostOut}", "exit" }).ToList();
                await _agent.ApplyFrrAsync(p.Node, lines, ct).ConfigureAwait(false);
                _changed.Add(p.Node);
                _frrChanged.Add(p.Node);
                Step(p.Node, "break", $"costed out {string.Join(", ", p.RemovedInterfaces)} (OSPF cost {FleetPlanner.CostOut})");
            }
            foreach (var p in breaking)
                foreach (var i in p.RemovedInterfaces)
                {
                    step = $"drain {i}";
                    string routes = await WaitForRoutesToSettleAsync(p.Node, i, ct).ConfigureAwait(false);
                    Step(p.Node, "break", $"routes over {i} settled" + (routes.Length > 0 ? $" (still over it, no other path: {routes})" : " (none left)"));
                }
            foreach (var p in breaking)
            {
                foreach (var i in p.RemovedInterfaces)
                {
                    step = $"remove {i}";
                    await _agent.TearDownAsync(p.Node, i, ct).ConfigureAwait(false);
                    await _agent.DeleteInterfaceAsync(p.Node, i, ct).ConfigureAwait(false);
                    Step(p.Node, "break", $"removed {i}");
                }
                var brk = FrrDiff.Commands(p.FrrBreak);
                if (brk.Count > 0)
                {
                    step = "FRR stanzas of removed tunnels";
                    await RetryAsync(() => _agent.ApplyFrrAsync(p.Node, brk, ct), ct).ConfigureAwait(false);
                    Step(p.Node, "break", $"FRR: removed the stanzas of {string.Join(", ", p.RemovedInterfaces)}");
                }
            }
        }
        catch (Exception e) when (e is HostAgentException or NodeShellException)
        {
            Step(e.Message.Split(':')[0], "error", step ?? "apply", ok: false, e.Message);
            return new FleetApplyResult(FleetApplyOutcome.Failed, [.. _changed], generated, $"{step}: {e.Message}", []);
        }

        // 4. verify
        var remaining = new List<NodePlan>();
        foreach (var node in todo.Select(p => p.Node))
        {
            var again = FleetPlanner.Plan(inventory, node, await FleetNodeReader.ReadAsync(shell, options, inventory, node, ct).ConfigureAwait(false));
            if (again.HasChanges) remaining.Add(again);
        }
        Step("*", "verify", remaining.Count == 0 ? "every changed node matches the inventory" : $"{remaining.Count} node(s) still differ: {string.Join(", ", remaining.Select(r => r.Node))}");

        // 5. persist: vtysh changed FRR's running configuration only; a restart of FRR reads its configuration file(s)
        // again. Saved only once verified, so a failed apply never makes a half-applied state the one FRR boots with.
        if (remaining.Count == 0)
            foreach (var node in _frrChanged)
            {
                try
                {
                    string saved = await _agent.SaveFrrAsync(node, ct).ConfigureAwait(false);
                    Step(node, "save", $"FRR configuration saved (write memory): {saved}");
                }
                catch (Exception e) when (e is HostAgentException or NodeShellException)
                {
                    Step(node, "save", "write memory", ok: false, e.Message);
                    return new FleetApplyResult(FleetApplyOutcome.Failed, [.. _changed], generated,
                        $"saving FRR's configuration: {e.Message} (FRR runs the applied configuration, but a restart of FRR on {node} would lose it: run 'vtysh -c \"write memory\"' there)", []);
                }
            }
        return new FleetApplyResult(remaining.Count == 0 ? FleetApplyOutcome.Applied : FleetApplyOutcome.Failed, [.. _changed], generated,
            remaining.Count == 0 ? null : "after apply, these nodes still differ from the inventory: " + string.Join(", ", remaining.Select(r => r.Node)), remaining);
    }

    private static string Describe(WgPeerChange p) => p.Kind switch
    {
        PlanChangeKind.Added => $"peer {p.PublicKey} added",
        PlanChangeKind.Removed => $"peer {p.PublicKey} removed",
        _ => $"peer {p.PublicKey} {string.Join(", ", p.What)}",
    };

    private static IReadOnlyList<string> WgQuickFile(IReadOnlyList<RenderedFile> files, string node, string iface) =>
        files.Single(f => f.RelativePath == $"{node}/wireguard/{iface}.conf").Content.TrimEnd('\n').Split('\n');

    private async Task<string> GenerateKeyAsync(Inventory inventory, string node, CancellationToken ct)
    {
        // The path is data (stdin); the private key is written by wg on the node and never printed: only 'wg pubkey' is.
        const string script = "set -e; IFS= read -r key; umask 077; mkdir -p \"$(dirname \"$key\")\"; "
            + "if ! [ -s \"$key\" ]; then wg genkey > \"$key.tmp\"; mv -f \"$key.tmp\" \"$key\"; fi; wg pubkey < \"$key\"";
        var r = await shell.RunAsync(node, script, inventory.GetNode(node).KeyFile + "\n", options.Host.CommandTimeout, ct).ConfigureAwait(false);
        string pub = r.StdOut.Trim();
        if (!r.Succeeded || !Core.Net.WireGuardKey.TryParse(pub, out _, out _))
            throw new HostAgentException($"{node}: generating the key failed (exit {r.ExitCode}): {HostRotationAgent.Tail(r)}");
        return pub;
    }

    private async Task<string> WriteOverlaydAsync(string node, string content, CancellationToken ct)
    {
        string path = ShellWords.Quote(options.OverlaydPath(node));
        string tmp = ShellWords.Quote(options.OverlaydPath(node) + ".tmp");
        // Written beside and renamed: overlayd never reads half a file. Then SIGHUP; overlayd keeps its last good config
        // if the new one is rejected (docs/overlayd-config.md), so a bad file never takes a node down.
        string reload = options.PidFile(node) is { } pid
            ? $"if [ -s {ShellWords.Quote(pid)} ] && kill -HUP \"$(cat {ShellWords.Quote(pid)})\" 2>/dev/null; then echo 'reloaded (SIGHUP)'; else echo 'overlayd not running: file only'; fi"
            : "if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet overlayd 2>/dev/null; then systemctl reload overlayd && echo 'reloaded (systemctl reload overlayd)'; else echo 'overlayd not running: file only'; fi";
        string script = $"set -e; mkdir -p \"$(dirname {path})\"; cat > {tmp}; chmod 644 {tmp}; mv -f {tmp} {path}; {reload}";
        var r = await shell.RunAsync(node, script, content, options.Host.CommandTimeout, ct).ConfigureAwait(false);
        if (!r.Succeeded) throw new HostAgentException($"{node}: writing overlayd.yaml failed (exit {r.ExitCode}): {HostRotationAgent.Tail(r)}");
        return r.StdOut.Trim();
    }

    /// <summary>
    /// Polls the node's routes out of a costed-out interface until they stop changing for two seconds (OSPF moved every
    /// route that has another path); what is left has no other path. Returns those routes.
    /// </summary>
    private async Task<string> WaitForRoutesToSettleAsync(string node, string iface, CancellationToken ct)
    {
        string script = $"ip -o route show dev {ShellWords.Quote(iface)} proto ospf 2>/dev/null | awk '{{print $1}}' | sort | tr '\\n' ' '";
        var deadline = Stopwatch.StartNew();
        string last = "\0";
        var stableSince = Stopwatch.StartNew();
        while (true)
        {
            var r = await shell.RunAsync(node, script, null, options.Host.CommandTimeout, ct).ConfigureAwait(false);
            string now = r.StdOut.Trim();
            if (now != last) { last = now; stableSince.Restart(); }
            if (now.Length == 0 || stableSince.Elapsed >= TimeSpan.FromSeconds(2)) return now;
            if (deadline.Elapsed > options.DrainTimeout) return now;
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
        }
    }

    /// <summary>'no interface X' is refused until zebra has seen the link go: a few tries, 200 ms apart.</summary>
    private static async Task RetryAsync(Func<Task> action, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { await action().ConfigureAwait(false); return; }
            catch (HostAgentException) when (attempt < 10) { await Task.Delay(200, ct).ConfigureAwait(false); }
        }
    }

    private void Step(string node, string phase, string what, bool ok = true, string? detail = null) =>
        onStep?.Invoke(new FleetStep(_clock.ElapsedMilliseconds, node, phase, what, ok, detail));
}
