using Overlay.Core.Inventory;
using Overlay.Core.Net;

namespace Overlay.Core.Render;

/// <summary>
/// wg-quick configuration for one point-to-point interface. The private key is never written:
/// wg-quick loads it on the node with PostUp = wg set %i private-key FILE.
/// </summary>
internal static class WireGuardRenderer
{
    /// <param name="allowedIps">The gate, comma-separated.</param>
    public static string Render(Inventory.Inventory inventory, NodeLink link, string allowedIps)
    {
        var o = new TextOut();
        var t = link.Tunnel;
        o.Line($"# {Renderer.Header}");
        o.Line($"# {link.Self.Name} <-> {link.Peer.Name} ({Kind(t.Kind)}, OSPF cost {t.Cost}, link {t.Link})");
        o.Line("[Interface]");
        o.Line($"Address = {link.LocalAddress}/31");
        o.Line($"ListenPort = {link.ListenPort}");
        o.Line("Table = off");
        o.Line("# The private key never leaves the node; wg-quick loads it from the key file.");
        o.Line($"PostUp = wg set %i private-key {link.Self.KeyFile}");
        o.Line();
        o.Line("[Peer]");
        o.Line($"# {link.Peer.Name}");
        o.Line($"PublicKey = {link.Peer.PublicKey.ToBase64()}");
        o.Line($"AllowedIPs = {allowedIps}");
        if (link.PeerEndpoint is { } ep)
            o.Line($"Endpoint = {ep}");
        if (t.Keepalive)
            o.Line($"PersistentKeepalive = {(long)inventory.Defaults.Keepalive.TotalSeconds}");
        return o.Finish();
    }

    internal static string Kind(TunnelKind kind) => kind switch
    {
        TunnelKind.Mesh => "mesh",
        TunnelKind.HubSpoke => "hub-spoke",
        TunnelKind.HubHub => "hub-hub",
        _ => "shortcut",
    };
}
