using System.Globalization;
using System.Net;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Core.Fleet;

/// <summary>One WireGuard peer as 'wg show IFACE dump' reports it and as the inventory wants it (public key only, ever).</summary>
public sealed record WgPeer(string PublicKey, IReadOnlyList<string> AllowedIps, string? Endpoint, int Keepalive)
{
    public bool Equals(WgPeer? other) => other is not null && PublicKey == other.PublicKey && AllowedIps.SequenceEqual(other.AllowedIps)
        && Endpoint == other.Endpoint && Keepalive == other.Keepalive;

    public override int GetHashCode() => HashCode.Combine(PublicKey, AllowedIps.Count, Endpoint, Keepalive);
}

/// <summary>One WireGuard interface: its listen port, its tunnel address (CIDR, null when unknown) and its peers.</summary>
public sealed record WgInterface(string Name, int ListenPort, string? Address, IReadOnlyList<WgPeer> Peers);

public static class WireGuardState
{
    /// <summary>
    /// Parses what the node's read script prints: 'wg show IFACE dump' lines with the private and preshared key fields
    /// replaced on the node (they never travel), and 'addr IFACE CIDR' lines. Interface lines have 5 tab-separated
    /// fields (name, -, public key, listen port, fwmark), peer lines 9 (name, public key, -, endpoint, allowed ips,
    /// latest handshake, rx, tx, keepalive).
    /// </summary>
    public static IReadOnlyList<WgInterface> ParseDump(string text)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
        var peers = new Dictionary<string, List<WgPeer>>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var f = raw.TrimEnd('\r').Split('\t');
            if (f.Length == 3 && f[0] == "addr") { addresses[f[1]] = f[2]; continue; }
            if (f.Length == 5)
            {
                ports[f[0]] = int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 0;
                peers.TryAdd(f[0], []);
            }
            else if (f.Length == 9)
            {
                var allowed = f[4] == "(none)" ? [] : f[4].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal).ToList();
                int keepalive = int.TryParse(f[8], NumberStyles.None, CultureInfo.InvariantCulture, out int k) ? k : 0;
                if (!peers.TryGetValue(f[0], out var list)) peers[f[0]] = list = [];
                list.Add(new WgPeer(f[1], allowed, f[3] == "(none)" ? null : f[3], keepalive));
            }
        }
        return [.. peers.Keys.Order(StringComparer.Ordinal).Select(n => new WgInterface(n, ports.GetValueOrDefault(n), addresses.GetValueOrDefault(n),
            [.. peers[n].OrderBy(p => p.PublicKey, StringComparer.Ordinal)]))];
    }

    /// <summary>The node's interfaces as the inventory renders them (the same links as its wg-quick files).</summary>
    public static IReadOnlyList<WgInterface> Desired(Inventory inventory, string node)
    {
        var text = new InventoryText(inventory);
        var self = text.Nodes[inventory.GetNode(node).Name];
        var gate = inventory.Gate.Select(p => p.ToString()).Order(StringComparer.Ordinal).ToList();
        return [.. NodeLinks.Of(text, self).Select(l => new WgInterface(l.Interface, l.ListenPort, $"{l.LocalAddress}/31",
            [new WgPeer(l.Peer.Node.PublicKey.ToBase64(), gate,
                l.Peer.Node.Endpoint is { } ep ? $"{ep.HostText}:{l.PeerEndpointPort}" : null,
                l.Tunnel.Keepalive ? (int)inventory.Defaults.Keepalive.TotalSeconds : 0)]))];
    }

    /// <summary>Interfaces of this node the inventory's renders name: "wg-SHORT-" (others on the node are not ours to remove).</summary>
    public static string ManagedPrefix(Inventory inventory, string node) => $"wg-{inventory.GetNode(node).Short}-";

    /// <summary>
    /// Whether the running endpoint is what the inventory asks for. A host name in the inventory cannot be compared
    /// with the address WireGuard resolved, and a peer without an endpoint (behind NAT) roams: both count as equal.
    /// </summary>
    internal static bool EndpointMatches(string? running, string? desired)
    {
        if (desired is null) return true;
        int colon = desired.LastIndexOf(':');
        string host = desired[..colon].Trim('[', ']');
        if (!IPAddress.TryParse(host, out _)) return true;
        return string.Equals(running, desired, StringComparison.Ordinal);
    }
}
