using Overlay.Core.Config;
using Overlay.Core.Net;

namespace Overlay.Core.Anycast;

/// <summary>What start-up does with one configured VIP, given the leases the previous process handed over.</summary>
public enum AdoptionAction
{
    /// <summary>No lease was handed over: the usual start (decide health, withdraw a stale route, rise).</summary>
    Fresh,
    /// <summary>Lease handed over and FRR has the route through it: start Advertised, write nothing, re-evaluate at once.</summary>
    AdoptAdvertised,
    /// <summary>Lease handed over but FRR has no route through it (the previous process had withdrawn it): keep the lease, start as usual.</summary>
    AdoptWithdrawn,
}

public sealed record AdoptionPlan(IReadOnlyDictionary<string, AdoptionAction> Vips, IReadOnlyList<string> Release);

/// <summary>
/// Pure planning of a hand-over (overlayd restart with the lease fds passed on): which VIPs are adopted as
/// advertised, which start afresh, and which handed-over leases no VIP of the new configuration uses (they are
/// released: their routes withdrawn, their fds closed).
/// </summary>
public static class LeaseAdoption
{
    /// <param name="inherited">Lease (TUN) names whose fds were handed over.</param>
    /// <param name="frrRoutes">FRR's VIP routes (prefix, nexthop interface); null when FRR could not be read: nothing is adopted as advertised then.</param>
    public static AdoptionPlan Plan(IReadOnlyList<VipConfig> vips, IEnumerable<string> inherited, IReadOnlyList<(IpPrefix Prefix, string Lease)>? frrRoutes)
    {
        var names = new HashSet<string>(inherited, StringComparer.Ordinal);
        var actions = new Dictionary<string, AdoptionAction>(StringComparer.Ordinal);
        foreach (var vip in vips)
        {
            if (!names.Contains(vip.Lease)) { actions[vip.Name] = AdoptionAction.Fresh; continue; }
            bool routed = frrRoutes?.Any(r => r.Prefix == vip.Prefix && r.Lease == vip.Lease) ?? false;
            actions[vip.Name] = routed ? AdoptionAction.AdoptAdvertised : AdoptionAction.AdoptWithdrawn;
        }
        var used = new HashSet<string>(vips.Select(v => v.Lease), StringComparer.Ordinal);
        var release = names.Where(n => !used.Contains(n)).Order(StringComparer.Ordinal).ToList();
        return new AdoptionPlan(actions, release);
    }
}
