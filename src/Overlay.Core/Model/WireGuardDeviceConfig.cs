using System.Net;
using Overlay.Core.Net;

namespace Overlay.Core.Model;

/// <summary>
/// A change to a device, in the vocabulary every backend shares (UAPI set=1, WG_CMD_SET_DEVICE).
/// Null fields are left as they are. This is an operation, not a desired state: see
/// Overlay.Linux's WireGuardSyncPlanner for turning desired state into the smallest such change.
/// </summary>
public sealed record WireGuardDeviceConfig
{
    public WireGuardPrivateKey? PrivateKey { get; init; }
    public int? ListenPort { get; init; }
    /// <summary>0 turns the mark off.</summary>
    public uint? FirewallMark { get; init; }
    /// <summary>Remove every peer not listed in <see cref="Peers"/> first.</summary>
    public bool ReplacePeers { get; init; }
    public IReadOnlyList<WireGuardPeerConfig> Peers { get; init; } = [];

    /// <summary>True when applying this would change nothing.</summary>
    public bool IsEmpty => PrivateKey is null && ListenPort is null && FirewallMark is null && !ReplacePeers && Peers.Count == 0;
}

/// <summary>A change to one peer. Null fields are left as they are.</summary>
public sealed record WireGuardPeerConfig(WireGuardKey PublicKey)
{
    /// <summary>Remove the peer; every other field is ignored.</summary>
    public bool Remove { get; init; }
    /// <summary>Only change the peer if it exists already; never create it.</summary>
    public bool UpdateOnly { get; init; }
    /// <summary><see cref="WireGuardPresharedKey.None"/> clears the key.</summary>
    public WireGuardPresharedKey? PresharedKey { get; init; }
    public IPEndPoint? Endpoint { get; init; }
    /// <summary>Zero turns keepalive off.</summary>
    public TimeSpan? PersistentKeepalive { get; init; }
    /// <summary>Drop the peer's allowed IPs before adding <see cref="AllowedIPs"/>.</summary>
    public bool ReplaceAllowedIPs { get; init; }
    /// <summary>Added to the peer (after the old ones are dropped when <see cref="ReplaceAllowedIPs"/>).</summary>
    public IReadOnlyList<IpPrefix> AllowedIPs { get; init; } = [];
}
