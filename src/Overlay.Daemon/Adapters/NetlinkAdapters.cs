using System.Net;
using System.Runtime.CompilerServices;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Ports;
using Overlay.Linux.Interop;
using Overlay.Linux.Monitoring;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.Tun;

namespace Overlay.Daemon.Adapters;

/// <summary>
/// Link oper state from the rtnetlink link table; changes from a netlink monitor (RTMGRP_LINK), as they arrive.
/// Stateless: how often the table is dumped, and how long a dump may be reused, is the VIP loop's
/// <see cref="Anycast.SignalReader"/>'s to decide (one dump answers a whole pass).
/// </summary>
internal sealed class NetlinkLinkStateSource(RtnetlinkClient rtnl, NetNamespace ns) : ILinkStateSource
{
    public async Task<LinkOperState> GetOperStateAsync(string name, CancellationToken cancellationToken) =>
        (await GetOperStatesAsync(cancellationToken)).TryGetValue(name, out var state) ? state : LinkOperState.NotPresent;

    public async Task<IReadOnlyDictionary<string, LinkOperState>> GetOperStatesAsync(CancellationToken cancellationToken) =>
        (await rtnl.Links.ListAsync(cancellationToken)).ToDictionary(l => l.Name, StateOf, StringComparer.Ordinal);

    public async IAsyncEnumerable<LinkStateChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var monitor = NetlinkMonitor.Start(ns, new NetlinkMonitorOptions { Links = true, Addresses = false, Routes = false });
        await foreach (var e in monitor.ReadAllAsync(cancellationToken))
        {
            switch (e)
            {
                case LinkEvent { Kind: LinkEventKind.Removed } removed:
                    yield return new LinkStateChange(removed.Link.Name, LinkOperState.NotPresent);
                    break;
                case LinkEvent l:
                    yield return new LinkStateChange(l.Link.Name, StateOf(l.Link));
                    break;
                case ResyncRequired:
                    // Changes were lost: a wake-up with the current state of everything makes the loop re-read.
                    foreach (var link in await rtnl.Links.ListAsync(cancellationToken))
                        yield return new LinkStateChange(link.Name, StateOf(link));
                    break;
            }
        }
    }

    /// <summary>TUN links (wireguard-go) report oper state UNKNOWN while working; an admin-down link is Down whatever it reports.</summary>
    internal static LinkOperState StateOf(LinkInfo link) =>
        !link.IsAdminUp ? LinkOperState.Down
        : Enum.IsDefined(link.OperState) ? link.OperState
        : LinkOperState.Unknown; // a value newer than IF_OPER_UP
}

/// <summary>
/// overlayd's kernel routes through rtnetlink, tagged with protocol "overlay" (the route table refuses to
/// touch routes of any other protocol). Route changes come from a netlink monitor so foreign edits are repaired at once.
/// </summary>
internal sealed class NetlinkKernelRoutes(RtnetlinkClient rtnl, NetNamespace ns) : IKernelRouteWriter, IKernelRouteLookup
{
    public async Task ReplaceAsync(OwnedRoute route, CancellationToken cancellationToken) =>
        await rtnl.Routes.ReplaceAsync(await ToLinuxAsync(route, cancellationToken), cancellationToken);

    public async Task DeleteAsync(OwnedRoute route, CancellationToken cancellationToken)
    {
        var link = await rtnl.Links.GetAsync(route.Dev, cancellationToken);
        try
        {
            await rtnl.Routes.DeleteAsync(new KernelRoute { Destination = route.Prefix, OutputInterface = link?.Index ?? 0, Metric = (uint)route.Metric }, cancellationToken);
        }
        catch (LinuxException e) when (e.Errno == Errno.ESRCH) { } // absent is success
    }

    public async Task<IReadOnlyList<OwnedRoute>> ListOwnedAsync(CancellationToken cancellationToken)
    {
        var routes = await rtnl.Routes.ListAsync(new RouteQuery { Table = RouteTables.Main, Protocol = RouteProtocols.Overlay }, cancellationToken);
        var names = (await rtnl.Links.ListAsync(cancellationToken)).ToDictionary(l => l.Index, l => l.Name);
        return routes.Select(r => new OwnedRoute(r.Destination, names.GetValueOrDefault(r.OutputInterface, "#" + r.OutputInterface), (int)r.Metric)).ToList();
    }

    public async IAsyncEnumerable<KernelRouteChange> WatchRoutesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var monitor = NetlinkMonitor.Start(ns, new NetlinkMonitorOptions { Links = false, Addresses = false, Routes = true });
        await foreach (var e in monitor.ReadAllAsync(cancellationToken))
        {
            if (e is RouteEvent r && r.Route.Table == RouteTables.Main)
                yield return new KernelRouteChange(r.Route.Destination, r.Kind == NetlinkChangeKind.Removed, r.Route.Protocol == RouteProtocols.Overlay);
            else if (e is ResyncRequired)
                yield return new KernelRouteChange(null, Removed: false, Owned: false);
        }
    }

    public async Task<KernelRouteLookup?> LookupAsync(IPAddress destination, CancellationToken cancellationToken)
    {
        KernelRoute? found;
        try { found = await rtnl.Routes.GetRouteAsync(destination, cancellationToken); }
        catch (LinuxException e) when (e.Errno is Errno.ENETUNREACH or Errno.EHOSTUNREACH) { return null; }
        if (found is null) return null;
        // The lookup answers the destination itself; the route that matched is the longest prefix of its table
        // containing it through the same interface.
        var table = await rtnl.Routes.ListAsync(new RouteQuery { Table = found.Table }, cancellationToken);
        var matched = table.Where(r => r.Destination.Contains(destination) && (found.OutputInterface == 0 || r.OutputInterface == found.OutputInterface))
            .OrderByDescending(r => r.Destination.Length).ThenBy(r => r.Metric).FirstOrDefault();
        string? dev = found.OutputInterface == 0 ? null : (await rtnl.Links.GetAsync(found.OutputInterface, cancellationToken))?.Name;
        var m = matched ?? found;
        return new KernelRouteLookup(matched?.Destination, dev, found.Gateway ?? matched?.Gateway, ProtocolName(m.Protocol), (int)m.Metric,
            found.Type.ToString().ToLowerInvariant());
    }

    private async Task<KernelRoute> ToLinuxAsync(OwnedRoute route, CancellationToken cancellationToken)
    {
        var link = await rtnl.Links.GetAsync(route.Dev, cancellationToken)
            ?? throw new LinuxException("RTM_NEWROUTE", $"route {route.Prefix} dev {route.Dev}", (int)Errno.ENODEV, $"interface {route.Dev} does not exist");
        return new KernelRoute { Destination = route.Prefix, OutputInterface = link.Index, Metric = (uint)route.Metric, Scope = RouteScope.Link };
    }

    /// <summary>Names as in /etc/iproute2/rt_protos (and FRR's rt_protos.d); the number when unnamed.</summary>
    internal static string ProtocolName(byte protocol) => protocol switch
    {
        RouteProtocols.Redirect => "redirect",
        RouteProtocols.Kernel => "kernel",
        RouteProtocols.Boot => "boot",
        RouteProtocols.Static => "static",
        RouteProtocols.Overlay => "overlay",
        11 => "zebra",
        186 => "bgp",
        188 => "ospf",
        196 => "frr-static",
        _ => protocol.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// VIP leases: a process-held, non-persistent TUN per VIP, up, with the VIP as a local address through it.
/// The VIP is a <c>local</c> route in the local table (what an interface address installs, and what makes the
/// host accept and bind the VIP), not an interface address: zebra turns every interface address into a
/// connected route (distance 0) that would beat the static VIP route, so bgpd's <c>redistribute static</c>
/// would never see it. The kernel deletes the route with the TUN when the process dies.
/// </summary>
internal sealed class TunLeaseManager(NetNamespace ns, RtnetlinkClient rtnl, Overlay.Daemon.Handoff.InheritedLeases? inheritedLeases = null) : ILeaseManager
{
    private readonly Overlay.Daemon.Handoff.InheritedLeases inherited = inheritedLeases ?? Overlay.Daemon.Handoff.InheritedLeases.None;

    public IReadOnlyCollection<string> Inherited => inherited.Names;

    public string InheritedFrom => inherited.Source;

    public ValueTask ReleaseInheritedAsync(string name)
    {
        inherited.Release(name);
        return ValueTask.CompletedTask;
    }

    public async Task<IVipLease> AcquireAsync(string name, IpPrefix address, CancellationToken cancellationToken)
    {
        TunLease? tun = null;
        if (inherited.Take(name) is { } fd)
        {
            // A handed-over fd that is not that TUN (or not in this namespace) is closed; a fresh TUN is created.
            try { tun = await TunLease.AdoptAsync(ns, fd, name, cancellationToken); }
            catch (LinuxException)
            {
                fd.Dispose();
                throw;
            }
        }
        tun ??= await TunLease.CreateAsync(ns, name, cancellationToken);
        try
        {
            // Idempotent: an adopted TUN already has it, and replacing an identical local route changes nothing.
            await rtnl.Routes.ReplaceAsync(new KernelRoute
            {
                Destination = address,
                Table = RouteTables.Local,
                Type = RouteType.Local,
                Scope = RouteScope.Host,
                OutputInterface = tun.Index,
            }, cancellationToken);
            return new Lease(tun, address);
        }
        catch
        {
            tun.Dispose();
            throw;
        }
    }

    private sealed class Lease(TunLease tun, IpPrefix address) : IVipLease
    {
        public string Name => tun.Name;
        public IpPrefix Address => address;
        public bool Adopted => tun.Adopted;
        public System.Runtime.InteropServices.SafeHandle? Handle => tun.Handle;
        public ValueTask DisposeAsync() => tun.DisposeAsync();
    }
}
