using System.Net;
using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>The whole desired configuration of a device (what a rendered wg config file holds).</summary>
/// <param name="ListenPort">Null leaves the port to the device (it picks one).</param>
/// <param name="FirewallMark">0 means off.</param>
public sealed record WireGuardDeviceSpec(
    WireGuardPrivateKey PrivateKey,
    int? ListenPort,
    uint FirewallMark,
    IReadOnlyList<WireGuardPeerSpec> Peers);

/// <summary>The desired configuration of one peer.</summary>
/// <param name="PresharedKey">Null means no preshared key.</param>
/// <param name="Endpoint">Null leaves whatever endpoint the device has (configured or learned by roaming).</param>
/// <param name="PersistentKeepalive">Zero means off.</param>
public sealed record WireGuardPeerSpec(
    WireGuardKey PublicKey,
    IReadOnlyList<IpPrefix> AllowedIPs,
    WireGuardPresharedKey? PresharedKey = null,
    IPEndPoint? Endpoint = null,
    TimeSpan PersistentKeepalive = default);

/// <summary>What a sync will do: the change to send and, for reports, which peers it touches.</summary>
/// <param name="Config">The smallest change; <see cref="WireGuardDeviceConfig.IsEmpty"/> when the device already matches.</param>
/// <param name="Unchanged">Peers left alone (their sessions stay up).</param>
public sealed record WireGuardSyncPlan(
    WireGuardDeviceConfig Config,
    IReadOnlyList<WireGuardKey> Added,
    IReadOnlyList<WireGuardKey> Updated,
    IReadOnlyList<WireGuardKey> Removed,
    int Unchanged)
{
    public bool IsEmpty => Config.IsEmpty;
}

/// <summary>
/// Plans the smallest change that makes a running device match a desired configuration, with the
/// semantics of 'wg syncconf': peers that already match are not touched at all (so their sessions and
/// handshake state survive), a peer's allowed IPs are replaced only when the set differs, peers not in
/// the desired configuration are removed, new ones added, and device fields are sent only when they differ.
/// Pure: the backends execute the plan.
/// </summary>
public static class WireGuardSyncPlanner
{
    public static WireGuardSyncPlan Plan(WireGuardDeviceSpec desired, WireGuardDevice current)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(current);
        Validate(desired, current.Name);

        var currentPeers = new Dictionary<WireGuardKey, WireGuardPeer>(current.Peers.Count);
        foreach (var p in current.Peers) currentPeers[p.PublicKey] = p;

        var ops = new List<WireGuardPeerConfig>();
        var added = new List<WireGuardKey>();
        var updated = new List<WireGuardKey>();
        var removed = new List<WireGuardKey>();
        int unchanged = 0;

        var desiredKeys = new HashSet<WireGuardKey>(desired.Peers.Count);
        foreach (var want in desired.Peers)
        {
            desiredKeys.Add(want.PublicKey);
            if (!currentPeers.TryGetValue(want.PublicKey, out var have))
            {
                ops.Add(new WireGuardPeerConfig(want.PublicKey)
                {
                    PresharedKey = want.PresharedKey,
                    Endpoint = want.Endpoint,
                    PersistentKeepalive = want.PersistentKeepalive == TimeSpan.Zero ? null : want.PersistentKeepalive,
                    ReplaceAllowedIPs = true,
                    AllowedIPs = want.AllowedIPs,
                });
                added.Add(want.PublicKey);
                continue;
            }

            var wantPsk = want.PresharedKey is { IsNone: false } k ? k : null;
            bool pskChanged = !Equals(wantPsk, have.PresharedKey);
            bool endpointChanged = want.Endpoint is not null && !want.Endpoint.Equals(have.Endpoint);
            bool keepaliveChanged = want.PersistentKeepalive != have.PersistentKeepalive;
            bool allowedChanged = !SameSet(want.AllowedIPs, have.AllowedIPs);
            if (!(pskChanged || endpointChanged || keepaliveChanged || allowedChanged))
            {
                unchanged++;
                continue;
            }
            ops.Add(new WireGuardPeerConfig(want.PublicKey)
            {
                // The peer exists: if it vanishes between read and write, do not resurrect a half-configured one.
                UpdateOnly = true,
                PresharedKey = pskChanged ? wantPsk ?? WireGuardPresharedKey.None : null,
                Endpoint = endpointChanged ? want.Endpoint : null,
                PersistentKeepalive = keepaliveChanged ? want.PersistentKeepalive : null,
                ReplaceAllowedIPs = allowedChanged,
                AllowedIPs = allowedChanged ? want.AllowedIPs : [],
            });
            updated.Add(want.PublicKey);
        }

        foreach (var p in current.Peers)
        {
            if (desiredKeys.Contains(p.PublicKey)) continue;
            ops.Add(new WireGuardPeerConfig(p.PublicKey) { Remove = true });
            removed.Add(p.PublicKey);
        }

        // Removals first: an allowed IP moving from a removed peer to a new one must end on the new one.
        ops.Sort(static (a, b) => b.Remove.CompareTo(a.Remove));

        var config = new WireGuardDeviceConfig
        {
            PrivateKey = desired.PrivateKey.Equals(current.PrivateKey) ? null : desired.PrivateKey,
            ListenPort = desired.ListenPort is { } port && port != current.ListenPort ? port : null,
            FirewallMark = desired.FirewallMark != current.FirewallMark ? desired.FirewallMark : null,
            Peers = ops,
        };
        return new WireGuardSyncPlan(config, added, updated, removed, unchanged);
    }

    /// <summary>Reports every problem of a desired configuration at once.</summary>
    public static IReadOnlyList<string> Check(WireGuardDeviceSpec desired)
    {
        var errors = new List<string>();
        if (desired.ListenPort is { } port && (port < 0 || port > ushort.MaxValue))
            errors.Add($"listen port {port} is outside 0..65535");
        var keys = new HashSet<WireGuardKey>();
        var owners = new Dictionary<IpPrefix, WireGuardKey>();
        for (int i = 0; i < desired.Peers.Count; i++)
        {
            var peer = desired.Peers[i];
            if (!keys.Add(peer.PublicKey))
                errors.Add($"peer {i} ({peer.PublicKey}) appears more than once; merge its entries");
            if (peer.PersistentKeepalive < TimeSpan.Zero || peer.PersistentKeepalive.TotalSeconds > ushort.MaxValue ||
                peer.PersistentKeepalive.Ticks % TimeSpan.TicksPerSecond != 0)
                errors.Add($"peer {i} ({peer.PublicKey}) persistent keepalive {peer.PersistentKeepalive} must be whole seconds in 0..65535");
            foreach (var ip in peer.AllowedIPs)
            {
                // The device keeps an allowed IP on one peer only (the last writer wins): two owners would flap on every sync.
                if (owners.TryGetValue(ip, out var other) && other != peer.PublicKey)
                    errors.Add($"allowed IP {ip} is given to both {other} and {peer.PublicKey}; keep it on one peer");
                else owners[ip] = peer.PublicKey;
            }
        }
        return errors;
    }

    private static void Validate(WireGuardDeviceSpec desired, string device)
    {
        var errors = Check(desired);
        if (errors.Count > 0)
            throw new ArgumentException($"desired configuration for WireGuard device '{device}' is invalid:{Environment.NewLine}  " +
                                        string.Join(Environment.NewLine + "  ", errors), nameof(desired));
    }

    private static bool SameSet(IReadOnlyList<IpPrefix> a, IReadOnlyList<IpPrefix> b)
    {
        var left = new HashSet<IpPrefix>(a);
        return left.SetEquals(b);
    }
}
