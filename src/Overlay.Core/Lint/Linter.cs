using System.Net;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Prefixes;
using Overlay.Core.Render;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Lint;

/// <summary>
/// Checks an inventory (and optionally hand-written peer lists) for configurations that parse but will
/// not work, or will fail in a way that is hard to see. Pure: files are seen through
/// <see cref="IFileSystemView"/>. Diagnostics come back sorted by position (<see cref="Diagnostic.Compare"/>).
/// </summary>
public static class Linter
{
    /// <summary>OSPFv2 AllSPFRouters and AllDRouters: hellos and LSAs go to these groups.</summary>
    private static readonly IPAddress[] OspfGroups = [IPAddress.Parse("224.0.0.5"), IPAddress.Parse("224.0.0.6")];

    public const int MaxInterfaceName = 15;

    public static IReadOnlyList<Diagnostic> Lint(Inventory inventory, IFileSystemView files) =>
        Lint(inventory, files, []);

    public static IReadOnlyList<Diagnostic> Lint(Inventory inventory, IFileSystemView files, IReadOnlyList<PeerList> peerLists)
    {
        var d = new List<Diagnostic>();
        CheckEndpoints(inventory, d);
        CheckNatKeepalive(inventory, d);
        CheckKeepaliveFitsNat(inventory, d);
        CheckAnycastClients(inventory, d);
        CheckDuplicateKeys(inventory, d);
        CheckDuplicateAddresses(inventory, d);
        CheckListenPorts(inventory, d);
        CheckInterfaceNames(inventory, d);
        CheckGate(inventory, d);
        CheckHubs(inventory, d);
        CheckVipUpstreams(inventory, d);
        CheckSubnets(inventory, d);
        CheckKeyFiles(inventory, files, d);
        if (peerLists.Count > 0) d.AddRange(LintPeerLists(peerLists, inventory));
        d.Sort(Diagnostic.Compare);
        return DiagnosticCap.Apply(d);
    }

    /// <summary>
    /// Checks peer lists on their own (the part that scales with AllowedIPs): overlapping AllowedIPs,
    /// keys listed twice, interface names, listen ports and, with an inventory, asymmetric peering.
    /// </summary>
    public static IReadOnlyList<Diagnostic> LintPeerLists(IReadOnlyList<PeerList> lists, Inventory? inventory = null)
    {
        var d = new List<Diagnostic>();
        CheckPeerListOverlaps(lists, d);
        foreach (var list in lists)
        {
            if (list.Interface.Length > MaxInterfaceName)
                d.Add(LintRules.InterfaceNameTooLong.Report(list.Location,
                    $"interface name '{list.Interface}' has {list.Interface.Length} characters; Linux allows {MaxInterfaceName}",
                    "shorten the file name (wg-quick names the interface after it)"));
            var keys = new Dictionary<WireGuardKey, PeerEntry>();
            foreach (var peer in list.Peers)
                if (!keys.TryAdd(peer.PublicKey, peer))
                    d.Add(LintRules.DuplicatePublicKey.Report(peer.Location,
                        $"peer {Short(peer.PublicKey)} is listed twice on {list.Interface} (first at line {keys[peer.PublicKey].Location.Line})",
                        "merge the two [Peer] sections; wg keeps only the last one"));
        }
        foreach (var group in lists.Where(l => l.ListenPort is > 0).GroupBy(l => (l.Node, l.ListenPort)).Where(g => g.Count() > 1))
            foreach (var list in group.Skip(1))
                d.Add(LintRules.DuplicateListenPort.Report(list.Location,
                    $"{list.Interface} on '{list.Node}' listens on port {list.ListenPort}, as {group.First().Interface} does",
                    "give every interface on a node its own ListenPort"));
        if (inventory is not null) CheckAsymmetry(lists, inventory, d);
        d.Sort(Diagnostic.Compare);
        return DiagnosticCap.Apply(d);
    }

    private static void CheckEndpoints(Inventory inv, List<Diagnostic> d)
    {
        foreach (var t in inv.Tunnels)
        {
            var (a, b) = (inv.GetNode(t.A), inv.GetNode(t.B));
            if (a.Endpoint is null && b.Endpoint is null)
                d.Add(LintRules.NoEndpoint.Report(b.Location,
                    $"tunnel {a.Name}–{b.Name}: neither node has an endpoint, so neither can send the first handshake",
                    $"give '{(a.BehindNat ? b.Name : a.Name)}' an endpoint (host:port reachable from the other)"));
        }
    }

    private static void CheckNatKeepalive(Inventory inv, List<Diagnostic> d)
    {
        foreach (var node in inv.Nodes.Where(n => n.BehindNat))
        {
            var quiet = inv.TunnelsOf(node.Name).Where(t => !t.Keepalive || inv.Defaults.Keepalive <= TimeSpan.Zero).ToList();
            if (quiet.Count == 0) continue;
            d.Add(LintRules.NatWithoutKeepalive.Report(node.Location,
                $"'{node.Name}' is behind NAT but {quiet.Count} of its tunnels (e.g. to '{quiet[0].PeerOf(node.Name)}') send no keepalive; the NAT mapping expires and the peer can no longer reach it",
                "set defaults.keepalive to e.g. 25s"));
        }
    }

    /// <summary>A written defaults.keepalive that a NAT's timeout outruns: the mapping dies between two keepalives (docs/nat.md).</summary>
    private static void CheckKeepaliveFitsNat(Inventory inv, List<Diagnostic> d)
    {
        var k = inv.Defaults.Keepalive;
        if (!inv.Defaults.KeepaliveGiven || k <= TimeSpan.Zero) return;
        foreach (var node in inv.Nodes.Where(n => n.BehindNat && n.NatUdpTimeout is { } t && k >= t.Value))
        {
            var t = node.NatUdpTimeout!;
            d.Add(LintRules.KeepaliveOutlivesNat.Report(t.Location.Line > 0 ? t.Location : node.Location,
                $"'{node.Name}' is behind a NAT that forgets idle UDP mappings after {DurationText.Format(t.Value)} ({t.Describe(node.Site)}), but defaults.keepalive is {DurationText.Format(k)}: between keepalives its peers cannot reach it",
                $"remove defaults.keepalive (render then derives {DurationText.Format(Nat.KeepaliveAdvice.ForNatTimeout(t.Value))} from the timeout) or set it below {DurationText.Format(t.Value)}"));
        }
    }

    /// <summary>
    /// A client whose tunnels end on an anycast VIP, with the watchdog switched off and no keepalive on some of them:
    /// after a failover nothing on its side notices that the session now reaches a site that drops it (docs/anycast.md).
    /// </summary>
    private static void CheckAnycastClients(Inventory inv, List<Diagnostic> d)
    {
        foreach (var node in inv.Nodes.Where(n => n.AnycastEndpoint is { Watchdog: null }))
        {
            var a = node.AnycastEndpoint!;
            var bare = inv.TunnelsOf(node.Name)
                .Where(t => AnycastEndpoints.Of(inv, node, t.PeerOf(node.Name)) is not null)
                .Where(t => !t.Keepalive || inv.Defaults.Keepalive <= TimeSpan.Zero)
                .Select(t => t.PeerOf(node.Name))
                .ToList();
            if (bare.Count == 0) continue;
            d.Add(LintRules.AnycastClientUnwatched.Report(a.Location,
                $"'{node.Name}' reaches anycast VIP '{a.Vip}' through {string.Join(", ", bare.Select(p => $"'{p}'"))} with watchdog: false and no persistent keepalive: after the VIP moves to another site its session is dropped silently until WireGuard re-handshakes on its own (15 s or more)",
                "remove 'watchdog: false' (overlayd then resets the session within about a second); without overlayd on the node, keepalive alone does not shorten the 15 s (docs/anycast.md)"));
        }
    }

    private static void CheckDuplicateKeys(Inventory inv, List<Diagnostic> d)
    {
        var first = new Dictionary<WireGuardKey, Node>();
        foreach (var node in inv.Nodes)
        {
            if (first.TryGetValue(node.PublicKey, out var other))
                d.Add(LintRules.DuplicatePublicKey.Report(node.Location,
                    $"'{node.Name}' has the same public key as '{other.Name}'; peers cannot tell them apart",
                    $"generate a new key pair on '{node.Name}' (wg genkey | wg pubkey) and use 'overlayctl rotate plan'"));
            else first[node.PublicKey] = node;
        }
    }

    private static void CheckDuplicateAddresses(Inventory inv, List<Diagnostic> d)
    {
        // The owner is either a tunnel or a node; the text is built only when a clash is reported.
        var owners = new Dictionary<IPAddress, object>();
        foreach (var t in inv.Tunnels)
        {
            owners.TryAdd(t.AddressA, t);
            owners.TryAdd(t.AddressB, t);
        }
        foreach (var node in inv.Nodes)
            foreach (var addr in new[] { node.OverlayV4, node.OverlayV6 })
            {
                if (addr is null) continue;
                if (owners.TryGetValue(addr, out var owner))
                    d.Add(LintRules.DuplicateOverlayAddress.Report(node.Location,
                        $"overlay address {addr} of '{node.Name}' is already used by {(owner is Tunnel t ? $"the link {t.A}–{t.B}" : $"node '{((Node)owner).Name}'")}",
                        "give every node its own overlay address outside defaults.linkPool"));
                else owners[addr] = node;
            }
    }

    private static void CheckListenPorts(Inventory inv, List<Diagnostic> d)
    {
        // Nodes sharing an underlay host (a lab, or several nodes behind one address) share its UDP ports.
        foreach (var host in inv.Nodes.Where(n => n.Endpoint is not null).GroupBy(n => n.Endpoint!.Host, StringComparer.OrdinalIgnoreCase))
        {
            if (!host.Skip(1).Any()) continue;
            var used = new Dictionary<int, (Node Node, Node Peer)>();
            foreach (var node in host)
                foreach (var t in inv.TunnelsOf(node.Name))
                {
                    var peer = inv.GetNode(t.PeerOf(node.Name));
                    int port = node.ListenPort + peer.Id;
                    if (used.TryGetValue(port, out var other) && other.Node != node)
                    {
                        d.Add(LintRules.DuplicateListenPort.Report(node.Location,
                            $"'{node.Name}' listens on {host.Key}:{port} ({Renderer.InterfaceName(node, peer)}), as '{other.Node.Name}' does ({Renderer.InterfaceName(other.Node, other.Peer)})",
                            $"move one node's listenPort so the ranges listenPort+1..listenPort+{inv.Nodes.Max(n => n.Id)} do not meet"));
                        break;
                    }
                    used.TryAdd(port, (node, peer));
                }
        }
    }

    private static void CheckInterfaceNames(Inventory inv, List<Diagnostic> d)
    {
        foreach (var node in inv.Nodes)
        {
            // Names differ only in the peer's alias: checking the longest one per node is enough.
            Node? longest = null;
            foreach (var t in inv.TunnelsOf(node.Name))
            {
                var peer = inv.GetNode(t.PeerOf(node.Name));
                if (longest is null || peer.Short.Length > longest.Short.Length) longest = peer;
            }
            if (longest is null) continue;
            string name = Renderer.InterfaceName(node, longest);
            if (name.Length > MaxInterfaceName)
                d.Add(LintRules.InterfaceNameTooLong.Report(node.Location,
                    $"interface {name} of '{node.Name}' has {name.Length} characters; Linux allows {MaxInterfaceName}",
                    "use a 'short' alias of at most 5 characters"));
        }
        foreach (var vip in inv.Vips)
            if (vip.LeaseInterface.Length > MaxInterfaceName)
                d.Add(LintRules.InterfaceNameTooLong.Report(vip.Location,
                    $"VIP '{vip.Name}' needs lease interface {vip.LeaseInterface} ({vip.LeaseInterface.Length} characters); Linux allows {MaxInterfaceName}",
                    $"shorten the VIP name to at most {MaxInterfaceName - 4} characters"));
    }

    private static void CheckGate(Inventory inv, List<Diagnostic> d)
    {
        if (inv.Tunnels.Count == 0) return;
        var gate = new PrefixTable<bool>();
        foreach (var p in inv.Gate) gate.Set(p, true);
        // An inventory built in code has no position for its gate; the file is the best anchor then.
        var at = inv.GateLocation.Line > 0 ? inv.GateLocation : new SourceLocation(inv.File, 1, 1);
        var missing = OspfGroups.Where(g => !gate.TryLongestMatch(g, out bool _)).ToList();
        if (missing.Count > 0)
            d.Add(LintRules.GateBlocksRouting.Report(at,
                $"the gate [{string.Join(", ", inv.Gate)}] drops OSPF hellos to {string.Join(" and ", missing)}; no adjacency can form",
                $"add {string.Join(", ", missing.Select(m => m + "/32"))} to gate"));
        var blocked = inv.Tunnels.FirstOrDefault(t => !gate.TryLongestMatch(t.AddressA, out bool _) || !gate.TryLongestMatch(t.AddressB, out bool _));
        if (blocked is not null)
            d.Add(LintRules.GateBlocksRouting.Report(at,
                $"the gate does not admit link addresses such as {blocked.Link} ({blocked.A}–{blocked.B}); OSPF and BFD packets from the peer are dropped",
                $"add {inv.Defaults.LinkPool} to gate"));
    }

    private static void CheckHubs(Inventory inv, List<Diagnostic> d)
    {
        var topo = inv.Topology;
        if (topo.Primary is { } p && topo.Secondary is { } s && p.Cost == s.Cost)
            d.Add(LintRules.EqualHubCost.Report(s.Location,
                $"primary hub '{p.Node}' and secondary hub '{s.Node}' both have cost {p.Cost}; spokes split traffic and failover order is undefined",
                $"give the secondary a higher cost than {p.Cost}"));
        else if (topo.Primary is { } p2 && topo.Secondary is { } s2 && s2.Cost < p2.Cost)
            d.Add(LintRules.SecondaryHubCheaper.Report(s2.Location,
                $"secondary hub '{s2.Node}' (cost {s2.Cost}) is cheaper than primary hub '{p2.Node}' (cost {p2.Cost}); spokes will send everything through the secondary",
                $"give the primary the lower cost, e.g. primary cost {s2.Cost} and secondary cost {p2.Cost}, or swap the two hubs"));

        // Render turns forwarding on for transit nodes only; a spoke without a shortcut is not one, so OSPF must never
        // prefer it between the hubs (hub link cost above primary + secondary cost makes it do just that).
        if (topo.Kind == TopologyKind.HubAndSpoke && topo.Primary is { } hp && topo.Secondary is { } hs && topo.HubLinkCost > hp.Cost + hs.Cost
            && inv.Nodes.Any(n => n.Role == NodeRole.Spoke && !TransitNodes.IsTransit(inv, n)))
            d.Add(LintRules.HubTrafficThroughSpoke.Report(topo.Location,
                $"hubLinkCost {topo.HubLinkCost} is higher than the path through a spoke ({hp.Cost} + {hs.Cost}): OSPF routes traffic between '{hp.Node}' and '{hs.Node}' through a spoke, which does not forward (render enables forwarding on transit nodes only)",
                $"set hubLinkCost to at most {hp.Cost + hs.Cost}"));

        var hubs = inv.Nodes.Where(n => n.Role == NodeRole.Hub).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        // In a full mesh every node peers with every other; "spoke" is only a label there.
        if (topo.Kind != TopologyKind.HubAndSpoke) return;
        foreach (var spoke in inv.Nodes.Where(n => n.Role == NodeRole.Spoke))
            if (!inv.TunnelsOf(spoke.Name).Any(t => hubs.Contains(t.PeerOf(spoke.Name))))
                d.Add(LintRules.SpokeWithoutHub.Report(spoke.Location,
                    $"spoke '{spoke.Name}' has no tunnel to a hub",
                    hubs.Count == 0 ? "add a node with role hub and name it in topology.primary" : "check the topology: every spoke gets a tunnel to each hub"));
    }

    private static void CheckVipUpstreams(Inventory inv, List<Diagnostic> d)
    {
        // A VIP whose members all lack upstreams is served inside the overlay only (OSPF carries it): fine.
        // Once some members announce it upstream, a member without an upstream cannot take over for them.
        foreach (var vip in inv.Vips)
        {
            var members = vip.Members.Select(inv.FindNode).OfType<Node>().ToList();
            var announcing = members.Where(m => m.Upstreams.Count > 0).Select(m => m.Name).ToList();
            if (announcing.Count == 0) continue;
            foreach (var node in members.Where(m => m.Upstreams.Count == 0))
                d.Add(LintRules.VipMemberWithoutUpstream.Report(vip.Location,
                    $"VIP '{vip.Name}' ({vip.Prefix}) is announced upstream by {string.Join(", ", announcing.Select(a => $"'{a}'"))}, but member '{node.Name}' has no BGP upstream: when they fail, outside clients lose the VIP although '{node.Name}' is healthy",
                    $"add an upstream to '{node.Name}' or remove it from the VIP's members"));
        }
    }

    private static void CheckSubnets(Inventory inv, List<Diagnostic> d)
    {
        var entries = new List<OwnedPrefix>();
        var where = new List<(Node Node, AnnouncedSubnet Subnet)>();
        for (int n = 0; n < inv.Nodes.Count; n++)
            foreach (var s in inv.Nodes[n].Subnets)
            {
                entries.Add(new OwnedPrefix(0, n, s.Prefix));
                where.Add((inv.Nodes[n], s));
            }
        foreach (var c in OverlapFinder.Find(entries.ToArray()))
        {
            var (outer, inner) = (where[c.Outer], where[c.Inner]);
            d.Add(LintRules.OverlappingSubnets.Report(inner.Subnet.Location,
                $"subnet {inner.Subnet.Prefix} of '{inner.Node.Name}' overlaps {outer.Subnet.Prefix} of '{outer.Node.Name}'; the longer prefix wins everywhere",
                "announce disjoint subnets, or use a VIP for an address served by several nodes"));
        }
    }

    private static void CheckKeyFiles(Inventory inv, IFileSystemView files, List<Diagnostic> d)
    {
        const UnixFileMode exposed = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                     UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        foreach (var node in inv.Nodes)
        {
            if (files.GetMode(node.Name, node.KeyFile) is not { } mode || (mode & exposed) == 0) continue;
            d.Add(LintRules.KeyFileExposed.Report(node.Location,
                $"private key {node.KeyFile} of '{node.Name}' has mode {Octal(mode)}: group or others can read it",
                $"chmod 600 {node.KeyFile}"));
        }
    }

    private static void CheckPeerListOverlaps(IReadOnlyList<PeerList> lists, List<Diagnostic> d)
    {
        int total = 0;
        foreach (var l in lists) foreach (var p in l.Peers) total += p.AllowedIps.Count;
        var entries = new OwnedPrefix[total];
        var refs = new (int List, int Peer, int Entry)[total];
        int i = 0;
        for (int li = 0; li < lists.Count; li++)
            for (int pi = 0; pi < lists[li].Peers.Count; pi++)
            {
                var ips = lists[li].Peers[pi].AllowedIps;
                for (int ei = 0; ei < ips.Count; ei++, i++)
                {
                    entries[i] = new OwnedPrefix(li, pi, ips[ei].Prefix);
                    refs[i] = (li, pi, ei);
                }
            }
        foreach (var c in OverlapFinder.Find(entries))
        {
            var (ol, op, oe) = refs[c.Outer];
            var (il, ip, ie) = refs[c.Inner];
            var list = lists[il];
            var outer = lists[ol].Peers[op].AllowedIps[oe];
            var inner = list.Peers[ip].AllowedIps[ie];
            string how = outer.Prefix == inner.Prefix ? "the same prefix" : $"inside {outer.Prefix}";
            d.Add(LintRules.OverlappingAllowedIps.Report(new SourceLocation(list.Location.File, inner.Line, inner.Column),
                $"{inner.Prefix} of peer {Short(list.Peers[ip].PublicKey)} on {list.Interface} is {how} of peer {Short(lists[ol].Peers[op].PublicKey)} (line {outer.Line}); only one peer receives that traffic",
                "give each peer its own interface (what render does), or make the AllowedIPs disjoint"));
        }
    }

    private static void CheckAsymmetry(IReadOnlyList<PeerList> lists, Inventory inv, List<Diagnostic> d)
    {
        var byKey = new Dictionary<WireGuardKey, Node>();
        foreach (var n in inv.Nodes) byKey.TryAdd(n.PublicKey, n);
        var listed = lists.GroupBy(l => l.Node).ToDictionary(g => g.Key, g => g.SelectMany(l => l.Peers).Select(p => p.PublicKey).ToHashSet());
        foreach (var list in lists)
        {
            if (inv.FindNode(list.Node) is not { } self) continue;
            foreach (var peer in list.Peers)
            {
                // Only judge peers whose own lists were given; otherwise nothing is known about the other side.
                if (!byKey.TryGetValue(peer.PublicKey, out var other) || !listed.TryGetValue(other.Name, out var theirs)) continue;
                if (!theirs.Contains(self.PublicKey))
                    d.Add(LintRules.AsymmetricPeering.Report(peer.Location,
                        $"'{self.Name}' lists '{other.Name}' on {list.Interface}, but no peer list of '{other.Name}' has the key of '{self.Name}'; the handshake is refused",
                        $"add a [Peer] with PublicKey {self.PublicKey} to '{other.Name}', or remove this one"));
            }
        }
    }

    private static string Short(WireGuardKey key) => key.ToBase64()[..8] + "…";

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');
}
