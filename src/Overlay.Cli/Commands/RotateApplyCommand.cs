using System.CommandLine;
using Overlay.Core.Inventory;
using Overlay.Core.Net;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl rotate apply INVENTORY NODE --new-public-key KEY [--local-node NAME]: would execute the make-before-break
/// rotation with <see cref="RotationExecutor"/>. A rotation changes the rotating node and every peer of it, and
/// overlayctl has no way yet to change or probe another machine, nor a host agent for this one; the command therefore
/// checks everything it can (inventory, key, plan, that it runs on NODE), then refuses and names exactly what is
/// missing and which nodes the rotation would touch. Nothing is changed. Exit codes: 2 bad input, 3 refused.
/// </summary>
internal static class RotateApplyCommand
{
    public const int BadInput = 2;
    public const int Refused = 3;

    public static Command Create()
    {
        var inventory = new Argument<string>("inventory") { Description = "Inventory YAML file" };
        var node = new Argument<string>("node") { Description = "The node whose WireGuard key is rotated (run on that node)" };
        var newKey = new Option<string?>("--new-public-key") { Description = "The new public key ('wg pubkey' of the new key file on the node); required" };
        var localNode = new Option<string?>("--local-node") { Description = "The inventory name of this machine (default: the host name)" };
        var apply = new Command("apply", "Execute the make-before-break rotation of a node (needs a transport to its peers; see docs/rotation.md)")
        {
            inventory, node, newKey, localNode,
        };
        apply.SetAction(parse => Apply(parse.GetRequiredValue(inventory), parse.GetRequiredValue(node), parse.GetValue(newKey),
            parse.GetValue(localNode) ?? Environment.MachineName, Console.Out, Console.Error));
        return apply;
    }

    internal static int Apply(string inventoryPath, string nodeName, string? newKey, string localNode, TextWriter stdout, TextWriter stderr)
    {
        var parsed = InventoryParser.Load(new DiskFiles(), inventoryPath);
        foreach (var d in parsed.Diagnostics) stderr.WriteLine(d.ToString());
        if (parsed.Inventory is not { } inv) return BadInput;
        if (newKey is null)
        {
            stderr.WriteLine("rotate apply: error: --new-public-key is required: generate the key on the node first "
                + "('(umask 077; wg genkey > KEYFILE.new)', then 'wg pubkey < KEYFILE.new'); the executor never runs a plan with a placeholder key");
            return BadInput;
        }
        if (!WireGuardKey.TryParse(newKey, out var key, out var keyError))
        {
            stderr.WriteLine($"--new-public-key: error: {keyError}");
            return BadInput;
        }
        RotationPlan plan;
        try
        {
            plan = RotationPlanner.Plan(inv, nodeName, new RotationOptions { NewPublicKey = key }).MakeBeforeBreak;
        }
        catch (RotationPlanException e)
        {
            stderr.WriteLine($"{inventoryPath}: error: {e.Message}");
            return BadInput;
        }

        if (inv.FindNode(localNode) is null)
        {
            stderr.WriteLine($"rotate apply: refused: this machine ('{localNode}') is not a node of {inventoryPath}; run on '{nodeName}' or pass --local-node NAME. Nothing was changed.");
            return Refused;
        }
        if (localNode != nodeName)
        {
            stderr.WriteLine($"rotate apply: refused: run it on '{nodeName}' (this machine is '{localNode}'). Nothing was changed.");
            return Refused;
        }

        var automated = plan.Phases.Where(p => !RotationExecutor.IsOperatorPhase(p)).ToList();
        var scope = automated.SelectMany(p => p.Changes.Select(c => (c.Node, Change: true)).Concat(p.WaitFor.Select(v => (v.Node, Change: false))))
            .GroupBy(x => x.Node)
            .Select(g => (Node: g.Key, Changes: g.Count(x => x.Change), Checks: g.Count(x => !x.Change)))
            .OrderBy(x => x.Node != nodeName).ThenBy(x => x.Node, StringComparer.Ordinal).ToList();
        var remote = scope.Where(s => s.Node != nodeName).ToList();

        stderr.WriteLine($"rotate apply: refused: nothing was changed. The make-before-break rotation of '{nodeName}' (phases "
            + $"{string.Join(", ", automated.Select(p => p.Number))}) touches {scope.Count} node(s):");
        foreach (var s in scope)
            stderr.WriteLine($"  {s.Node}{(s.Node == nodeName ? " (this machine)" : "")}: {s.Changes} change(s), {s.Checks} check(s)");
        stderr.WriteLine("Missing before overlayctl can execute it:");
        if (remote.Count > 0)
            stderr.WriteLine($"  - a transport to run changes and read WireGuard/FRR state on {string.Join(", ", remote.Select(r => $"'{r.Node}'"))} "
                + "(overlayctl only reaches the machine it runs on);");
        stderr.WriteLine("  - a host agent for this machine (wg-quick interfaces and vtysh configuration, the IRotationNodeAgent and IRotationProbe ports); "
            + "only the namespace lab implements them (Overlay.Lab.Rotation).");
        stderr.WriteLine($"Meanwhile: 'overlayctl rotate plan {inventoryPath} {nodeName} --new-public-key {newKey}' prints every step with its check and rollback; see docs/rotation.md.");
        stdout.Flush();
        return Refused;
    }

    private sealed class DiskFiles : IInventoryFileSource
    {
        public string? ReadAllText(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
    }
}
