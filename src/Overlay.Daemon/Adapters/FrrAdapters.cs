using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Ports;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Frr.Vty;

namespace Overlay.Daemon.Adapters;

/// <summary>
/// The VIP as a staticd route whose nexthop is the TUN lease (northbound gRPC). FRR answers an unchanged
/// commit with "no change", which is success here; so is removing a route that is not there.
/// Routes via a lease of the configuration overlayd started with, or via any lease it has advertised since,
/// are listed as its own: a VIP added by a reload brings a lease name the start-up configuration did not have,
/// and without it every drift check would see that VIP's route as absent and re-commit it each second.
/// </summary>
internal sealed class FrrVipAdvertiser(IFrrRouting frr, IEnumerable<string> configuredLeases) : IVipAdvertiser
{
    private ImmutableHashSet<string> _leases = configuredLeases.ToImmutableHashSet(StringComparer.Ordinal);

    public async Task AdvertiseAsync(VipRoute route, CancellationToken cancellationToken)
    {
        ImmutableInterlocked.Update(ref _leases, (set, lease) => set.Add(lease), route.LeaseInterface);
        // A path with another nexthop (a renamed lease, a hand-made route) would stay beside ours: replace it.
        var existing = (await frr.ListVipRoutesAsync(cancellationToken)).Where(r => r.Prefix == route.Prefix).ToList();
        if (existing.Any(r => !IsVia(r, route.LeaseInterface)))
            await frr.RemoveVipRouteAsync(route.Prefix, cancellationToken);
        await frr.AddVipRouteAsync(route.Prefix, StaticNexthop.Via(route.LeaseInterface), cancellationToken);
    }

    public async Task WithdrawAsync(IpPrefix prefix, CancellationToken cancellationToken) =>
        await frr.RemoveVipRouteAsync(prefix, cancellationToken);

    public async Task<IReadOnlyList<VipRoute>> ListAsync(CancellationToken cancellationToken) =>
        (await frr.ListVipRoutesAsync(cancellationToken))
            .Where(r => r.Nexthop.Type == StaticNexthopType.Interface && r.Nexthop.Interface is { } i && Volatile.Read(ref _leases).Contains(i))
            .Select(r => new VipRoute(r.Prefix, r.Nexthop.Interface!))
            .ToList();

    private static bool IsVia(StaticRoute r, string lease) => r.Nexthop.Type == StaticNexthopType.Interface && r.Nexthop.Interface == lease;
}

/// <summary>
/// Whether bgpd still advertises the prefix to any established neighbor (its Adj-RIB-Out, read over vty):
/// once no neighbor is sent our path, the upstream has been told to withdraw it. A node without bgpd has
/// no BGP upstream to wait for.
/// </summary>
internal sealed class BgpUpstreamPathProbe(IVty vty, IFrrShow show, Func<FrrDaemon, string> vtyPath) : IUpstreamPathProbe
{
    public async Task<bool> UpstreamHasPathAsync(IpPrefix prefix, CancellationToken cancellationToken)
    {
        if (!File.Exists(vtyPath(FrrDaemon.Bgpd))) return false;
        var summary = await show.GetBgpSummaryAsync(cancellationToken);
        var family = prefix.IsIPv6 ? summary.Ipv6Unicast : summary.Ipv4Unicast;
        foreach (var peer in family?.Peers.Where(p => p.Established) ?? [])
        {
            string afi = prefix.IsIPv6 ? "ipv6" : "ipv4";
            string json = await vty.ExecuteAsync(FrrDaemon.Bgpd, $"show bgp {afi} unicast neighbors {peer.Neighbor} advertised-routes json", cancellationToken);
            if (AdvertisedRoutesContain(json, prefix)) return true;
        }
        return false;
    }

    /// <summary>FRR: <c>{"advertisedRoutes": {"203.0.113.10/32": {...}}, ...}</c>; no routes = no key or <c>{}</c>.</summary>
    internal static bool AdvertisedRoutesContain(string json, IpPrefix prefix)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("advertisedRoutes", out var routes) || routes.ValueKind != JsonValueKind.Object)
            return false;
        foreach (var route in routes.EnumerateObject())
            if (IpPrefix.TryParse(route.Name, strict: false, out var p, out _) && p == prefix) return true;
        return false;
    }
}

/// <summary>bfdd's sessions over northbound gRPC (state data).</summary>
internal sealed class FrrBfdStateSource(IFrrRouting frr) : IBfdStateSource
{
    // bfdd's sessions are the model the health model reads, so they are handed over as they are.
    public async Task<IReadOnlyList<BfdSession>> GetSessionsAsync(CancellationToken cancellationToken) =>
        await frr.GetBfdSessionsAsync(cancellationToken);
}

/// <summary>
/// OSPF neighbors and BGP sessions from ospfd/bgpd JSON over vty. A daemon whose vty socket does not exist
/// is not running on this node: it contributes nothing (a policy that requires it then sees zero).
/// </summary>
internal sealed class FrrRoutingStateSource(IFrrShow show, Func<FrrDaemon, string> vtyPath) : IRoutingStateSource
{
    public async Task<RoutingSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        // ospfd's neighbors are the model the health model reads, so they are taken as they are.
        IReadOnlyList<OspfNeighbor> ospf = File.Exists(vtyPath(FrrDaemon.Ospfd)) ? await show.GetOspfNeighborsAsync(cancellationToken) : [];
        IReadOnlyList<BgpPeer> bgp = [];
        if (File.Exists(vtyPath(FrrDaemon.Bgpd)))
        {
            // bgpd's peers are the model too; one entry per neighbor, since a neighbor in several families has one
            // state (the first family's entry, ipv4Unicast when it has one). Numbered peers only, as before: the API
            // carries this list, and an overlayctl of an earlier release reads `neighbor` as an address, so one
            // unnumbered peer would fail its whole answer (render never configures unnumbered BGP).
            var summary = await show.GetBgpSummaryAsync(cancellationToken);
            bgp = summary.AllPeers.Where(p => p.Address is not null).DistinctBy(p => p.Neighbor, StringComparer.Ordinal).ToList();
        }
        return new RoutingSnapshot(ospf, bgp);
    }
}

/// <summary>zebra's RIB over gRPC (all of <c>/frr-vrf:lib</c>; the keyed ribs path crashes 8.4), entries covering the destination.</summary>
internal sealed class FrrRibSource(IFrrRouting frr) : IRibSource
{
    public async Task<IReadOnlyList<RibEntry>> GetCoveringAsync(IPAddress destination, CancellationToken cancellationToken) =>
        (await frr.GetRibAsync(null, cancellationToken))
            .Where(e => e.Vrf == YangPaths.DefaultVrf && e.Prefix.Contains(destination))
            .OrderByDescending(e => e.Prefix.Length)
            .ToList(); // zebra's entries are the model the explainer reads
}
