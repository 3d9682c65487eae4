using System.Net;
using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Net;
using Inventory = Overlay.Core.Inventories.Inventory;
using VipModel = Overlay.Core.Inventories.Vip;

namespace Overlay.Core.Tests.Lint;

/// <summary>
/// A small hub-and-spoke inventory that lint finds nothing wrong with, built as records so each rule's
/// case can break exactly one thing (several cases are ones the parser already refuses; lint must
/// still catch them in inventories built or edited by other tools).
/// </summary>
internal static class LintFixtures
{
    public const string FileName = "inv.yaml";

    public static WireGuardKey Key(int seed) => new(Enumerable.Repeat((byte)seed, 32).ToArray());

    public static SourceLocation At(int line) => new(FileName, line, 3);

    public static Node MakeNode(string name, int id, NodeRole role, string? endpointHost, bool nat = false,
        string? overlay = null, string[]? subnets = null, int upstreams = 0) => new(
        name, id, $"n{id}", "dc1", role,
        IPAddress.Parse(overlay ?? $"10.0.0.{id}"), null,
        (subnets ?? []).Select((s, i) => new AnnouncedSubnet(IpPrefix.Parse(s), At(id * 10 + 5 + i))).ToList(),
        endpointHost is null ? null : new UnderlayEndpoint(endpointHost, 51820),
        nat, Key(id), "/etc/overlay/wg-private.key", 51820, 65000 + id,
        Enumerable.Range(0, upstreams).Select(i => new BgpUpstream(IPAddress.Parse($"192.0.2.{100 + i}"), 64500, At(id * 10 + 8))).ToList(),
        At(id * 10));

    public static Tunnel MakeTunnel(Node x, Node y, TunnelKind kind, int cost)
    {
        var (a, b) = x.Id < y.Id ? (x, y) : (y, x);
        ulong index = (ulong)(b.Id - 1) * (ulong)(b.Id - 2) / 2 + (ulong)(a.Id - 1);
        UInt128 bits = IpPrefix.Parse("10.255.0.0/16").Bits + 2 * (UInt128)index;
        return new Tunnel(a.Name, b.Name, kind, cost, IpPrefix.Create(IpPrefix.ToAddress(bits, false), 31),
            IpPrefix.ToAddress(bits, false), IpPrefix.ToAddress(bits + 1, false), a.BehindNat || b.BehindNat);
    }

    public static Inventory Clean()
    {
        var hub1 = MakeNode("hub1", 1, NodeRole.Hub, "192.0.2.1", subnets: ["10.1.0.0/16"]);
        var hub2 = MakeNode("hub2", 2, NodeRole.Hub, "192.0.2.2");
        var spoke1 = MakeNode("spoke1", 3, NodeRole.Spoke, null, nat: true, subnets: ["10.3.0.0/16"]);
        var edge1 = MakeNode("edge1", 4, NodeRole.Edge, "192.0.2.4", upstreams: 1);
        return Build([hub1, hub2, spoke1, edge1], primaryCost: 10, secondaryCost: 20);
    }

    public static Inventory Build(IReadOnlyList<Node> nodes, int primaryCost, int secondaryCost,
        IReadOnlyList<IpPrefix>? gate = null, string vipName = "web")
    {
        var hubs = nodes.Where(n => n.Role == NodeRole.Hub).ToList();
        var tunnels = new List<Tunnel>();
        if (hubs.Count == 2) tunnels.Add(MakeTunnel(hubs[0], hubs[1], TunnelKind.HubHub, 5));
        foreach (var hub in hubs)
            foreach (var n in nodes.Where(n => n.Role != NodeRole.Hub))
                tunnels.Add(MakeTunnel(hub, n, TunnelKind.HubSpoke, hub == hubs[0] ? primaryCost : secondaryCost));
        var topology = new Topology(TopologyKind.HubAndSpoke,
            hubs.Count > 0 ? new HubRef(hubs[0].Name, primaryCost, At(2)) : null,
            hubs.Count > 1 ? new HubRef(hubs[1].Name, secondaryCost, At(3)) : null,
            5, [], At(1));
        return new Inventory(FileName, nodes, topology,
            [new VipModel(vipName, IpPrefix.Parse("203.0.113.10/32"), ["edge1"], "default", At(90))],
            [HealthPolicy.Default("default")],
            gate ?? [IpPrefix.Parse("10.0.0.0/8"), IpPrefix.Parse("224.0.0.5/32"), IpPrefix.Parse("224.0.0.6/32")],
            InventoryDefaults.Standard, FrrSettings.Standard, DaemonSettings.Standard, tunnels);
    }

    public static Inventory Replace(Inventory inv, string name, Func<Node, Node> change) =>
        inv with { Nodes = inv.Nodes.Select(n => n.Name == name ? change(n) : n).ToList() };

    /// <summary>Every key file 0600 except the ones listed.</summary>
    public sealed class Files(Dictionary<string, UnixFileMode>? modes = null) : IFileSystemView
    {
        public UnixFileMode? GetMode(string node, string path) =>
            modes is not null && modes.TryGetValue(node, out var m) ? m : UnixFileMode.UserRead | UnixFileMode.UserWrite;
    }
}
