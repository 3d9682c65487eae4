using Overlay.Core.Config;
using Overlay.Core.Health;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// One pass's judgement, made once from one <see cref="SignalSnapshot"/>: what the VIP decisions act on and what the
/// status publisher shows, so the two can never disagree.
/// </summary>
/// <param name="Interfaces">Every configured interface judged by its status policy (<see cref="HealthEvaluation.StatusPolicy"/>).</param>
/// <param name="Vips">Every configured VIP judged by its own policy.</param>
internal sealed record PassEvaluation(
    SignalSnapshot Signals,
    IReadOnlyDictionary<string, InterfaceVerdict> Interfaces,
    IReadOnlyDictionary<string, VipHealth> Vips);

/// <summary>The pure health evaluation of a pass: no I/O, no clock but the snapshot's time.</summary>
internal static class HealthEvaluation
{
    /// <param name="withoutLease">VIPs whose TUN lease is not held: unhealthy whatever their interfaces say.</param>
    public static PassEvaluation Evaluate(NodeConfig cfg, SignalSnapshot signals, IReadOnlySet<string> withoutLease)
    {
        // An interface is judged once per policy that looks at it; VIPs and status share the verdicts.
        var verdicts = new Dictionary<(string Interface, HealthPolicy Policy), InterfaceVerdict>();
        InterfaceVerdict? Judge(string name, HealthPolicy policy)
        {
            if (verdicts.TryGetValue((name, policy), out var known)) return known;
            if (cfg.FindInterface(name) is not { } iface || !signals.Interfaces.TryGetValue(name, out var o)) return null;
            return verdicts[(name, policy)] = HealthModel.EvaluateInterface(iface, policy, o, signals.Time);
        }

        var vips = new Dictionary<string, VipHealth>(StringComparer.Ordinal);
        foreach (var vip in cfg.Vips)
        {
            var policy = cfg.PolicyOf(vip);
            var own = new Dictionary<string, InterfaceVerdict>(StringComparer.Ordinal);
            foreach (var name in vip.Interfaces)
                if (Judge(name, policy) is { } v) own[name] = v;
            var health = HealthModel.EvaluateVip(vip, policy, own, signals.Routing);
            if (withoutLease.Contains(vip.Name))
                health = health with
                {
                    Healthy = false,
                    Reasons = [.. health.Reasons, new HealthReason(HealthReasonCode.LinkDown, vip.Lease, "TUN lease not held")],
                };
            vips[vip.Name] = health;
        }
        var interfaces = new Dictionary<string, InterfaceVerdict>(StringComparer.Ordinal);
        foreach (var iface in cfg.Interfaces)
            if (Judge(iface.Name, StatusPolicy(cfg, iface.Name)) is { } v) interfaces[iface.Name] = v;
        return new PassEvaluation(signals, interfaces, vips);
    }

    /// <summary>
    /// The policy an interface is shown (and its health events judged) under: that of the first VIP that uses it; one
    /// no VIP uses (a hub's tunnels) under the config's "default" policy when it defines one, else the built-in default.
    /// </summary>
    public static HealthPolicy StatusPolicy(NodeConfig cfg, string iface) =>
        cfg.Vips.FirstOrDefault(v => v.Interfaces.Contains(iface)) is { } v ? cfg.PolicyOf(v)
            : cfg.Policies.TryGetValue("default", out var configured) ? configured : HealthPolicy.Default("default");
}
