using System.Net;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Core.Model;

namespace Overlay.Frr.Routing;

/// <summary>
/// Routing operations Overlay needs from FRR, over the northbound API. Callers never build YANG paths.
/// Writes are idempotent: repeating one answers <see cref="ApplyResult.NoChange"/>.
/// </summary>
public interface IFrrRouting
{
    /// <summary>Which YANG modules (and FRR version) a daemon serves.</summary>
    Task<FrrCapabilities> GetCapabilitiesAsync(FrrDaemon daemon, CancellationToken cancellationToken = default);

    /// <summary>Adds a static route for a VIP (/32 or /128) in staticd. Another nexthop for the same VIP is added beside existing ones.</summary>
    Task<ApplyResult> AddVipRouteAsync(IpPrefix vip, StaticNexthop nexthop, CancellationToken cancellationToken = default);

    /// <summary>Removes every static path of the VIP (withdraws it). Absent = <see cref="ApplyResult.NoChange"/>.</summary>
    Task<ApplyResult> RemoveVipRouteAsync(IpPrefix vip, CancellationToken cancellationToken = default);

    /// <summary>staticd's configured host routes (/32, /128), one record per nexthop.</summary>
    Task<IReadOnlyList<StaticRoute>> ListVipRoutesAsync(CancellationToken cancellationToken = default);

    /// <summary>Configures a single-hop BFD peer in bfdd (creates it or updates its timers).</summary>
    Task<ApplyResult> AddBfdPeerAsync(BfdPeer peer, CancellationToken cancellationToken = default);

    /// <summary>Removes a single-hop BFD peer. Absent = <see cref="ApplyResult.NoChange"/>.</summary>
    Task<ApplyResult> RemoveBfdPeerAsync(IPAddress peer, string interfaceName, string vrf = YangPaths.DefaultVrf, CancellationToken cancellationToken = default);

    /// <summary>bfdd's sessions (single- and multi-hop) with their state.</summary>
    Task<IReadOnlyList<BfdSession>> GetBfdSessionsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// zebra's unicast RIB (every VRF), optionally only the entries of one prefix (exact match).
    /// Reads all of <c>/frr-vrf:lib</c> (the keyed ribs path crashes zebra 8.4) and filters here,
    /// so keep calls spaced: zebra's event loop is busy while it answers.
    /// </summary>
    Task<IReadOnlyList<RibEntry>> GetRibAsync(IpPrefix? prefix = null, CancellationToken cancellationToken = default);
}
