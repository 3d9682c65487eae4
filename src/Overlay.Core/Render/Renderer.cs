using System.Runtime.CompilerServices;
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
        // Sorted by "NAME/" rather than NAME: "a-b/..." comes before "a/...". Node names hold no '/', so
        // concatenating each node's sorted files in this order sorts all paths, without one big sort.
        var nodes = nodeName is null
            ? [.. inventory.Nodes.OrderBy(n => n.Name + "/", StringComparer.Ordinal)]
            : new[] { inventory.GetNode(nodeName) };
        // The same on every interface of every node: formatted once, not once per file.
        string allowedIps = string.Join(", ", inventory.Gate.Select(p => p.ToString()));
        // Nodes are independent, so they render in parallel; each keeps its own slot, so the output
        // does not depend on scheduling.
        var perNode = new List<RenderedFile>[nodes.Length];
        Parallel.For(0, nodes.Length, i => perNode[i] = RenderNode(inventory, nodes[i], allowedIps));
        var files = new List<RenderedFile>(perNode.Sum(f => f.Count));
        foreach (var f in perNode) files.AddRange(f);
        return files;
    }

    private static List<RenderedFile> RenderNode(Inventory.Inventory inventory, Node node, string allowedIps)
    {
        var links = NodeLinks.Of(inventory, node);
        var files = new List<RenderedFile>(links.Count + 2);
        foreach (var link in links)
            files.Add(new RenderedFile($"{node.Name}/wireguard/{link.Interface}.conf", WireGuardRenderer.Render(inventory, link, allowedIps)));
        files.Add(new RenderedFile($"{node.Name}/frr/frr.conf", FrrRenderer.Render(inventory, node, links)));
        files.Add(new RenderedFile($"{node.Name}/overlayd.yaml", OverlaydRenderer.Render(inventory, node, links)));
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

/// <summary>
/// Writes LF-terminated lines. Interpolated lines are formatted straight into the buffer, and the buffer
/// is reused by the thread's next file: a 1000-node mesh renders a million small files, and a string
/// per line plus a fresh buffer per file made the garbage collector most of the work.
/// </summary>
internal sealed class TextOut
{
    [ThreadStatic] private static StringBuilder? t_spare;
    private readonly StringBuilder _sb;

    public TextOut()
    {
        _sb = t_spare ?? new StringBuilder(4096);
        t_spare = null;
        _sb.Clear();
    }

    internal StringBuilder Builder => _sb;

    public TextOut Line(string text = "") { _sb.Append(text).Append('\n'); return this; }

    public TextOut Line([InterpolatedStringHandlerArgument("")] ref LineHandler line) { _sb.Append('\n'); return this; }

    /// <summary>The text written; the buffer goes back for reuse, so write nothing after this.</summary>
    public string Finish()
    {
        string text = _sb.ToString();
        t_spare = _sb;
        return text;
    }
}

/// <summary>Formats an interpolated line into <see cref="TextOut"/>'s buffer (same culture rules as string interpolation).</summary>
[InterpolatedStringHandler]
internal ref struct LineHandler
{
    private StringBuilder.AppendInterpolatedStringHandler _inner;

    public LineHandler(int literalLength, int formattedCount, TextOut output) =>
        _inner = new StringBuilder.AppendInterpolatedStringHandler(literalLength, formattedCount, output.Builder);

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);
    public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);
    public void AppendFormatted(string? value) => _inner.AppendFormatted(value);
}
