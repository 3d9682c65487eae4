using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Core.Lint;

/// <summary>
/// A hand-written or legacy WireGuard interface with its peers, as found on a node (a wg-quick file).
/// The inventory renders one peer per interface, which makes overlapping AllowedIPs impossible; files
/// written by hand or by older tooling put many peers on one interface, and lint checks those.
/// </summary>
public sealed record PeerList(
    /// <summary>The inventory node this file belongs to.</summary>
    string Node,
    string Interface,
    int? ListenPort,
    IReadOnlyList<PeerEntry> Peers,
    SourceLocation Location);

/// <summary>One [Peer] section.</summary>
public sealed record PeerEntry(
    WireGuardKey PublicKey,
    /// <summary>AllowedIPs; positions are kept per prefix so a conflict points at the exact entry.</summary>
    IReadOnlyList<AllowedIp> AllowedIps,
    string? Endpoint,
    TimeSpan Keepalive,
    SourceLocation Location);

/// <summary>One AllowedIPs prefix with its line and column in the peer list's file.</summary>
public readonly record struct AllowedIp(IpPrefix Prefix, int Line, int Column);
