using Overlay.Core.Config;

namespace Overlay.Daemon.Anycast;

/// <summary>
/// How fresh each of the VIP loop's reads must be: the one place that says so (docs/overlayd-config.md, "How often
/// each signal is read"). Pure: <see cref="SignalReader"/> asks it, tests pin it.
/// </summary>
internal static class ReadFreshness
{
    /// <summary>
    /// How long one link table dump is reused before link events are watched (start-up; a failed watch): passes close
    /// together, e.g. at a 50 ms fastInterval, share one dump. Link events make it stale at once.
    /// </summary>
    public static readonly TimeSpan LinkDumpMaxAge = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// While link events are watched, a dump stays right until the next link event (the monitor turns lost
    /// notifications into a resync, which is an event too): it is read again after one, and this often to heal a
    /// notification the kernel never sent. A dump a pass was ~10 % of an idle overlayd's CPU at 200 interfaces.
    /// </summary>
    public static readonly TimeSpan LinkDumpMaxAgeWatched = TimeSpan.FromSeconds(30);

    /// <summary>Kernel routes are also reconciled this often without an event (a missed netlink message).</summary>
    public static readonly TimeSpan RouteReconcileInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often FRR's VIP routes are compared with what was applied. A restarted staticd comes back with only
    /// its own file's configuration; one small CONFIG Get a second re-applies within the 2 s target.
    /// </summary>
    public static readonly TimeSpan FrrVerifyInterval = TimeSpan.FromSeconds(1);

    /// <summary>OSPF/BGP for status and metrics when no policy gates on them.</summary>
    public static readonly TimeSpan RoutingPollInterval = TimeSpan.FromSeconds(5);

    /// <summary>The longest a WireGuard read is reused: status and metrics show counters at most this old.</summary>
    public static readonly TimeSpan WireGuardReadMaxAge = TimeSpan.FromSeconds(5);

    /// <summary>
    /// OSPF/BGP come from vty commands that run on the daemons' main loops: read them every pass only when a policy
    /// gates on them, otherwise (for status and metrics) at most every <see cref="RoutingPollInterval"/>.
    /// </summary>
    public static bool RoutingDue(NodeConfig cfg, bool haveRead, TimeSpan age) =>
        cfg.Policies.Values.Any(p => p.Require.Any) || !haveRead || age >= RoutingPollInterval;

    /// <summary>
    /// WireGuard's counters feed the slow signals: handshake age (judged against minutes) and rx progress (against
    /// tens of seconds). Reading every interface's device on every pass is a UAPI round trip each, which at a few
    /// hundred interfaces is most of the daemon's idle CPU. The fast signals come from elsewhere (link state from
    /// netlink events, BFD from bfdd). So an interface is read again when its last read is older than a twelfth of
    /// the shortest such threshold of the policies that use it (at least their interval, at most
    /// <see cref="WireGuardReadMaxAge"/>), after a link event on it (<see cref="SignalReader"/>), and on every pass
    /// while a VIP it gates is pending a decision, so that a decision is always confirmed on fresh counters.
    /// Interfaces no VIP uses are absent: they get <see cref="WireGuardReadMaxAge"/>.
    /// </summary>
    public static Dictionary<string, TimeSpan> WireGuardReadAges(NodeConfig cfg, IEnumerable<(VipConfig Vip, bool Pending)> vips)
    {
        var ages = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (vip, pending) in vips)
        {
            var policy = cfg.PolicyOf(vip);
            foreach (var name in vip.Interfaces)
            {
                if (cfg.FindInterface(name) is not { } iface) continue;
                var slowest = iface.ExpectsRxProgress ? Min(policy.RxStallAfter, policy.HandshakeMaxAge) : policy.HandshakeMaxAge;
                var age = pending ? TimeSpan.Zero : Min(WireGuardReadMaxAge, slowest / 12 < policy.Interval ? policy.Interval : slowest / 12);
                ages[name] = ages.TryGetValue(name, out var other) ? Min(age, other) : age;
            }
        }
        return ages;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
