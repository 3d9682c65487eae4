using Overlay.Core.Config;

namespace Overlay.Core.Inventory;

/// <summary>
/// A node's <c>anycastEndpoint</c>: its tunnels to the members of <see cref="Vip"/> end on that anycast VIP (the sites
/// serve it with one key, docs/anycast.md), so the node is a client whose session must follow the route. Render gives
/// each such interface overlayd's session watchdog (<see cref="Watchdog"/>), unless it is switched off (null).
/// </summary>
public sealed record AnycastEndpoint(string Vip, SessionWatchdogConfig? Watchdog, SourceLocation Location)
{
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
        return inventory.VipsOf(peer).Any(v => v.Name == a.Vip) ? a : null;
    }
}
