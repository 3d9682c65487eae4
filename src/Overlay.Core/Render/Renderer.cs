using System.Text;
using Overlay.Core.Inventory;

namespace Overlay.Core.Render;

/// <summary>
/// Renders every node's configuration from a validated inventory. Pure and byte-for-byte
/// deterministic: the same inventory gives the same bytes (sorted, LF, no timestamps).
/// Layout per node: <c>NODE/wireguard/IFACE.conf</c>, <c>NODE/frr/frr.conf</c>, <c>NODE/overlayd.yaml</c>.
/// </summary>
public static class Renderer
{
    public const string Header = "Rendered by overlayctl render from the inventory; do not edit.";

    /// <summary>All nodes' files (or one node's), sorted by path.</summary>
    public static IReadOnlyList<RenderedFile> Render(Inventory.Inventory inventory, string? nodeName = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var nodes = nodeName is null ? inventory.Nodes : [inventory.GetNode(nodeName)];
        var files = new List<RenderedFile>();
        foreach (var node in nodes)
        {
            var links = NodeLinks.Of(inventory, node);
            foreach (var link in links)
                files.Add(new RenderedFile($"{node.Name}/wireguard/{link.Interface}.conf", WireGuardRenderer.Render(inventory, link)));
            files.Add(new RenderedFile($"{node.Name}/frr/frr.conf", FrrRenderer.Render(inventory, node, links)));
            files.Add(new RenderedFile($"{node.Name}/overlayd.yaml", OverlaydRenderer.Render(inventory, node, links)));
        }
        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return files;
    }

    /// <summary>The interface a node uses toward a peer: "wg-" + own short + "-" + peer short (at most 14 characters).</summary>
    public static string InterfaceName(Node self, Node peer) => $"wg-{self.Short}-{peer.Short}";
}

/// <summary>One end of a tunnel, seen from the node being rendered.</summary>
internal sealed record NodeLink(Node Self, Node Peer, Tunnel Tunnel, string Interface, int ListenPort)
{
    /// <summary>Where the peer's interface toward this node is reached: its endpoint's base port + this node's id.</summary>
    public UnderlayEndpoint? PeerEndpoint => Peer.Endpoint is { } ep ? ep with { Port = ep.Port + Self.Id } : null;

    public System.Net.IPAddress LocalAddress => Tunnel.AddressOf(Self.Name);
    public System.Net.IPAddress PeerAddress => Tunnel.AddressOf(Peer.Name);
}

internal static class NodeLinks
{
    public static List<NodeLink> Of(Inventory.Inventory inventory, Node node) =>
        [.. inventory.TunnelsOf(node.Name)
            .Select(t =>
            {
                var peer = inventory.GetNode(t.PeerOf(node.Name));
                // Each side listens on its base port + the other side's id: unique per node, stable when nodes are added.
                return new NodeLink(node, peer, t, Renderer.InterfaceName(node, peer), node.ListenPort + peer.Id);
            })
            .OrderBy(l => l.Interface, StringComparer.Ordinal)];
}

/// <summary>A StringBuilder that always writes LF.</summary>
internal sealed class TextOut
{
    private readonly StringBuilder _sb = new();
    public TextOut Line(string text = "") { _sb.Append(text).Append('\n'); return this; }
    public override string ToString() => _sb.ToString();
}
