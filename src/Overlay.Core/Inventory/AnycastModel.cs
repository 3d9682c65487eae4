using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Net;

namespace Overlay.Core.Inventories;

/// <summary>
/// A node's <c>anycastEndpoint</c>: its tunnels to the members of <see cref="Vip"/> end on that anycast VIP (the sites
/// serve it with one key, docs/anycast.md), so the node is a client whose session must follow the route. Render gives
/// each such interface overlayd's session watchdog (<see cref="Watchdog"/>), unless it is switched off (null).
/// </summary>
public sealed record AnycastEndpoint(string Vip, SessionWatchdogConfig? Watchdog, SourceLocation Location)
{
    /// <summary>
    /// The client's own address on the anycast tunnel (<c>anycastEndpoint.address</c>, inside the VIP's
    /// <c>wireguard.address</c> prefix); only with a VIP that has <c>wireguard</c>, where it is required.
    /// </summary>
    public TunnelAddress? Address { get; init; }

    /// <summary>Accepted range of <c>watchdog.interval</c>: the same as overlayd.yaml's (docs/overlayd-config.md).</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(10);
    public const int MaxMisses = 100;
    public static readonly TimeSpan MaxBackoffLimit = TimeSpan.FromHours(1);
}

/// <summary>Which tunnels end on an anycast endpoint.</summary>
public static class AnycastEndpoints
{
    /// <summary>
    /// The anycast endpoint <paramref name="client"/>'s tunnel toward <paramref name="peer"/> ends on: the client's
    /// <c>anycastEndpoint</c> when the peer is a member of its VIP; otherwise null.
    /// </summary>
    public static AnycastEndpoint? Of(Inventory inventory, Node client, string peer)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(client);
        if (client.AnycastEndpoint is not { } a) return null;
        // A VIP with its own anycast WireGuard endpoint carries the watchdog on that interface, not on tunnels.
        return inventory.VipsOf(peer).Any(v => v.Name == a.Vip && v.WireGuard is null) ? a : null;
    }

    /// <summary>
    /// The node's anycast WireGuard interfaces, by name: one per VIP with <c>wireguard</c> it is a member of, and one
    /// for its <c>anycastEndpoint</c> when that VIP has <c>wireguard</c>.
    /// </summary>
    public static IReadOnlyList<AnycastInterface> InterfacesOf(Inventory inventory, Node node)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(node);
        var list = new List<AnycastInterface>();
        foreach (var v in inventory.VipsOf(node.Name))
            if (v.WireGuard is { } w) list.Add(new AnycastInterface(w.InterfaceName(node), v, w, Member: true));
        if (node.AnycastEndpoint is { } a && inventory.Vips.FirstOrDefault(v => v.Name == a.Vip) is { WireGuard: { } cw } cv)
            list.Add(new AnycastInterface(cw.InterfaceName(node), cv, cw, Member: false));
        return [.. list.OrderBy(i => i.Name, StringComparer.Ordinal)];
    }

    /// <summary>The clients of a VIP's anycast endpoint: nodes whose <c>anycastEndpoint</c> names it, by name.</summary>
    public static IReadOnlyList<Node> ClientsOf(Inventory inventory, Vip vip)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(vip);
        return [.. inventory.Nodes.Where(n => n.AnycastEndpoint?.Vip == vip.Name && n.AnycastEndpoint.Address is not null)];
    }
}

/// <summary>One anycast WireGuard interface of a node: as a member serving <see cref="Vip"/>, or as its client.</summary>
public sealed record AnycastInterface(string Name, Vip Vip, AnycastWireGuard WireGuard, bool Member);

/// <summary>An interface address with its prefix length ("10.99.0.1/24").</summary>
public sealed record TunnelAddress(System.Net.IPAddress Address, int Length)
{
    public IpPrefix Network => IpPrefix.Create(Address, Length);
    public override string ToString() => $"{Address}/{Length}";
}

/// <summary>
/// <c>vips[].wireguard</c>: every member serves one WireGuard endpoint on the VIP with the SAME key pair (docs/anycast.md).
/// Render gives each member an interface (<see cref="InterfaceName"/>) listening on <see cref="Port"/> with the private key
/// from <see cref="KeyFile"/> (the same file on every member; never read by render), the common tunnel
/// <see cref="Address"/>, one peer per client (nodes whose <c>anycastEndpoint</c> names the VIP) and the member's
/// <see cref="Health"/> peer, which overlayd watches (keepalive, BFD) to decide whether the member advertises the VIP.
/// </summary>
public sealed record AnycastWireGuard(int Port, WireGuardKey PublicKey, string KeyFile, TunnelAddress Address,
    IReadOnlyList<AnycastHealthPeer> Health, SourceLocation Location)
{
    /// <summary>The anycast interface on a member or client: "wg-" + short + "-p" + port (at most 15 characters; never a tunnel's name, whose peer short has at most 5).</summary>
    public string InterfaceName(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return $"wg-{node.Short}-p{Port}";
    }

    public AnycastHealthPeer? HealthOf(string member) => Health.FirstOrDefault(h => h.Member == member);
}

/// <summary>
/// A member's health peer on the anycast interface (typically its upstream router): a second WireGuard peer with its own
/// key, reached at <see cref="Endpoint"/>, addressed on a small link (<see cref="Address"/> is the member's end,
/// <see cref="PeerAddress"/> the far end), kept alive every <see cref="Keepalive"/> and watched with BFD. A standby member
/// has never seen a client, so this peer is what tells it that its endpoint works.
/// </summary>
public sealed record AnycastHealthPeer(string Member, string Name, WireGuardKey PublicKey, UnderlayEndpoint Endpoint,
    TunnelAddress Address, System.Net.IPAddress PeerAddress, TimeSpan Keepalive, SourceLocation Location);
