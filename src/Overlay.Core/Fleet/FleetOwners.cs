using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Core.Render;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Fleet;

/// <summary>What a prefix is in the inventory: an anycast VIP (its members originate it) or a node's announced subnet.</summary>
public enum OwnedKind
{
    Vip,
    Subnet,
}

/// <summary>A VIP or announced subnet and the nodes the inventory says originate it.</summary>
public sealed record IntendedPrefix(IpPrefix Prefix, OwnedKind Kind, string Name, IReadOnlyList<string> Origins);

/// <summary>How an LSA in a node's OSPF database carries a prefix: a stub link of a router-LSA (an OSPF network) or an AS-external-LSA (redistributed).</summary>
public enum LsaKind
{
    Stub,
    External,
}

/// <summary>One prefix in an OSPF database and the router id that advertises it.</summary>
public sealed record LsaOrigin(IpPrefix Prefix, IPAddress AdvertisingRouter, LsaKind Kind);

/// <summary>One VIP as the node's overlayd reports it (GET /v1/vips): its state machine's state and the reason.</summary>
public sealed record OverlaydVip(string Name, string Prefix, string State, bool LeaseHeld, string Reason)
{
    /// <summary>overlayd holds the VIP's lease and means it to be announced (Advertised, or still advertised while PendingWithdraw).</summary>
    public bool Advertising => LeaseHeld && State is "Advertised" or "PendingWithdraw";
}

/// <summary>What a node's overlayd said: its VIPs, or why it could not be asked (not running, no socket, no curl).</summary>
public sealed record OverlaydView(bool Answering, string? Problem, IReadOnlyList<OverlaydVip> Vips)
{
    public static OverlaydView NotAnswering(string problem) => new(false, problem, []);
}

/// <summary>
/// What one node's FRR and overlayd show: its OSPF database (every router's stub networks and externals, the same in
/// the whole area), the routes zebra selected for the inventory's prefixes, what bgpd advertises to each upstream, and
/// overlayd's VIPs. <see cref="Problems"/> names the parts that could not be read (the rest is still used).
/// </summary>
public sealed record NodeRouting(
    string Node,
    IReadOnlyList<LsaOrigin> Lsdb,
    IReadOnlyDictionary<IpPrefix, RibEntry> Rib,
    IReadOnlyDictionary<string, IReadOnlyList<IpPrefix>> AdvertisedToUpstream,
    OverlaydView Overlayd,
    IReadOnlyList<string> Problems);

/// <summary>One node's read: its routing, or the error that stopped the read (unreachable, vtysh failing).</summary>
public sealed record NodeOwnershipRead(string Node, NodeRouting? Routing, string? Error);

/// <summary>A node (or a router id the inventory does not know) that originates the prefix, and how it was seen.</summary>
public sealed record Originator(string Node, bool Known, bool Intended, IReadOnlyList<string> How);

/// <summary>
/// Where <see cref="Observer"/> sends traffic for the prefix: the origins it prefers (several under ECMP; empty when it
/// has no route or the origin cannot be told from its next hop), the protocol of its route and the neighbours it goes via.
/// </summary>
public sealed record Preference(string Observer, IReadOnlyList<string> Origins, string? Protocol, IReadOnlyList<string> Via);

public enum OwnerFindingKind
{
    /// <summary>A node (or unknown router) originates a prefix the inventory does not give it.</summary>
    UnexpectedOrigin,
    /// <summary>No node originates a VIP.</summary>
    AdvertisedNowhere,
    /// <summary>A subnet's owner does not originate it.</summary>
    OwnerNotOriginating,
    /// <summary>overlayd and FRR disagree on a node (overlayd advertises and FRR does not originate, or the other way round).</summary>
    OverlaydFrrMismatch,
    /// <summary>An observer prefers an origin the inventory does not give the prefix.</summary>
    PrefersUnexpected,
    /// <summary>A VIP member does not originate the VIP while another does (overlayd's reason given): normal operation, shown as a note.</summary>
    MemberNotOriginating,
    /// <summary>A VIP member's overlayd could not be asked: shown as a note (FRR is what counts).</summary>
    OverlaydNotAnswering,
}

/// <summary>A difference from the inventory (<see cref="IsDifference"/>) or a note that explains the picture.</summary>
public sealed record OwnerFinding(OwnerFindingKind Kind, string? Node, string Text)
{
    public bool IsDifference => Kind is not (OwnerFindingKind.MemberNotOriginating or OwnerFindingKind.OverlaydNotAnswering);
}

public sealed record OwnerRow(
    IpPrefix Prefix, OwnedKind Kind, string Name, IReadOnlyList<string> Intended, IReadOnlyList<Originator> Originators,
    IReadOnlyList<Preference> Preferences, IReadOnlyList<OwnerFinding> Findings)
{
    public bool AsIntended => !Findings.Any(f => f.IsDifference);
}

/// <summary>The fleet's answer: one row per VIP and subnet, and the nodes that could not be read.</summary>
public sealed record OwnersReport(IReadOnlyList<OwnerRow> Rows, IReadOnlyList<NodeOwnershipRead> Unreadable)
{
    public bool HasDifferences => Rows.Any(r => !r.AsIntended);
}

/// <summary>
/// 'overlayctl owners': joins what every node's FRR and overlayd show with what the inventory says, per VIP and
/// announced subnet. Who originates a prefix comes from the OSPF databases (every router's router-LSA stub networks and
/// AS-external-LSAs, mapped to nodes by router id = overlay IPv4 address, as render sets it), from what bgpd advertises
/// to the upstreams, and, for IPv6 (OSPFv2 does not carry it), from a node's own static/connected route. Which origin a
/// node prefers comes from the route its zebra selected: a local route is itself; otherwise its next hops' interfaces
/// are mapped to tunnel peers (render's interface names), and a peer that originates the prefix is the origin.
/// Pure: no I/O; the reader in Overlay.Remote fills <see cref="NodeOwnershipRead"/>.
/// </summary>
public static class FleetOwners
{
    /// <summary>Every VIP (members) and announced subnet (its node), sorted by prefix.</summary>
    public static IReadOnlyList<IntendedPrefix> Intended(Inventory inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var list = new List<IntendedPrefix>();
        foreach (var v in inventory.Vips)
            list.Add(new IntendedPrefix(v.Prefix, OwnedKind.Vip, v.Name, [.. v.Members.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]));
        foreach (var g in inventory.Nodes.SelectMany(n => n.Subnets.Select(s => (s.Prefix, n.Name))).GroupBy(x => x.Prefix))
            list.Add(new IntendedPrefix(g.Key, OwnedKind.Subnet, string.Join(",", g.Select(x => x.Name).Distinct().Order(StringComparer.Ordinal)),
                [.. g.Select(x => x.Name).Distinct().Order(StringComparer.Ordinal)]));
        return [.. list.OrderBy(p => p.Prefix).ThenBy(p => p.Kind)];
    }

    /// <summary>
    /// Parses an operator's PREFIX argument: a prefix ("10.21.0.0/24") or an address (as its host prefix). Null and an
    /// error when it is neither.
    /// </summary>
    public static IpPrefix? ParseFilter(string text, out string? error)
    {
        error = null;
        if (IPAddress.TryParse(text, out var a) && !text.Contains('/', StringComparison.Ordinal)) return IpPrefix.Host(a);
        if (IpPrefix.TryParse(text, strict: false, out var p, out var e)) return p;
        error = $"'{text}' is neither an address nor a prefix ({e})";
        return null;
    }

    public static OwnersReport Join(Inventory inventory, IReadOnlyList<NodeOwnershipRead> reads, IpPrefix? filter = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(reads);
        var routers = new Dictionary<IPAddress, string>();
        foreach (var n in inventory.Nodes)
            if (n.OverlayV4 is { } v4) routers.TryAdd(v4, n.Name);
        var ok = reads.Where(r => r.Routing is not null).Select(r => r.Routing!).ToList();
        var rows = new List<OwnerRow>();
        foreach (var p in Intended(inventory))
        {
            if (filter is { } f && !f.Overlaps(p.Prefix)) continue;
            rows.Add(Row(inventory, p, ok, routers));
        }
        return new OwnersReport(rows, [.. reads.Where(r => r.Routing is null)]);
    }

    private static OwnerRow Row(Inventory inventory, IntendedPrefix p, List<NodeRouting> nodes, Dictionary<IPAddress, string> routers)
    {
        // Originators, in a stable order, each with every way it was seen (deduplicated across observers).
        var how = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var known = new Dictionary<string, bool>(StringComparer.Ordinal);
        void Add(string node, bool isKnown, string way)
        {
            if (!how.TryGetValue(node, out var set)) how[node] = set = new SortedSet<string>(StringComparer.Ordinal);
            set.Add(way);
            known[node] = isKnown;
        }
        foreach (var n in nodes)
        {
            foreach (var lsa in n.Lsdb.Where(l => l.Prefix == p.Prefix))
            {
                bool isKnown = routers.TryGetValue(lsa.AdvertisingRouter, out var name);
                Add(isKnown ? name! : $"router {lsa.AdvertisingRouter}", isKnown, lsa.Kind == LsaKind.Stub ? "ospf network" : "ospf external");
            }
            foreach (var (upstream, prefixes) in n.AdvertisedToUpstream)
                if (prefixes.Contains(p.Prefix)) Add(n.Node, true, $"bgp to {upstream}");
            // OSPFv2 carries no IPv6: an IPv6 VIP is where it is held (then bgpd, if any, shows it going upstream).
            if (p.Prefix.IsIPv6 && n.Rib.TryGetValue(p.Prefix, out var r) && r.IsLocal) Add(n.Node, true, $"local {r.Protocol} route");
        }
        var intended = new HashSet<string>(p.Origins, StringComparer.Ordinal);
        var originators = how.Select(kv => new Originator(kv.Key, known[kv.Key], intended.Contains(kv.Key), [.. kv.Value])).ToList();
        var originating = originators.Select(o => o.Node).ToHashSet(StringComparer.Ordinal);
        string what = p.Kind == OwnedKind.Vip ? $"VIP {p.Name} ({p.Prefix})" : $"subnet {p.Prefix}";
        string wanted = string.Join(", ", p.Origins);
        var findings = new List<OwnerFinding>();

        foreach (var o in originators.Where(o => !o.Intended))
            findings.Add(new OwnerFinding(OwnerFindingKind.UnexpectedOrigin, o.Known ? o.Node : null,
                $"{o.Node} originates {what} ({string.Join(", ", o.How)}), but the inventory gives it to {wanted}"
                + (o.Known ? "" : " (no node of the inventory has this router id)")));
        var byNode = nodes.ToDictionary(n => n.Node, StringComparer.Ordinal);
        if (p.Kind == OwnedKind.Vip)
        {
            if (!p.Origins.Any(originating.Contains))
                findings.Add(new OwnerFinding(OwnerFindingKind.AdvertisedNowhere, null,
                    $"{what} is advertised by none of its members ({wanted})" + MemberReasons(p, byNode)));
            else
                foreach (var m in p.Origins.Where(m => !originating.Contains(m) && byNode.ContainsKey(m)))
                    findings.Add(new OwnerFinding(OwnerFindingKind.MemberNotOriginating, m, $"member {m} does not originate it{OverlaydReason(byNode[m], p)}"));
            foreach (var m in p.Origins.Where(byNode.ContainsKey))
            {
                var ov = byNode[m].Overlayd;
                if (!ov.Answering)
                {
                    findings.Add(new OwnerFinding(OwnerFindingKind.OverlaydNotAnswering, m, $"{m}: overlayd not answering ({ov.Problem})"));
                    continue;
                }
                var vip = ov.Vips.FirstOrDefault(v => v.Name == p.Name);
                bool frr = originating.Contains(m);
                if (vip is null)
                    findings.Add(new OwnerFinding(OwnerFindingKind.OverlaydFrrMismatch, m, $"{m}: overlayd does not manage VIP {p.Name} (its overlayd.yaml differs from the inventory: run 'overlayctl plan')"));
                else if (vip.Advertising && !frr)
                    findings.Add(new OwnerFinding(OwnerFindingKind.OverlaydFrrMismatch, m, $"{m}: overlayd says {vip.State} (lease held) but FRR does not originate it"));
                else if (!vip.Advertising && frr && vip.State is not "PendingAdvertise")
                    findings.Add(new OwnerFinding(OwnerFindingKind.OverlaydFrrMismatch, m, $"{m}: overlayd says {vip.State} ({vip.Reason}) but FRR originates it: something other than overlayd holds the route"));
            }
        }
        else
        {
            foreach (var owner in p.Origins.Where(o => !originating.Contains(o)))
                findings.Add(new OwnerFinding(OwnerFindingKind.OwnerNotOriginating, owner,
                    $"{owner} does not originate {what}" + (byNode.ContainsKey(owner) ? "" : " (it could not be read)")));
        }

        // Preferences of every node that is not an origin itself.
        var preferences = new List<Preference>();
        foreach (var n in nodes.Where(n => !originating.Contains(n.Node) || !intended.Contains(n.Node)).OrderBy(n => n.Node, StringComparer.Ordinal))
        {
            var pref = Prefer(inventory, n, p.Prefix, originators);
            preferences.Add(pref);
            foreach (var o in pref.Origins.Where(o => !intended.Contains(o) && o != n.Node))
                findings.Add(new OwnerFinding(OwnerFindingKind.PrefersUnexpected, n.Node, $"{n.Node} sends {what} to {o}, which the inventory does not give it"));
        }
        return new OwnerRow(p.Prefix, p.Kind, p.Name, p.Origins, originators, preferences, findings);
    }

    private static string MemberReasons(IntendedPrefix p, Dictionary<string, NodeRouting> byNode)
    {
        var parts = p.Origins.Select(m => byNode.TryGetValue(m, out var n) ? $"{m}{OverlaydReason(n, p)}" : $"{m}: not read").ToList();
        return parts.Count == 0 ? "" : ": " + string.Join("; ", parts);
    }

    private static string OverlaydReason(NodeRouting n, IntendedPrefix p)
    {
        if (!n.Overlayd.Answering) return $" (overlayd not answering: {n.Overlayd.Problem})";
        var vip = n.Overlayd.Vips.FirstOrDefault(v => v.Name == p.Name);
        return vip is null ? " (overlayd does not manage it)" : $" (overlayd: {vip.State}, {vip.Reason})";
    }

    private static Preference Prefer(Inventory inventory, NodeRouting n, IpPrefix prefix, List<Originator> originators)
    {
        if (!n.Rib.TryGetValue(prefix, out var route)) return new Preference(n.Node, [], null, []);
        if (route.IsLocal) return new Preference(n.Node, [n.Node], route.Protocol, []);
        var self = inventory.FindNode(n.Node);
        var peerOf = new Dictionary<string, string>(StringComparer.Ordinal);
        if (self is not null)
            foreach (var t in inventory.TunnelsOf(self.Name))
                if (inventory.FindNode(t.PeerOf(self.Name)) is { } peer) peerOf[Renderer.InterfaceName(self, peer)] = peer.Name;
        var upstreams = self?.Upstreams.Select(u => u.Neighbor.ToString()).ToHashSet(StringComparer.Ordinal) ?? [];
        var origins = new SortedSet<string>(StringComparer.Ordinal);
        var via = new SortedSet<string>(StringComparer.Ordinal);
        var originNames = originators.Select(o => o.Node).ToList();
        foreach (var h in route.Nexthops)
        {
            if (h.Gateway?.ToString() is { } gw && upstreams.Contains(gw))
            {
                origins.Add($"upstream {gw}");
                via.Add($"upstream {gw}");
                continue;
            }
            string? peerName = h.Interface is { } i && peerOf.TryGetValue(i, out var pn) ? pn : null;
            via.Add(peerName ?? h.Interface ?? h.Gateway?.ToString() ?? "?");
            if (peerName is not null && originNames.Contains(peerName)) origins.Add(peerName);
            else if (originNames.Count == 1) origins.Add(originNames[0]);
        }
        return new Preference(n.Node, [.. origins], route.Protocol, [.. via]);
    }
}
