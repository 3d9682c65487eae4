using System.Text;

namespace Overlay.Core.Rotation;

/// <summary>The human form of a rotation plan, as 'overlayctl rotate plan' prints it.</summary>
public static class RotationPlanText
{
    public static string Format(RotationPlans plans)
    {
        var sb = new StringBuilder();
        Format(sb, plans.MakeBeforeBreak);
        sb.Append('\n');
        sb.Append("==== For comparison: the in-place rotation (NOT recommended) ====\n\n");
        Format(sb, plans.InPlace);
        return sb.ToString();
    }

    public static void Format(StringBuilder sb, RotationPlan plan)
    {
        string strategy = plan.Strategy == RotationStrategy.MakeBeforeBreak ? "make-before-break" : "in-place";
        sb.Append($"Key rotation for '{plan.Node}' ({strategy}), new public key {plan.NewPublicKey}\n");
        if (plan.Tunnels.Count > 0)
        {
            sb.Append("Tunnels:\n");
            foreach (var t in plan.Tunnels)
                sb.Append($"  {t.Peer}: {t.OldInterface} -> {t.NewInterface} (port {t.NewListenPort}), peer {t.PeerOldInterface} -> {t.PeerNewInterface} (port {t.PeerNewListenPort}), link {t.NewLink}, cost {t.Cost}\n");
        }
        if (plan.LossWindow.Length > 0) sb.Append($"{plan.LossWindow}\n");
        foreach (var note in plan.Notes) sb.Append($"Note: {note}\n");
        foreach (var phase in plan.Phases)
        {
            sb.Append($"\nPhase {phase.Number}: {phase.Title}\n");
            sb.Append($"  Why: {phase.Why}\n");
            Changes(sb, "Changes", phase.Changes);
            if (phase.WaitFor.Count > 0)
            {
                sb.Append("  Wait for:\n");
                foreach (var v in phase.WaitFor)
                    sb.Append($"    [{v.Node}] {v.Kind} {v.Target}: {v.Condition}  ($ {v.Check})\n");
            }
            sb.Append($"  Rollback: {phase.RollbackNote}\n");
            Changes(sb, null, phase.Rollback);
        }
    }

    private static void Changes(StringBuilder sb, string? title, IReadOnlyList<NodeChange> changes)
    {
        if (changes.Count == 0) return;
        if (title is not null) sb.Append($"  {title}:\n");
        foreach (var c in changes)
        {
            sb.Append($"    [{c.Node}] {c.Kind} {c.Target}\n");
            foreach (var line in c.Lines) sb.Append($"      | {line}\n");
        }
    }
}
