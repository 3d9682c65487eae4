using System.CommandLine;
using Overlay.Cli.Output;
using Overlay.Remote.Fleet;
using Overlay.Remote.Shell;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl apply INVENTORY [--node N…] [--yes]: plans (as 'plan'), then applies make-before-break node by node
/// (<see cref="FleetApplier"/>), then reads every changed node again.
/// Exit codes: 0 applied and verified (or nothing to change), 1 errors (nothing applied when found while planning;
/// otherwise apply stopped and the changed nodes are named), 2 not confirmed (plan printed, nothing changed),
/// 3 keys generated that the inventory must record first (only key files were written).
/// </summary>
internal static class ApplyCommand
{
    public const int Ok = 0;
    public const int Errors = 1;
    public const int NotConfirmed = 2;
    public const int KeysToRecord = 3;

    public static Command Create()
    {
        var o = new PlanCommand.Options();
        var yes = new Option<bool>("--yes", "-y") { Description = "Apply without asking (required when stdin is not a terminal)" };
        var command = new Command("apply", "Apply the inventory to the nodes: WireGuard peer by peer (syncconf semantics), FRR incrementally, overlayd.yaml + SIGHUP; make-before-break");
        foreach (var s in o.All) PlanCommand.Add(command, s);
        command.Options.Add(yes);
        command.SetAction((parse, ct) => RunAsync(o.Read(parse) with { Yes = parse.GetValue(yes) }, Console.Out, Console.Error, Console.In, null, ct));
        return command;
    }

    internal static async Task<int> RunAsync(FleetRequest r, TextWriter stdout, TextWriter stderr, TextReader stdin, INodeShell? shellOverride, CancellationToken ct)
    {
        var ctx = PlanCommand.Prepare(r, stderr, shellOverride);
        if (ctx is null) return Errors;
        var plans = await PlanCommand.ReadAndPlanAsync(ctx, ct).ConfigureAwait(false);
        if (!r.Json) PlanCommand.Print(plans, json: false, stdout);
        var bad = plans.Where(p => p.Error is not null || p.Plan!.Problems.Count > 0).ToList();
        if (bad.Count > 0)
        {
            if (r.Json) Line(stdout, new RefusedLine("refused", bad.Select(b => new RefusedNode(b.Node, b.Error, b.Plan?.Problems))));
            stderr.WriteLine($"apply: refused, nothing was changed: {string.Join("; ", bad.Select(b => $"{b.Node}: {b.Error ?? string.Join(" / ", b.Plan!.Problems)}"))}");
            return Errors;
        }
        if (!plans.Any(p => p.Plan!.HasChanges))
        {
            if (r.Json) Line(stdout, new NothingToDoLine("result", "nothingToDo", []));
            else stdout.WriteLine("apply: nothing to change");
            return Ok;
        }
        if (!r.Yes)
        {
            if (Console.IsInputRedirected || r.Json)
            {
                stderr.WriteLine("apply: not confirmed: review the plan above and run again with --yes; nothing was changed");
                return NotConfirmed;
            }
            stdout.Write("apply these changes? [y/N] ");
            if (stdin.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
            {
                stderr.WriteLine("apply: not confirmed; nothing was changed");
                return NotConfirmed;
            }
        }

        var applier = new FleetApplier(ctx.Shell, ctx.Options, step =>
        {
            if (r.Json) Line(stdout, new StepLine("step", step.AtMs, step.Node, step.Phase, step.What, step.Ok, step.Detail));
            else { stdout.WriteLine(step.ToString()); stdout.Flush(); }
        });
        var result = await applier.ApplyAsync(ctx.Inventory, [.. plans.Select(p => p.Plan!)], ct).ConfigureAwait(false);
        if (r.Json)
            Line(stdout, new ResultLine("result", result.Outcome, result.ChangedNodes, result.GeneratedKeys, result.Failure));
        switch (result.Outcome)
        {
            case FleetApplyOutcome.Applied:
                if (!r.Json) stdout.WriteLine($"apply: done; changed {string.Join(", ", result.ChangedNodes)}; every changed node was read again and matches the inventory");
                return Ok;
            case FleetApplyOutcome.KeysToRecord:
                stderr.WriteLine($"apply: stopped before any tunnel change: {result.Failure}. Only key files were written (on {string.Join(", ", result.ChangedNodes)}).");
                return KeysToRecord;
            default:
                foreach (var left in result.Remaining) stderr.Write(PlanCommand.Text(new PlanCommand.NodeResult(left.Node, ctx.Shell.Describe(left.Node), left, null, 0)));
                stderr.WriteLine($"apply: FAILED at {result.Failure}. Nodes changed so far: {(result.ChangedNodes.Count == 0 ? "none" : string.Join(", ", result.ChangedNodes))}. "
                    + "Tunnels in use were not removed before the failure point, so every node keeps its old paths; fix the cause and run 'overlayctl plan' then 'apply' again (apply is idempotent).");
                return Errors;
        }
    }

    private static void Line<T>(TextWriter w, T o)
    {
        w.WriteLine(CliJson.Serialize(o, CliJson.Line));
        w.Flush();
    }

    // The lines 'apply -o json' prints (docs/cli.md); property order is output order.
    internal sealed record RefusedLine(string Type, IEnumerable<RefusedNode> Nodes);

    internal sealed record RefusedNode(string Node, string? Error, IReadOnlyList<string>? Problems);

    internal sealed record NothingToDoLine(string Type, string Outcome, IReadOnlyList<string> ChangedNodes);

    internal sealed record StepLine(string Type, long AtMs, string Node, string Phase, string What, bool Ok, string? Detail);

    internal sealed record ResultLine(string Type, FleetApplyOutcome Outcome, IReadOnlyList<string> ChangedNodes, IReadOnlyDictionary<string, string> GeneratedKeys, string? Failure);
}
