using Overlay.Core.Inventories;

namespace Overlay.Core.Render;

/// <summary>
/// wg-quick configuration for one point-to-point interface. The private key is never written:
/// wg-quick loads it on the node with PostUp = wg set %i private-key FILE.
/// </summary>
internal static class WireGuardRenderer
{
    public static void Render(Utf8Out o, InventoryText text, NodeLink link)
    {
        var t = link.Tunnel;
        o.Line($"# {Renderer.Header}");
        o.Line($"# {link.Self.Name} <-> {link.Peer.Name} ({Kind(t.Kind)}, OSPF cost {t.Cost}, link {t.Link})");
        o.Line("[Interface]");
        o.Line($"Address = {link.LocalAddress}/31");
        o.Line($"ListenPort = {link.ListenPort}");
        o.Line("Table = off");
        o.Line("# The private key never leaves the node; wg-quick loads it from the key file.");
        o.Line($"PostUp = wg set %i private-key {link.Self.Node.KeyFile}");
        o.Line();
        o.Line("[Peer]");
        o.Line($"# {link.Peer.Name}");
        o.Line($"PublicKey = {link.Peer.PublicKey}");
        o.Line($"AllowedIPs = {text.AllowedIps}");
        if (link.Peer.EndpointHost is { } host)
            o.Line($"Endpoint = {host}{link.PeerEndpointPort}");
        // From the NAT's UDP timeout unless defaults.keepalive is written (Nat/KeepaliveAdvice.cs, docs/nat.md).
        if (t.Keepalive)
            o.Line($"PersistentKeepalive = {(long)Nat.KeepaliveAdvice.For(link.Self.Node, link.Peer.Node, text.Inventory.Defaults).TotalSeconds}");
    }

    /// <summary>
    /// A member's interface on the VIP's anycast endpoint: the shared key (from the VIP's key file), the common tunnel
    /// address and the member's health link address; its health peer (kept alive, with an endpoint) and every client
    /// (no endpoint: learnt from the client's handshake, whichever member the route brings it to).
    /// </summary>
    public static void RenderAnycastMember(Utf8Out o, InventoryText text, Node node, AnycastInterface ai)
    {
        var w = ai.WireGuard;
        var h = w.HealthOf(node.Name)!;
        o.Line($"# {Renderer.Header}");
        o.Line($"# {node.Name}: anycast WireGuard endpoint of VIP {ai.Vip.Name} ({ai.Vip.Prefix.Address}:{w.Port}), the same key on every member ({string.Join(", ", ai.Vip.Members)})");
        o.Line("[Interface]");
        o.Line($"Address = {w.Address.ToString()}, {h.Address.ToString()}");
        o.Line($"ListenPort = {w.Port}");
        o.Line("Table = off");
        o.Line("# The VIP's private key never leaves the members; wg-quick loads it from the key file.");
        o.Line($"PostUp = wg set %i private-key {w.KeyFile}");
        o.Line();
        o.Line("[Peer]");
        o.Line($"# health peer {h.Name}: overlayd watches it (keepalive, BFD) to decide whether {node.Name} advertises the VIP");
        o.Line($"PublicKey = {h.PublicKey.ToBase64()}");
        o.Line($"AllowedIPs = {h.PeerAddress}/32");
        o.Line($"Endpoint = {h.Endpoint.ToString()}");
        o.Line($"PersistentKeepalive = {(long)h.Keepalive.TotalSeconds}");
        foreach (var c in AnycastEndpoints.ClientsOf(text.Inventory, ai.Vip))
        {
            o.Line();
            o.Line("[Peer]");
            o.Line($"# client {c.Name}");
            o.Line($"PublicKey = {text.Nodes[c.Name].PublicKey}");
            o.Line($"AllowedIPs = {c.AnycastEndpoint!.Address!.Address}/32");
        }
    }

    /// <summary>A client's interface to the VIP's anycast endpoint: its own key and address, one peer (the VIP's key at the VIP).</summary>
    public static void RenderAnycastClient(Utf8Out o, InventoryText text, Node node, AnycastInterface ai)
    {
        var w = ai.WireGuard;
        o.Line($"# {Renderer.Header}");
        o.Line($"# {node.Name}: client of VIP {ai.Vip.Name}'s anycast WireGuard endpoint (served by {string.Join(", ", ai.Vip.Members)})");
        o.Line("[Interface]");
        o.Line($"Address = {node.AnycastEndpoint!.Address!.ToString()}");
        o.Line($"ListenPort = {node.ListenPort}");
        o.Line("Table = off");
        o.Line("# The private key never leaves the node; wg-quick loads it from the key file.");
        o.Line($"PostUp = wg set %i private-key {node.KeyFile}");
        o.Line();
        o.Line("[Peer]");
        o.Line($"# VIP {ai.Vip.Name} (anycast: whichever member the route reaches answers)");
        o.Line($"PublicKey = {w.PublicKey.ToBase64()}");
        o.Line($"AllowedIPs = {w.Address.Address}/32");
        o.Line($"Endpoint = {ai.Vip.Prefix.Address}:{w.Port}");
        if (node.BehindNat)
            o.Line($"PersistentKeepalive = {(long)Nat.KeepaliveAdvice.For(node, node, text.Inventory.Defaults).TotalSeconds}");
    }

    internal static string Kind(TunnelKind kind) => kind switch
    {
        TunnelKind.Mesh => "mesh",
        TunnelKind.HubSpoke => "hub-spoke",
        TunnelKind.HubHub => "hub-hub",
        _ => "shortcut",
    };
}
