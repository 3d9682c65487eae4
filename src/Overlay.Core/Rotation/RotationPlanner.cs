using System.Globalization;
using System.Net;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Render;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Rotation;

public sealed record RotationOptions
{
    /// <summary>The new public key (from 'wg pubkey' on the node), or null to plan with a placeholder.</summary>
    public WireGuardKey? NewPublicKey { get; init; }

    /// <summary>
    /// Added to the regular listen ports for the parallel interfaces. Regular ports are listenPort + peer id
    /// (ids are 1..4095), so 4096 never meets them.
    /// </summary>
    public int PortOffset { get; init; } = 4096;

    /// <summary>OSPF cost that keeps a tunnel up but unused (the largest FRR accepts).</summary>
    public int StandbyCost { get; init; } = 65535;

    /// <summary>Interface name prefix for the parallel set; "wr" keeps names as short as the regular "wg-" ones.</summary>
    public string ParallelPrefix { get; init; } = "wr";
}

/// <summary>The plan cannot be made; the message says why and what to change.</summary>
public sealed class RotationPlanException(string message) : Exception(message);

/// <summary>
/// Plans a WireGuard key rotation for one node. Pure: it only reads the inventory; the plan lists every
/// per-node change, the verification each phase waits for, and its rollback.
/// </summary>
public static class RotationPlanner
{
    public const string Placeholder = "<NEW-PUBLIC-KEY>";

    public static RotationPlans Plan(Inventory inventory, string nodeName, RotationOptions? options = null)
    {
        options ??= new RotationOptions();
        // The plan's lines are shell commands and FRR lines run as root: the same grammars as render.
        RenderGuard.Check(inventory);
        if (!ValueGrammar.IsInterfaceName(options.ParallelPrefix + "-x"))
            throw new ArgumentException($"ParallelPrefix '{ValueGrammar.Printable(options.ParallelPrefix, 20)}' is not usable in an interface name", nameof(options));
        var node = inventory.FindNode(nodeName)
            ?? throw new RotationPlanException($"no node '{nodeName}' in {inventory.File}; nodes are: {string.Join(", ", inventory.Nodes.Select(n => n.Name))}");
        var tunnels = Tunnels(inventory, node, options);
        return new RotationPlans(MakeBeforeBreak(inventory, node, tunnels, options), InPlace(inventory, node, options));
    }

    private static string NewKeyText(RotationOptions o) => o.NewPublicKey?.ToBase64() ?? Placeholder;

    private static string NewKeyFile(Node node) => node.KeyFile + ".new";

    private static List<RotatedTunnel> Tunnels(Inventory inv, Node node, RotationOptions o)
    {
        var links = inv.TunnelsOf(node.Name).ToList();
        if (links.Count == 0)
            throw new RotationPlanException($"node '{node.Name}' has no tunnels; rotate its key by replacing the key file and the inventory's publicKey");
        var free = FreeLinks(inv, links.Count);
        var result = new List<RotatedTunnel>();
        foreach (var (t, i) in links.Select((t, i) => (t, i)))
        {
            var peer = inv.GetNode(t.PeerOf(node.Name));
            int port = node.ListenPort + peer.Id + o.PortOffset;
            int peerPort = peer.ListenPort + node.Id + o.PortOffset;
            if (port > 65535 || peerPort > 65535)
                throw new RotationPlanException(
                    $"the parallel interface toward '{peer.Name}' would listen on port {Math.Max(port, peerPort)} (regular port + {o.PortOffset}); lower listenPort or the port offset");
            result.Add(new RotatedTunnel(peer.Name,
                Renderer.InterfaceName(node, peer), Parallel(o, node, peer),
                Renderer.InterfaceName(peer, node), Parallel(o, peer, node),
                port, peerPort, free[i].ToString(), t.Cost));
        }
        return result;
    }

    private static string Parallel(RotationOptions o, Node self, Node peer) => $"{o.ParallelPrefix}-{self.Short}-{peer.Short}";

    /// <summary>
    /// /31s for the parallel tunnels, from the top of the link pool down: regular links are numbered from the
    /// bottom, so the top stays free until the pool is nearly full.
    /// </summary>
    private static List<IpPrefix> FreeLinks(Inventory inv, int count)
    {
        var pool = inv.Defaults.LinkPool;
        var used = inv.Tunnels.Select(t => t.Link).ToHashSet();
        var result = new List<IpPrefix>();
        UInt128 capacity = UInt128.One << (31 - pool.Length);
        for (UInt128 i = capacity; i > 0 && result.Count < count; i--)
        {
            var link = IpPrefix.Create(IpPrefix.ToAddress(pool.Bits + 2 * (i - 1), false), 31);
            if (!used.Contains(link)) result.Add(link);
        }
        if (result.Count < count)
            throw new RotationPlanException($"link pool {pool} has only {result.Count} free /31s; the parallel tunnels need {count}; use a larger defaults.linkPool");
        return result;
    }

    private static (IPAddress Self, IPAddress Peer) LinkAddresses(Node self, Node peer, string link)
    {
        // Same convention as the inventory: the smaller id takes the even address.
        var p = IpPrefix.Parse(link);
        var even = p.Address;
        var odd = IpPrefix.ToAddress(p.Bits + 1, false);
        return self.Id < peer.Id ? (even, odd) : (odd, even);
    }

    /// <summary>A value as one sh word: as is when every character is plain, else single-quoted (values never hold a quote: their grammars exclude it).</summary>
    private static string ShellWord(object value)
    {
        string s = value.ToString()!;
        return s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '+' or '/' or '-' or '=' or ',' or ':') ? s : $"'{s}'";
    }

    private static string S(TimeSpan t) => ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>wg-quick file of one parallel interface; the private key stays in a file on the node.</summary>
    private static List<string> InterfaceFile(Inventory inv, Node self, Node peer, string name, string link, int listenPort,
        string keyFile, string peerKey, int peerPort, bool keepalive)
    {
        var (local, _) = LinkAddresses(self, peer, link);
        var lines = new List<string>
        {
            $"# {self.Name} <-> {peer.Name}: parallel tunnel for key rotation",
            "[Interface]",
            $"Address = {local}/31",
            $"ListenPort = {listenPort}",
            "Table = off",
            $"PostUp = wg set %i private-key {keyFile}",
            "",
            "[Peer]",
            $"# {peer.Name}",
            $"PublicKey = {peerKey}",
            $"AllowedIPs = {string.Join(", ", inv.Gate)}",
        };
        if (peer.Endpoint is { } ep) lines.Add($"Endpoint = {ep with { Port = peerPort }}");
        if (keepalive) lines.Add($"PersistentKeepalive = {S(inv.Defaults.Keepalive)}");
        return lines;
    }

    /// <summary>
    /// The FRR interface block render writes for a tunnel, with a chosen cost, its /31 as an OSPF network (render enables
    /// OSPF with <c>network</c> statements under <c>passive-interface default</c>; FRR refuses a per-interface
    /// <c>ip ospf area</c> beside them), plus its BFD peer.
    /// </summary>
    private static List<string> FrrInterface(Inventory inv, Node peer, string name, string link, int cost, IPAddress peerAddress) =>
    [
        $"interface {name}",
        $" description {peer.Name} (key rotation)",
        " ip ospf network point-to-point",
        " no ip ospf passive",
        $" ip ospf cost {cost}",
        $" ip ospf hello-interval {S(inv.Defaults.OspfHello)}",
        $" ip ospf dead-interval {S(inv.Defaults.OspfDead)}",
        " ip ospf bfd",
        " ip ospf bfd profile overlay",
        "exit",
        "router ospf",
        $" network {link} area 0.0.0.0",
        "exit",
        "bfd",
        $" peer {peerAddress} interface {name}",
        "  profile overlay",
        " exit",
        "exit",
    ];

    private static List<string> FrrRemove(string name, string link, IPAddress peerAddress) =>
    [
        "bfd",
        $" no peer {peerAddress} interface {name}",
        "exit",
        "router ospf",
        $" no network {link} area 0.0.0.0",
        "exit",
        $"no interface {name}",
    ];

    private static List<string> FrrCost(string name, int cost) => [$"interface {name}", $" ip ospf cost {cost}", "exit"];

    private static RotationPlan MakeBeforeBreak(Inventory inv, Node node, List<RotatedTunnel> tunnels, RotationOptions o)
    {
        string newKey = NewKeyText(o);
        string keyFile = NewKeyFile(node);
        var own = inv.TunnelsOf(node.Name).ToDictionary(t => t.PeerOf(node.Name), StringComparer.Ordinal);
        var pairs = tunnels.Select(r => (R: r, Peer: inv.GetNode(r.Peer), T: own[r.Peer])).ToList();

        // Phase 1: write the parallel set everywhere, in standby (cost 65535), with the new key on the rotating node.
        var p1 = new List<NodeChange>
        {
            new(node.Name, RotationChangeKind.GenerateKey, keyFile,
                o.NewPublicKey is null
                    ? [$"(umask 077; wg genkey > {keyFile})", $"wg pubkey < {keyFile}   # then re-plan with --new-public-key <output>"]
                    : [$"test -s {keyFile} && wg pubkey < {keyFile}   # must print {newKey}"]),
        };
        var p1Rollback = new List<NodeChange>();
        foreach (var (r, peer, t) in pairs)
        {
            var (nodeAddr, peerAddr) = LinkAddresses(node, peer, r.NewLink);
            p1.Add(new(node.Name, RotationChangeKind.WriteInterface, r.NewInterface,
                InterfaceFile(inv, node, peer, r.NewInterface, r.NewLink, r.NewListenPort, keyFile, peer.PublicKey.ToBase64(),
                    (peer.Endpoint?.Port ?? 0) + node.Id + o.PortOffset, t.Keepalive)));
            p1.Add(new(node.Name, RotationChangeKind.FrrConfig, r.NewInterface, FrrInterface(inv, peer, r.NewInterface, r.NewLink, o.StandbyCost, peerAddr)));
            p1.Add(new(peer.Name, RotationChangeKind.WriteInterface, r.PeerNewInterface,
                InterfaceFile(inv, peer, node, r.PeerNewInterface, r.NewLink, r.PeerNewListenPort, peer.KeyFile, newKey,
                    (node.Endpoint?.Port ?? 0) + peer.Id + o.PortOffset, t.Keepalive)));
            p1.Add(new(peer.Name, RotationChangeKind.FrrConfig, r.PeerNewInterface, FrrInterface(inv, node, r.PeerNewInterface, r.NewLink, o.StandbyCost, nodeAddr)));
            p1Rollback.Add(new(node.Name, RotationChangeKind.FrrConfig, r.NewInterface, FrrRemove(r.NewInterface, r.NewLink, peerAddr)));
            p1Rollback.Add(new(node.Name, RotationChangeKind.DeleteInterface, r.NewInterface, [$"rm -f /etc/wireguard/{r.NewInterface}.conf"]));
            p1Rollback.Add(new(peer.Name, RotationChangeKind.FrrConfig, r.PeerNewInterface, FrrRemove(r.PeerNewInterface, r.NewLink, nodeAddr)));
            p1Rollback.Add(new(peer.Name, RotationChangeKind.DeleteInterface, r.PeerNewInterface, [$"rm -f /etc/wireguard/{r.PeerNewInterface}.conf"]));
        }
        var p1Wait = pairs.SelectMany(x => new[]
        {
            new Verification(node.Name, VerificationKind.Configured, x.R.NewInterface, "vtysh -c 'show running-config'", $"interface {x.R.NewInterface} has ip ospf cost {o.StandbyCost}"),
            new Verification(x.Peer.Name, VerificationKind.Configured, x.R.PeerNewInterface, "vtysh -c 'show running-config'", $"interface {x.R.PeerNewInterface} has ip ospf cost {o.StandbyCost}"),
        }).ToList();

        // Phase 2: bring up and verify handshakes, adjacencies and BFD on every new interface, both ends.
        var p2 = new List<NodeChange>();
        var p2Wait = new List<Verification>();
        var p2Rollback = new List<NodeChange>();
        foreach (var (r, peer, _) in pairs)
        {
            var (nodeAddr, peerAddr) = LinkAddresses(node, peer, r.NewLink);
            foreach (var (self, other, iface, otherAddr, otherId) in new[]
                     {
                         (node, peer, r.NewInterface, peerAddr, peer.OverlayV4),
                         (peer, node, r.PeerNewInterface, nodeAddr, node.OverlayV4),
                     })
            {
                p2.Add(new(self.Name, RotationChangeKind.BringUp, iface, [$"wg-quick up {iface}"]));
                p2Wait.Add(new(self.Name, VerificationKind.Handshake, iface, $"wg show {iface} latest-handshakes", $"a handshake with '{other.Name}' newer than the start of phase 2"));
                p2Wait.Add(new(self.Name, VerificationKind.OspfFull, iface, "vtysh -c 'show ip ospf neighbor json'", $"neighbor {otherId} on {iface} has nbrState Full"));
                p2Wait.Add(new(self.Name, VerificationKind.BfdUp, iface, $"vtysh -c 'show bfd peer {otherAddr} interface {iface} json'", "status up"));
                p2Rollback.Add(new(self.Name, RotationChangeKind.TearDown, iface, [$"wg-quick down {iface}"]));
            }
        }

        // Phase 3: one cost swap per node end; both tunnels carry traffic throughout, so nothing is lost.
        var p3 = new List<NodeChange>();
        var p3Wait = new List<Verification>();
        var p3Rollback = new List<NodeChange>();
        foreach (var (r, peer, _) in pairs)
        {
            foreach (var (self, other, oldIf, newIf) in new[] { (node, peer, r.OldInterface, r.NewInterface), (peer, node, r.PeerOldInterface, r.PeerNewInterface) })
            {
                p3.Add(new(self.Name, RotationChangeKind.FrrConfig, $"{newIf},{oldIf}", [.. FrrCost(newIf, r.Cost), .. FrrCost(oldIf, o.StandbyCost)]));
                p3Rollback.Add(new(self.Name, RotationChangeKind.FrrConfig, $"{oldIf},{newIf}", [.. FrrCost(oldIf, r.Cost), .. FrrCost(newIf, o.StandbyCost)]));
                if (other.OverlayV4 is { } dest)
                    p3Wait.Add(new(self.Name, VerificationKind.RouteVia, newIf, $"vtysh -c 'show ip route {dest}/32 json'", $"the selected route to {dest}/32 ('{other.Name}') leaves via {newIf}, not {oldIf}"));
            }
        }

        // Phase 4: the old tunnels carry nothing now; remove them on both ends.
        var p4 = new List<NodeChange>();
        var p4Wait = new List<Verification>();
        var p4Rollback = new List<NodeChange>();
        foreach (var (r, peer, t) in pairs)
        {
            foreach (var (self, oldIf, otherOldAddr) in new[] { (node, r.OldInterface, t.AddressOf(peer.Name)), (peer, r.PeerOldInterface, t.AddressOf(node.Name)) })
            {
                p4.Add(new(self.Name, RotationChangeKind.TearDown, oldIf, [$"wg-quick down {oldIf}"]));
                p4.Add(new(self.Name, RotationChangeKind.FrrConfig, oldIf, FrrRemove(oldIf, t.Link.ToString(), otherOldAddr)));
                p4.Add(new(self.Name, RotationChangeKind.DeleteInterface, oldIf, [$"rm -f /etc/wireguard/{oldIf}.conf"]));
                p4Wait.Add(new(self.Name, VerificationKind.InterfaceAbsent, oldIf, $"ip link show {oldIf}", "the link no longer exists"));
                p4Rollback.Add(new(self.Name, RotationChangeKind.BringUp, oldIf, [$"overlayctl render ... && wg-quick up {oldIf}   # from the previous render, with the OLD key file"]));
            }
        }
        p4Wait.AddRange(p3Wait);

        // Phase 5: make the inventory tell the truth, install the new key under the regular path, return to regular names.
        var p5 = new List<NodeChange>
        {
            new("inventory", RotationChangeKind.UpdateInventory, node.Name, [$"nodes[{node.Name}].publicKey: {newKey}"]),
            // Copy, not move: the running wr-* interfaces were configured from the .new file and must survive a restart.
            new(node.Name, RotationChangeKind.ReplaceKeyFile, node.KeyFile, [$"cp -p {node.KeyFile} {node.KeyFile}.old", $"install -m 600 {keyFile} {node.KeyFile}"]),
        };
        foreach (var (r, peer, _) in pairs)
        {
            p5.Add(new(node.Name, RotationChangeKind.WriteInterface, $"{r.NewInterface}->{r.OldInterface}", [$"after re-render: repeat phases 2-4 from {r.NewInterface} to the rendered {r.OldInterface} (same new key, regular port and link)"]));
            p5.Add(new(peer.Name, RotationChangeKind.WriteInterface, $"{r.PeerNewInterface}->{r.PeerOldInterface}", [$"after re-render: repeat phases 2-4 from {r.PeerNewInterface} to the rendered {r.PeerOldInterface}"]));
        }
        p5.Add(new(node.Name, RotationChangeKind.ReplaceKeyFile, keyFile, [$"rm {keyFile}   # once no {o.ParallelPrefix}-* interface is left", $"shred -u {node.KeyFile}.old   # once you no longer need a rollback to the old key"]));

        var phases = new List<RotationPhase>
        {
            new(1, "Prepare the parallel tunnel set (standby)",
                $"Every tunnel of '{node.Name}' gets a twin with the new key on its own interface, port and /31, configured on both ends with OSPF cost {o.StandbyCost} so it will carry nothing once up. Nothing running changes.",
                p1, p1Wait, p1Rollback, "Delete the written files and FRR blocks; nothing was running."),
            new(2, "Bring the parallel tunnels up and verify them",
                "The new interfaces handshake with the new key, form OSPF adjacencies and BFD sessions beside the old ones. Traffic still uses the old tunnels (their cost is lower).",
                p2, p2Wait, p2Rollback, "Take the new interfaces down, then roll back phase 1. The old tunnels never stopped."),
            new(3, "Move traffic: cost the old tunnels out",
                $"On each end the new interface takes the tunnel's cost and the old one gets {o.StandbyCost}. Both tunnels stay up, so every packet has a working path while routes move; no loss.",
                p3, p3Wait, p3Rollback, "Swap the costs back; both tunnels are still up."),
            new(4, "Remove the old tunnels",
                "The old interfaces carry no traffic (verified in phase 3); tearing them down changes no route.",
                p4, p4Wait, p4Rollback, $"Re-create the old tunnels from the previous render; the old private key stays in {node.KeyFile} until phase 5, so they come up with the old key."),
            new(5, "Clean up (optional)",
                $"Record the new key in the inventory and retire the old key file. The tunnels now use {o.ParallelPrefix}-* names; renaming in place is not possible without loss (a link must be down to be renamed, and wireguard-go names its UAPI socket after the interface), so returning to the regular wg-* names is another make-before-break, phases 1-4 without a key change.",
                p5, [], [], $"Until {node.KeyFile}.old is shredded, 'install -m 600 {node.KeyFile}.old {node.KeyFile}' and the inventory's old publicKey restore the previous state; the renaming has the rollbacks of phases 2-4."),
        };

        var notes = new List<string>
        {
            $"Parallel interfaces listen on the regular port + {o.PortOffset}; firewalls and NAT port forwards must admit them during the rotation.",
            $"Parallel /31s come from the top of {inv.Defaults.LinkPool}; the gate must admit them (lint OVL008 checks the pool).",
        };
        if (o.NewPublicKey is null) notes.Add($"{Placeholder} stands for the output of 'wg pubkey' in phase 1; re-plan with --new-public-key to get exact files.");

        return new RotationPlan(node.Name, RotationStrategy.MakeBeforeBreak, newKey, tunnels, phases, "", notes);
    }

    private static RotationPlan InPlace(Inventory inv, Node node, RotationOptions o)
    {
        string newKey = NewKeyText(o);
        string oldKey = node.PublicKey.ToBase64();
        string keyFile = NewKeyFile(node);
        string gate = string.Join(",", inv.Gate);
        var links = inv.TunnelsOf(node.Name).Select(t => (T: t, Peer: inv.GetNode(t.PeerOf(node.Name)))).ToList();
        var peerIf = links.Select(l => (l.Peer, Iface: Renderer.InterfaceName(l.Peer, node), l.T)).ToList();

        // Single-quoted when it holds brackets ([v6]:port): unquoted, '[' is a glob the shell could expand.
        string Endpoint(Node peer) => node.Endpoint is { } ep ? $" endpoint {ShellWord(ep with { Port = ep.Port + peer.Id })}" : "";
        string Keepalive(Tunnel t) => t.Keepalive ? $" persistent-keepalive {S(inv.Defaults.Keepalive)}" : "";

        var phases = new List<RotationPhase>
        {
            new(1, "Add the new key as a second peer entry on every peer",
                "The new entry gets no AllowedIPs yet: WireGuard maps every AllowedIPs prefix to exactly one peer per interface, so giving it the gate now would move all traffic to a key the node does not have yet.",
                [.. peerIf.Select(p => new NodeChange(p.Peer.Name, RotationChangeKind.AddPeer, p.Iface, [$"wg set {p.Iface} peer {newKey}{Endpoint(p.Peer)}{Keepalive(p.T)}"]))],
                [],
                [.. peerIf.Select(p => new NodeChange(p.Peer.Name, RotationChangeKind.RemovePeer, p.Iface, [$"wg set {p.Iface} peer {newKey} remove"]))],
                "Remove the new entries; nothing used them."),
            new(2, "Switch the node to the new private key",
                "From here until phase 3 reaches a peer, that peer's AllowedIPs still point at the old entry: it encrypts to the old key, which the node no longer has, and drops what the node sends back under the new key. OSPF hellos and BFD are lost with the data; BFD declares the tunnel down.",
                [.. links.Select(l => new NodeChange(node.Name, RotationChangeKind.SwitchPrivateKey, Renderer.InterfaceName(node, l.Peer), [$"wg set {Renderer.InterfaceName(node, l.Peer)} private-key {keyFile}"]))],
                [],
                [.. links.Select(l => new NodeChange(node.Name, RotationChangeKind.SwitchPrivateKey, Renderer.InterfaceName(node, l.Peer), [$"wg set {Renderer.InterfaceName(node, l.Peer)} private-key {node.KeyFile}"]))],
                "Switch back to the old key file; the loss window closes at once."),
            new(3, "Move AllowedIPs to the new entry on every peer",
                "Setting the gate on the new entry moves it off the old one (one peer per prefix). Each peer's part of the loss window ends when its command runs; peers are done one after another.",
                [.. peerIf.Select(p => new NodeChange(p.Peer.Name, RotationChangeKind.SetAllowedIps, p.Iface, [$"wg set {p.Iface} peer {newKey} allowed-ips {gate}"]))],
                [.. peerIf.Select(p => new Verification(p.Peer.Name, VerificationKind.Handshake, p.Iface, $"wg show {p.Iface} latest-handshakes", $"a handshake from {newKey}"))],
                [.. peerIf.Select(p => new NodeChange(p.Peer.Name, RotationChangeKind.SetAllowedIps, p.Iface, [$"wg set {p.Iface} peer {oldKey} allowed-ips {gate}"]))],
                "Give the gate back to the old entry, after switching the node back."),
            new(4, "Remove the old entry on every peer",
                "Only now is the old key unreachable everywhere.",
                [.. peerIf.Select(p => new NodeChange(p.Peer.Name, RotationChangeKind.RemovePeer, p.Iface, [$"wg set {p.Iface} peer {oldKey} remove"]))],
                [],
                [.. peerIf.Select(p => new NodeChange(p.Peer.Name, RotationChangeKind.AddPeer, p.Iface, [$"wg set {p.Iface} peer {oldKey}{Endpoint(p.Peer)}"]))],
                "Re-add the old entry."),
        };

        int peers = links.Count;
        var d = inv.Defaults;
        string window =
            $"Loss window: from phase 2 (node switches key) until phase 3 has run on the last of {peers} peer(s). Two peer entries share one interface's AllowedIPs, " +
            "and cryptokey routing sends each destination to exactly one of them: until the prefix moves, the peer encrypts to the old key and the node cannot decrypt. " +
            $"On top of the command latency, OSPF adjacencies time out ({S(d.OspfDead)}s dead interval) or BFD ({d.BfdMultiplier} x {(long)d.BfdMinRx.TotalMilliseconds}ms) tears them down, and routes must re-converge once handshakes resume. " +
            "Make-before-break has no such window: the new key lives on separate interfaces until traffic has moved.";
        return new RotationPlan(node.Name, RotationStrategy.InPlace, newKey, [], phases, window,
            ["Shown for comparison; use the make-before-break plan."]);
    }
}
