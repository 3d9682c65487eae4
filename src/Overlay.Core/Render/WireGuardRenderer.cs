using Overlay.Core.Inventory;

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

    internal static string Kind(TunnelKind kind) => kind switch
    {
        TunnelKind.Mesh => "mesh",
        TunnelKind.HubSpoke => "hub-spoke",
        TunnelKind.HubHub => "hub-hub",
        _ => "shortcut",
    };
}
