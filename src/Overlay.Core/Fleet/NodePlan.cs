using System.Globalization;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Core.Fleet;

/// <summary>What was read from one node. <see cref="KeyPublicKey"/> is 'wg pubkey' of the node's key file, null when it has none.</summary>
public sealed record NodeRunningState(string Node, IReadOnlyList<WgInterface> WireGuard, string FrrRunningConfig, string? OverlaydYaml, string? KeyPublicKey);

public enum PlanChangeKind
{
    Added,
    Removed,
    Changed,
}

public enum KeyStatus
{
    /// <summary>The node's key file holds the key of the inventory's publicKey.</summary>
    Matches,
    /// <summary>No key file: apply generates one on the node and reports its public key.</summary>
    Missing,
    /// <summary>The key file holds another key: the inventory (or the file) is wrong; apply refuses the node.</summary>
    Differs,
}

/// <summary>A peer added, removed or changed on an interface; <see cref="What"/> names the fields that differ.</summary>
public sealed record WgPeerChange(PlanChangeKind Kind, string PublicKey, WgPeer? Before, WgPeer? After, IReadOnlyList<string> What);

public sealed record WgInterfaceChange(PlanChangeKind Kind, string Interface, WgInterface? Before, WgInterface? After, IReadOnlyList<WgPeerChange> Peers)
{
    public bool ListenPortChanged => Before is not null && After is not null && Before.ListenPort != After.ListenPort;
    public bool AddressChanged => Before is not null && After is not null && After.Address is not null && Before.Address != After.Address;
}

/// <summary>One node's plan: what differs between what runs and what the inventory renders, and how apply changes it.</summary>
public sealed record NodePlan(
    string Node,
    KeyStatus Key,
    string? NodePublicKey,
    IReadOnlyList<WgInterfaceChange> WireGuard,
    IReadOnlyList<FrrChange> Frr,
    /// <summary>The overlayd.yaml line diff ("+ line", "- line"); empty when equal.</summary>
    IReadOnlyList<string> Overlayd,
    bool OverlaydMissing,
    IReadOnlyList<string> Problems)
{
    public bool HasChanges => Key == KeyStatus.Missing || WireGuard.Count > 0 || Frr.Count > 0 || Overlayd.Count > 0 || OverlaydMissing;

    public IEnumerable<string> AddedInterfaces => WireGuard.Where(w => w.Kind == PlanChangeKind.Added).Select(w => w.Interface);
    public IEnumerable<string> RemovedInterfaces => WireGuard.Where(w => w.Kind == PlanChangeKind.Removed).Select(w => w.Interface);

    /// <summary>FRR changes apply makes before any tunnel is removed: everything but the stanzas of removed interfaces.</summary>
    public IReadOnlyList<FrrChange> FrrMake => [.. Frr.Where(c => !RemovedInterfaces.Any(i => FleetPlanner.Concerns(c, i)))];

    /// <summary>FRR changes that go with a removed tunnel, after it is costed out and its link is gone.</summary>
    public IReadOnlyList<FrrChange> FrrBreak => [.. Frr.Where(c => RemovedInterfaces.Any(i => FleetPlanner.Concerns(c, i)))];
}

/// <summary>
/// Pure: compares a node's running state with the inventory's rendering of it. WireGuard with syncconf semantics
/// (peers compared one by one: only a changed peer is touched), FRR as a tree diff (<see cref="FrrDiff"/>),
/// overlayd.yaml as lines.
/// </summary>
public static class FleetPlanner
{
    /// <summary>OSPF cost a tunnel gets before it is removed: every other path wins, so traffic moves off it first.</summary>
    public const int CostOut = 65535;

    public static NodePlan Plan(Inventory inventory, string node, NodeRunningState running, IReadOnlyList<RenderedFile>? rendered = null)
    {
        var n = inventory.GetNode(node);
        rendered ??= Renderer.Render(inventory, node);
        string frrConf = rendered.Single(f => f.RelativePath == $"{node}/frr/frr.conf").Content;
        string overlayd = rendered.Single(f => f.RelativePath == $"{node}/overlayd.yaml").Content;
        var problems = new List<string>();

        var key = running.KeyPublicKey is null ? KeyStatus.Missing
            : running.KeyPublicKey == n.PublicKey.ToBase64() ? KeyStatus.Matches : KeyStatus.Differs;
        if (key == KeyStatus.Differs)
            problems.Add($"the key file {n.KeyFile} holds the private key of {running.KeyPublicKey}, the inventory says {n.PublicKey.ToBase64()}: "
                + "record the node's public key in the inventory (or restore its key file); nothing is applied to this node until they match");

        var wg = DiffWireGuard(running.WireGuard, WireGuardState.Desired(inventory, node), WireGuardState.ManagedPrefix(inventory, node));
        var frr = FrrDiff.Compute(FrrConfigTree.Parse(running.FrrRunningConfig), FrrConfigTree.Parse(frrConf));
        foreach (var c in frr.Where(c => c.Kind == FrrChangeKind.Remove && c.IsStanza && c.Path.Count == 0
                                         && (c.Line.StartsWith("router ", StringComparison.Ordinal) || c.Line == "bfd")))
            problems.Add($"FRR: the plan would remove the whole '{c.Line}' stanza, which drops every session it holds; refused "
                + "(a whole-file reload's classic way of wiping a router): change it by hand if that is really meant");

        return new NodePlan(node, key, running.KeyPublicKey, wg, frr, running.OverlaydYaml is null ? [] : LineDiff(running.OverlaydYaml, overlayd),
            running.OverlaydYaml is null, problems);
    }

    public static IReadOnlyList<WgInterfaceChange> DiffWireGuard(IReadOnlyList<WgInterface> running, IReadOnlyList<WgInterface> desired, string managedPrefix)
    {
        var changes = new List<WgInterfaceChange>();
        var have = running.ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var d in desired)
        {
            if (!have.TryGetValue(d.Name, out var r))
            {
                changes.Add(new WgInterfaceChange(PlanChangeKind.Added, d.Name, null, d,
                    [.. d.Peers.Select(p => new WgPeerChange(PlanChangeKind.Added, p.PublicKey, null, p, []))]));
                continue;
            }
            var peers = new List<WgPeerChange>();
            var rp = r.Peers.ToDictionary(p => p.PublicKey, StringComparer.Ordinal);
            foreach (var p in d.Peers)
            {
                if (!rp.TryGetValue(p.PublicKey, out var before)) { peers.Add(new WgPeerChange(PlanChangeKind.Added, p.PublicKey, null, p, [])); continue; }
                var what = new List<string>();
                if (!before.AllowedIps.SequenceEqual(p.AllowedIps)) what.Add("allowed-ips");
                if (!WireGuardState.EndpointMatches(before.Endpoint, p.Endpoint)) what.Add("endpoint");
                if (before.Keepalive != p.Keepalive) what.Add("persistent-keepalive");
                if (what.Count > 0) peers.Add(new WgPeerChange(PlanChangeKind.Changed, p.PublicKey, before, p, what));
            }
            foreach (var p in r.Peers.Where(p => !d.Peers.Any(x => x.PublicKey == p.PublicKey)))
                peers.Add(new WgPeerChange(PlanChangeKind.Removed, p.PublicKey, p, null, []));
            var change = new WgInterfaceChange(PlanChangeKind.Changed, d.Name, r, d, peers);
            if (peers.Count > 0 || change.ListenPortChanged || change.AddressChanged) changes.Add(change);
        }
        foreach (var r in running.Where(r => r.Name.StartsWith(managedPrefix, StringComparison.Ordinal) && !desired.Any(d => d.Name == r.Name)))
            changes.Add(new WgInterfaceChange(PlanChangeKind.Removed, r.Name, r, null, [.. r.Peers.Select(p => new WgPeerChange(PlanChangeKind.Removed, p.PublicKey, p, null, []))]));
        return changes;
    }

    /// <summary>
    /// The 'wg set' argument vectors that bring a changed interface to the inventory's peers: listen port, then added and
    /// changed peers (each fully specified), then removed peers last, so the new entry exists before the old one goes.
    /// Unchanged peers are not named at all: their sessions are not touched.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> WgSetCommands(WgInterfaceChange change)
    {
        var cmds = new List<IReadOnlyList<string>>();
        if (change.Kind != PlanChangeKind.Changed) return cmds;
        if (change.ListenPortChanged) cmds.Add(["wg", "set", change.Interface, "listen-port", change.After!.ListenPort.ToString(CultureInfo.InvariantCulture)]);
        foreach (var p in change.Peers.Where(p => p.Kind != PlanChangeKind.Removed))
        {
            var peer = p.After!;
            var argv = new List<string> { "wg", "set", change.Interface, "peer", peer.PublicKey, "allowed-ips", string.Join(',', peer.AllowedIps) };
            if (peer.Endpoint is not null) argv.AddRange(["endpoint", peer.Endpoint]);
            argv.AddRange(["persistent-keepalive", peer.Keepalive == 0 ? "off" : peer.Keepalive.ToString(CultureInfo.InvariantCulture)]);
            cmds.Add(argv);
        }
        foreach (var p in change.Peers.Where(p => p.Kind == PlanChangeKind.Removed))
            cmds.Add(["wg", "set", change.Interface, "peer", p.PublicKey, "remove"]);
        return cmds;
    }

    /// <summary>Whether an FRR change is about one interface: its stanza, or a BFD peer on it.</summary>
    public static bool Concerns(FrrChange c, string iface) =>
        c.Line == $"interface {iface}" || c.Line.EndsWith($" interface {iface}", StringComparison.Ordinal)
        || c.Path.Any(p => p == $"interface {iface}" || p.EndsWith($" interface {iface}", StringComparison.Ordinal));

    /// <summary>A line diff ("- old", "+ new") by longest common subsequence; overlayd.yaml files are a few hundred lines.</summary>
    public static IReadOnlyList<string> LineDiff(string before, string after)
    {
        var a = before.Replace("\r", "", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        var b = after.Replace("\r", "", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        if (a.SequenceEqual(b)) return [];
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
            for (int j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var result = new List<string>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { x++; y++; }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1])) result.Add("- " + a[x++]);
            else result.Add("+ " + b[y++]);
        }
        return result;
    }
}
