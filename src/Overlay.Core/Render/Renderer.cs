using System.Globalization;
using System.Text;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Core.Render;

/// <summary>
/// Renders every node's configuration from a validated inventory. Pure and byte-for-byte
/// deterministic: the same inventory gives the same bytes (sorted, LF, no timestamps).
/// Layout per node: <c>NODE/wireguard/IFACE.conf</c>, <c>NODE/frr/frr.conf</c>, <c>NODE/overlayd.yaml</c> and, for nodes
/// that forward or have several tunnels, <c>NODE/sysctl.d/60-overlay.conf</c>.
/// </summary>
public static class Renderer
{
    public const string Header = "Rendered by overlayctl render from the inventory; do not edit.";

    /// <summary>All nodes' files (or one node's), sorted by path.</summary>
    public static IReadOnlyList<RenderedFile> Render(Inventory inventory, string? nodeName = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        RenderGuard.Check(inventory);
        // Sorted by "NAME/" rather than NAME: "a-b/..." comes before "a/...". Node names hold no '/', so
        // concatenating each node's sorted files in this order sorts all paths, without one big sort.
        var nodes = nodeName is null
            ? [.. inventory.Nodes.OrderBy(n => n.Name + "/", StringComparer.Ordinal)]
            : new[] { inventory.GetNode(nodeName) };
        var text = new InventoryText(inventory);
        // Nodes are independent, so they render in parallel; each keeps its own slot, so the output
        // does not depend on scheduling.
        var perNode = new List<RenderedFile>[nodes.Length];
        Parallel.For(0, nodes.Length, i => perNode[i] = RenderNode(text, text.Nodes[nodes[i].Name]));
        var files = new List<RenderedFile>(perNode.Sum(f => f.Count));
        foreach (var f in perNode) files.AddRange(f);
        return files;
    }

    private static List<RenderedFile> RenderNode(InventoryText text, NodeText self)
    {
        var links = NodeLinks.Of(text, self);
        string name = self.Node.Name;
        // All of the node's files go into one buffer; each file is a slice of it.
        var slices = new List<(string Path, int Start, int Length)>(links.Count + 2);
        using var o = new Utf8Out(BytesPerLink * links.Count + 16384);
        // In path order: frr/, overlayd.yaml, sysctl.d/, wireguard/ (links come in interface order, which is path
        // order unless a short name holds a character below '.').
        FrrRenderer.Render(o, text, self, links);
        slices.Add(($"{name}/frr/frr.conf", 0, o.Length));
        int overlayd = o.Length;
        OverlaydRenderer.Render(o, text, self, links);
        slices.Add(($"{name}/overlayd.yaml", overlayd, o.Length - overlayd));
        int sysctl = o.Length;
        if (SysctlRenderer.Render(o, text, self))
            slices.Add(($"{name}/{SysctlRenderer.RelativePath}", sysctl, o.Length - sysctl));
        foreach (var link in links)
        {
            int start = o.Length;
            WireGuardRenderer.Render(o, text, link);
            slices.Add(($"{name}/wireguard/{link.Interface}.conf", start, o.Length - start));
        }
        foreach (var ai in AnycastEndpoints.InterfacesOf(text.Inventory, self.Node))
        {
            int start = o.Length;
            if (ai.Member) WireGuardRenderer.RenderAnycastMember(o, text, self.Node, ai);
            else WireGuardRenderer.RenderAnycastClient(o, text, self.Node, ai);
            slices.Add(($"{name}/wireguard/{ai.Name}.conf", start, o.Length - start));
        }

        var bytes = o.ToArray();
        var files = new List<RenderedFile>(slices.Count);
        foreach (var (path, start, length) in slices)
            files.Add(new RenderedFile(path, new ReadOnlyMemory<byte>(bytes, start, length), ModeOf(path)));
        if (!IsSorted(files)) files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return files;
    }

    /// <summary>WireGuard configs 0600 (wg-quick warns about anything looser); frr.conf and overlayd.yaml 0640.</summary>
    internal static UnixFileMode ModeOf(string relativePath) =>
        relativePath.Contains("/wireguard/", StringComparison.Ordinal) ? RenderedFile.PrivateMode : RenderedFile.DefaultMode;

    /// <summary>About what one link adds to a node's files (WireGuard file, frr.conf and overlayd.yaml blocks): the first buffer size.</summary>
    private const int BytesPerLink = 1152;

    private static bool IsSorted(List<RenderedFile> files)
    {
        for (int i = 1; i < files.Count; i++)
            if (string.CompareOrdinal(files[i - 1].RelativePath, files[i].RelativePath) > 0) return false;
        return true;
    }

    /// <summary>The interface a node uses toward a peer: "wg-" + own short + "-" + peer short (at most 14 characters).</summary>
    public static string InterfaceName(Node self, Node peer) => $"wg-{self.Short}-{peer.Short}";
}

/// <summary>
/// What the files of every node say alike, formatted once per render: the inventory-wide values, and
/// for each node what its peers write about it (a 1000-node mesh writes each node's key 999 times).
/// </summary>
internal sealed class InventoryText
{
    public InventoryText(Inventory inventory)
    {
        Inventory = inventory;
        var d = inventory.Defaults;
        AllowedIps = Encoding.UTF8.GetBytes(string.Join(", ", inventory.Gate.Select(p => p.ToString())));
        Keepalive = DurationText.Format(d.Keepalive);
        OspfHello = Seconds(d.OspfHello);
        OspfDead = Seconds(d.OspfDead);
        // Interface names share "wg-SELF-", so ordering a node's interfaces is ordering its peers' short names.
        var shortRanks = inventory.Nodes.Select(n => n.Short).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i, StringComparer.Ordinal);
        Nodes = new Dictionary<string, NodeText>(inventory.Nodes.Count, StringComparer.Ordinal);
        foreach (var n in inventory.Nodes) Nodes.TryAdd(n.Name, new NodeText(n, shortRanks[n.Short]));
    }

    public Inventory Inventory { get; }
    public Dictionary<string, NodeText> Nodes { get; }
    /// <summary>The gate, comma-separated: every WireGuard peer's AllowedIPs.</summary>
    public byte[] AllowedIps { get; }
    /// <summary>The gate as a YAML flow list: every overlayd interface's gate.</summary>
    public string Keepalive { get; }
    public string OspfHello { get; }
    public string OspfDead { get; }

    private static string Seconds(TimeSpan t) => ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture);
}

/// <summary>A node and its text as its peers' files write it.</summary>
internal sealed class NodeText(Node node, int shortRank)
{
    public Node Node { get; } = node;
    public byte[] Name { get; } = Encoding.UTF8.GetBytes(node.Name);
    /// <summary>The name as a YAML scalar.</summary>
    public byte[] PublicKey { get; } = Encoding.UTF8.GetBytes(node.PublicKey.ToBase64());
    /// <summary>The endpoint's host as WireGuard writes it, with the ':' before the port.</summary>
    public byte[]? EndpointHost { get; } = node.Endpoint is { } ep ? Encoding.UTF8.GetBytes(ep.HostText + ":") : null;
    /// <summary>Position of <see cref="Node.Short"/> among all short names in ordinal order.</summary>
    public int ShortRank { get; } = shortRank;
}

/// <summary>One end of a tunnel, seen from the node being rendered.</summary>
internal sealed class NodeLink
{
    public NodeLink(NodeText self, NodeText peer, Tunnel tunnel)
    {
        Self = self;
        Peer = peer;
        Tunnel = tunnel;
        Interface = Renderer.InterfaceName(self.Node, peer.Node);
        // Each side listens on its base port + the other side's id: unique per node, stable when nodes are added.
        ListenPort = self.Node.ListenPort + peer.Node.Id;
        // The peer's interface toward this node listens on its endpoint's base port + this node's id.
        PeerEndpointPort = peer.Node.Endpoint is { } ep ? ep.Port + self.Node.Id : 0;
        LocalAddress = tunnel.AddressOf(self.Node.Name);
        PeerAddress = tunnel.AddressOf(peer.Node.Name);
    }

    public NodeText Self { get; }
    public NodeText Peer { get; }
    public Tunnel Tunnel { get; }
    public string Interface { get; }
    public int ListenPort { get; }
    public int PeerEndpointPort { get; }
    public System.Net.IPAddress LocalAddress { get; }
    public System.Net.IPAddress PeerAddress { get; }
}

internal static class NodeLinks
{
    /// <summary>The node's links, ordered by interface name (ordinal).</summary>
    public static List<NodeLink> Of(InventoryText text, NodeText node)
    {
        var tunnels = text.Inventory.TunnelsOf(node.Node.Name);
        var links = new NodeLink[tunnels.Count];
        for (int i = 0; i < links.Length; i++)
            links[i] = new NodeLink(node, text.Nodes[tunnels[i].PeerOf(node.Node.Name)], tunnels[i]);
        // OrderBy is stable: equal short names (which the parser rejects) would keep tunnel order.
        return [.. links.OrderBy(l => l.Peer.ShortRank)];
    }
}
