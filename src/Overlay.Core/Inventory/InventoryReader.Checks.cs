using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Yaml;
using Overlay.Core.Net;
using static Overlay.Core.Diagnostics.NearMiss;

namespace Overlay.Core.Inventories;

// Cross-field and cross-node checks, and the tunnel plan.
internal sealed partial class InventoryReader
{
    private Dictionary<string, Node> CheckNodes(List<Node> nodes)
    {
        var byName = new Dictionary<string, Node>(StringComparer.Ordinal);
        var byId = new Dictionary<int, Node>();
        var byShort = new Dictionary<string, Node>(StringComparer.Ordinal);
        var byV4 = new Dictionary<IPAddress, Node>();
        var byV6 = new Dictionary<IPAddress, Node>();
        var byEndpoint = new Dictionary<UnderlayEndpoint, Node>();
        foreach (var n in nodes)
        {
            if (!byName.TryAdd(n.Name, n))
            {
                Error(InventoryCodes.DuplicateName, n.Location, $"node name '{n.Name}' is used twice", $"the first '{n.Name}' is at line {byName[n.Name].Location.Line}; node names must be unique");
                continue;
            }
            if (!byId.TryAdd(n.Id, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has id {n.Id}, already used by '{byId[n.Id].Name}'", "ids must be unique and should never be reused: addresses and ports derive from them");
            if (!byShort.TryAdd(n.Short, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has short name '{n.Short}', already used by '{byShort[n.Short].Name}'", "give one of them a different 'short'");
            if (n.OverlayV4 is { } a4 && !byV4.TryAdd(a4, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has overlay address {a4}, already used by '{byV4[a4].Name}'", "overlay addresses are router ids and must be unique");
            if (n.Endpoint is { } ep && !byEndpoint.TryAdd(ep, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has endpoint {ep}, already used by '{byEndpoint[ep].Name}'", "two nodes behind one address need different ports");
            if (n.OverlayV6 is { } a6 && !byV6.TryAdd(a6, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has overlay address {a6}, already used by '{byV6[a6].Name}'", "overlay addresses must be unique");
        }
        return byName;
    }

    private void CheckVips(List<Vip> vips, Dictionary<string, Node> byName, Dictionary<string, HealthPolicy> policies)
    {
        var names = new Dictionary<string, Vip>(StringComparer.Ordinal);
        var prefixes = new Dictionary<IpPrefix, Vip>();
        foreach (var (vipName, policy, item) in _vipRefs)
        {
            if (item.Field("members") is { Kind: YKind.Sequence } mn)
                foreach (var x in mn.Items.Where(x => x.Kind == YKind.Scalar && !x.IsNull && !byName.ContainsKey(x.Value) && !IsDeclared(x.Value)))
                    Error(InventoryCodes.UnknownNode, x.At, $"VIP '{vipName}' names member '{x.Value}', which is not a node", Suggest(x.Value, byName.Keys));
            if (!policies.ContainsKey(policy))
                Error(InventoryCodes.UnknownPolicy, item.Field("policy")?.At ?? item.At, $"VIP '{vipName}' uses policy '{policy}', which is not defined", Suggest(policy, policies.Keys) ?? "define it under 'policies:'");
        }
        foreach (var vip in vips)
        {
            if (!names.TryAdd(vip.Name, vip))
                Error(InventoryCodes.DuplicateName, vip.Location, $"VIP name '{vip.Name}' is used twice", $"the first '{vip.Name}' is at line {names[vip.Name].Location.Line}");
            if (!prefixes.TryAdd(vip.Prefix, vip))
                Error(InventoryCodes.DuplicateValue, vip.Location, $"VIP '{vip.Name}' has prefix {vip.Prefix}, already used by VIP '{prefixes[vip.Prefix].Name}'", "one anycast address is one VIP; list every holder under its members");
        }
    }

    private List<Tunnel> CheckTopologyAndPlanTunnels(Topology topology, List<Node> nodes, Dictionary<string, Node> byName, InventoryDefaults defaults)
    {
        var pairs = new List<(Node A, Node B, TunnelKind Kind, int Cost, SourceLocation At)>();
        var unique = nodes.Where(n => byName[n.Name] == n).ToList();

        if (topology.Kind == TopologyKind.FullMesh)
        {
            for (int i = 0; i < unique.Count; i++)
                for (int j = i + 1; j < unique.Count; j++)
                    pairs.Add((unique[i], unique[j], TunnelKind.Mesh, defaults.OspfCost, Later(unique[i].Location, unique[j].Location)));
        }
        else if (topology.Kind == TopologyKind.None)
        {
            foreach (var n in unique.Where(n => n.Role == NodeRole.Hub))
                Error(InventoryCodes.TopologyInvalid, n.Location, $"node '{n.Name}' has role hub in a topology without tunnels", "use type: hubAndSpoke, or change its role");
        }
        else
        {
            Node? Resolve(HubRef? hub, string which)
            {
                if (hub is null) return null;
                if (!byName.TryGetValue(hub.Node, out var n))
                {
                    if (IsDeclared(hub.Node)) return null;
                    Error(InventoryCodes.UnknownNode, hub.Location, $"{which} hub '{hub.Node}' is not a node", Suggest(hub.Node, byName.Keys));
                    return null;
                }
                if (n.Role != NodeRole.Hub)
                    Error(InventoryCodes.TopologyInvalid, hub.Location, $"{which} hub '{hub.Node}' has role {n.Role.ToString().ToLowerInvariant()}", $"set role: hub on node '{hub.Node}'");
                return n;
            }
            var primary = Resolve(topology.Primary, "primary");
            var secondary = Resolve(topology.Secondary, "secondary");
            if (primary is not null && secondary == primary)
            {
                Error(InventoryCodes.TopologyInvalid, topology.Secondary!.Location, $"'{primary.Name}' is both the primary and the secondary hub", "name a different node as secondary, or remove the secondary");
                secondary = null;
            }
            // Only when the hubs themselves resolved: otherwise the hub reference is the error to fix.
            bool hubsResolved = primary is not null && (topology.Secondary is null || secondary is not null);
            foreach (var n in unique.Where(n => hubsResolved && n.Role == NodeRole.Hub && n != primary && n != secondary))
                Error(InventoryCodes.TopologyInvalid, n.Location, $"node '{n.Name}' has role hub but is neither the primary nor the secondary hub", "make it the primary or secondary hub in 'topology', or change its role to spoke");
            var hubs = new[] { (primary, topology.Primary), (secondary, topology.Secondary) };
            foreach (var (hub, reference) in hubs)
            {
                if (hub is null) continue;
                foreach (var n in unique.Where(n => n.Role != NodeRole.Hub))
                    pairs.Add((hub, n, TunnelKind.HubSpoke, reference!.Cost, n.Location));
            }
            if (primary is not null && secondary is not null)
                pairs.Add((primary, secondary, TunnelKind.HubHub, topology.HubLinkCost, topology.Secondary!.Location));

            var seen = new Dictionary<(string, string), Shortcut>();
            foreach (var sc in topology.Shortcuts)
            {
                bool ok = true;
                foreach (var end in new[] { sc.A, sc.B }.Distinct())
                    if (!byName.ContainsKey(end))
                    {
                        ok = false;
                        if (IsDeclared(end)) continue;
                        Error(InventoryCodes.UnknownNode, sc.Location, $"shortcut names '{end}', which is not a node", Suggest(end, byName.Keys));
                    }
                if (sc.A == sc.B)
                {
                    Error(InventoryCodes.ShortcutSelf, sc.Location, $"shortcut from '{sc.A}' to itself", "a shortcut joins two different spokes");
                    continue;
                }
                if (!ok) continue;
                var (a, b) = (byName[sc.A], byName[sc.B]);
                if (a.Role == NodeRole.Hub || b.Role == NodeRole.Hub)
                {
                    string hub = a.Role == NodeRole.Hub ? a.Name : b.Name;
                    Error(InventoryCodes.TopologyInvalid, sc.Location, $"shortcut between '{sc.A}' and '{sc.B}' touches hub '{hub}', which already has a tunnel to every spoke", "shortcuts join two spokes; remove this one");
                    continue;
                }
                var key = string.CompareOrdinal(sc.A, sc.B) < 0 ? (sc.A, sc.B) : (sc.B, sc.A);
                if (seen.TryGetValue(key, out var first))
                {
                    bool reversed = first.A != sc.A;
                    Error(InventoryCodes.ShortcutCycle, sc.Location,
                        reversed
                            ? $"shortcut {sc.A} -> {sc.B} closes a cycle with {first.A} -> {first.B} at line {first.Location.Line}"
                            : $"shortcut {sc.A} -> {sc.B} is listed twice",
                        $"one tunnel joins both directions; keep only the shortcut at line {first.Location.Line}");
                    continue;
                }
                seen[key] = sc;
                pairs.Add((a, b, TunnelKind.Shortcut, sc.Cost, sc.Location));
            }
        }

        var tunnels = new List<Tunnel>();
        UInt128 capacity = UInt128.One << (31 - defaults.LinkPool.Length);
        var tooBig = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (x, y, kind, cost, at) in pairs)
        {
            var (a, b) = x.Id < y.Id ? (x, y) : (y, x);
            if (a.Id == b.Id) continue; // duplicate ids are reported already
            if (a.Endpoint is null && b.Endpoint is null)
                Error(InventoryCodes.Unreachable, at, $"neither '{a.Name}' nor '{b.Name}' has an endpoint, so no side can start their tunnel",
                    kind == TunnelKind.HubSpoke || kind == TunnelKind.HubHub ? $"give hub '{(x.Role == NodeRole.Hub ? x.Name : y.Name)}' an endpoint" : "give one of them an endpoint, or let them talk through a hub");
            foreach (var (self, peer) in new[] { (a, b), (b, a) })
                if (Math.Max(self.ListenPort, self.Endpoint?.Port ?? 0) + peer.Id > 65535 && tooBig.Add(self.Name + "/port"))
                    Error(InventoryCodes.OutOfRange, self.Location, $"node '{self.Name}' would use port {Math.Max(self.ListenPort, self.Endpoint?.Port ?? 0) + peer.Id} toward '{peer.Name}' (base port + peer id {peer.Id})", "lower listenPort or the endpoint port: each tunnel uses the base port + the peer's id");
            ulong index = LinkIndex(a.Id, b.Id);
            if (index >= capacity)
            {
                // A linkPool that could not be read is replaced by the default; judging node ids against it would be a false error.
                if (!_defaultsBroken && tooBig.Add(b.Name))
                    Error(InventoryCodes.PoolExhausted, b.Location, $"node id {b.Id} ('{b.Name}') is too large for link pool {defaults.LinkPool}, which holds {capacity} /31 links", "use a larger defaults.linkPool or smaller node ids");
                continue;
            }
            UInt128 bits = defaults.LinkPool.Bits + 2 * (UInt128)index;
            tunnels.Add(new Tunnel(a.Name, b.Name, kind, cost, IpPrefix.Create(IpPrefix.ToAddress(bits, false), 31),
                IpPrefix.ToAddress(bits, false), IpPrefix.ToAddress(bits + 1, false), a.BehindNat || b.BehindNat));
        }
        tunnels.Sort((p, q) =>
        {
            int c = byName[p.A].Id.CompareTo(byName[q.A].Id);
            return c != 0 ? c : byName[p.B].Id.CompareTo(byName[q.B].Id);
        });
        return tunnels;
    }

    /// <summary>
    /// A VIP's health is decided by its holder's tunnels (overlayd.yaml lists them all), so the policy
    /// must be satisfiable there; overlayd would refuse the rendered file otherwise.
    /// </summary>
    private void CheckVipHealth(List<Vip> vips, Dictionary<string, HealthPolicy> policies, List<Tunnel> tunnels, Dictionary<string, Node> byName, InventoryDefaults defaults)
    {
        foreach (var vip in vips)
        {
            if (!policies.TryGetValue(vip.Policy, out var policy) || _brokenPolicies.Contains(vip.Policy)) continue;
            if (vip.WireGuard is { } w)
            {
                // The VIP is served on its anycast interface: overlayd judges that one interface by its health peer.
                foreach (var h in w.Health.Where(h => vip.Members.Contains(h.Member)))
                {
                    if (policy.MinHealthyInterfaces > 1)
                        Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' uses policy '{policy.Name}', which needs {policy.MinHealthyInterfaces} healthy interfaces, but its members serve it on one anycast interface", "use minHealthyInterfaces: 1 for an anycast WireGuard VIP");
                    else if (policy.RxStallAfter <= 2 * h.Keepalive)
                        Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' uses policy '{policy.Name}' (rxStallAfter {DurationText.Format(policy.RxStallAfter)}), but health peer '{h.Name}' keeps alive only every {DurationText.Format(h.Keepalive)}", "make rxStallAfter longer than two keepalive intervals: one lost keepalive must not withdraw a VIP");
                }
                continue;
            }
            foreach (var member in vip.Members.Where(byName.ContainsKey))
            {
                var own = tunnels.Where(t => t.Involves(member)).ToList();
                if (own.Count == 0)
                    Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' member '{member}' has no tunnels, so nothing can decide its health", "a VIP holder needs at least one tunnel");
                else if (policy.MinHealthyInterfaces > own.Count)
                    Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' uses policy '{policy.Name}', which needs {policy.MinHealthyInterfaces} healthy interfaces, but member '{member}' has {own.Count}", "lower minHealthyInterfaces or give the member more tunnels");
                else if (own.Where(t => t.Keepalive).Select(t => Nat.KeepaliveAdvice.For(byName[t.A], byName[t.B], defaults)).DefaultIfEmpty(TimeSpan.Zero).Max() is var keepalive
                         && keepalive > TimeSpan.Zero && policy.RxStallAfter <= 2 * keepalive)
                    Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' uses policy '{policy.Name}' (rxStallAfter {DurationText.Format(policy.RxStallAfter)}), but member '{member}' has NAT tunnels sending a keepalive only every {DurationText.Format(keepalive)}", "make rxStallAfter longer than two keepalive intervals: one lost keepalive must not withdraw a VIP");
            }
        }
    }

    /// <summary>
    /// The /31 of the tunnel between ids a &lt; b: pairs are numbered (1,2)=0, (1,3)=1, (2,3)=2, (1,4)=3 …
    /// so a new node with a new, larger id never moves an existing tunnel's addresses.
    /// </summary>
    internal static ulong LinkIndex(int a, int b) => (ulong)(b - 1) * (ulong)(b - 2) / 2 + (ulong)(a - 1);

    private static SourceLocation Later(SourceLocation x, SourceLocation y) => y.Line > x.Line || (y.Line == x.Line && y.Column > x.Column) ? y : x;

}
