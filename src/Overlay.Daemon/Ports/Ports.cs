using System.Net;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Daemon.Ports;

// The daemon's view of the platform: narrow, operation-shaped ports. Adapters over FRR (gRPC/vty),
// netlink, TUN and WireGuard implement them; every write port is called only by the ChangeWriter.

/// <summary>A VIP route: the VIP prefix with the TUN lease interface as its nexthop.</summary>
public sealed record VipRoute(IpPrefix Prefix, string LeaseInterface);

/// <summary>FRR: the VIP as a static route whose nexthop is the TUN lease (staticd over northbound gRPC).</summary>
public interface IVipAdvertiser
{
    /// <summary>Configures the route; idempotent (an already present identical route is success).</summary>
    Task AdvertiseAsync(VipRoute route, CancellationToken cancellationToken);

    /// <summary>Removes the route for the prefix; idempotent (absent is success).</summary>
    Task WithdrawAsync(IpPrefix prefix, CancellationToken cancellationToken);

    /// <summary>The VIP routes FRR has configured now (static routes with an interface nexthop that this daemon manages).</summary>
    Task<IReadOnlyList<VipRoute>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>Whether a neighbor still has our path for a prefix (e.g. BGP advertised-routes); used to finish a drain.</summary>
public interface IUpstreamPathProbe
{
    Task<bool> UpstreamHasPathAsync(IpPrefix prefix, CancellationToken cancellationToken);
}

/// <summary>WireGuard device state (UAPI or genetlink behind a composite).</summary>
public interface IWireGuardStateSource
{
    /// <summary>The interface with all its peers; null when it does not exist.</summary>
    Task<WireGuardDevice?> GetInterfaceAsync(string name, CancellationToken cancellationToken);
}

public sealed record LinkStateChange(string Interface, LinkOperState State);

/// <summary>Link operational state from rtnetlink.</summary>
public interface ILinkStateSource
{
    /// <summary>Current oper state; <see cref="LinkOperState.NotPresent"/> when the link does not exist.</summary>
    Task<LinkOperState> GetOperStateAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every link's oper state, by name, in one read (a link absent from it does not exist).</summary>
    Task<IReadOnlyDictionary<string, LinkOperState>> GetOperStatesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Changes as they happen (RTMGRP_LINK); the daemon re-evaluates on each one. Subscribed by the time the first
    /// MoveNextAsync returns, and complete: lost notifications come as a change for every link, so the daemon reuses a
    /// dump until the next change.
    /// </summary>
    IAsyncEnumerable<LinkStateChange> WatchAsync(CancellationToken cancellationToken);
}

/// <summary>BFD sessions (bfdd over northbound gRPC).</summary>
public interface IBfdStateSource
{
    Task<IReadOnlyList<BfdSession>> GetSessionsAsync(CancellationToken cancellationToken);
}

/// <summary>OSPF neighbors and BGP sessions (ospfd/bgpd vty JSON in FRR 8.4).</summary>
public interface IRoutingStateSource
{
    Task<RoutingSnapshot> GetAsync(CancellationToken cancellationToken);
}

/// <summary>A TUN interface held open by this process, carrying the VIP address. It dies with the process.</summary>
public interface IVipLease : IAsyncDisposable
{
    string Name { get; }
    IpPrefix Address { get; }

    /// <summary>True when the lease's fd was handed over by the previous process (not created by this one).</summary>
    bool Adopted => false;

    /// <summary>The TUN fd, to hand to the next process or store with the service manager; null when there is none (fakes).</summary>
    System.Runtime.InteropServices.SafeHandle? Handle => null;
}

public interface ILeaseManager
{
    /// <summary>Creates (or takes over) the TUN named <paramref name="name"/>, sets it up and adds <paramref name="address"/>.</summary>
    /// <remarks>When the previous process handed over an fd for <paramref name="name"/>, that TUN is adopted instead (<see cref="IVipLease.Adopted"/>).</remarks>
    Task<IVipLease> AcquireAsync(string name, IpPrefix address, CancellationToken cancellationToken);

    /// <summary>Lease names whose fds were handed over (by the previous process or the service manager) and are not taken yet.</summary>
    IReadOnlyCollection<string> Inherited => [];

    /// <summary>Where the inherited fds came from, for logs ("pid 1234 (hand-off)", "the service manager (LISTEN_FDS)").</summary>
    string InheritedFrom => "";

    /// <summary>Closes a handed-over fd no VIP uses: the kernel deletes that TUN and every route through it.</summary>
    ValueTask ReleaseInheritedAsync(string name) => ValueTask.CompletedTask;
}

/// <summary>A route of the main table appeared, changed or went away; <paramref name="Prefix"/> null = notifications were lost.</summary>
/// <param name="Owned">The route carries overlayd's protocol id.</param>
public sealed record KernelRouteChange(IpPrefix? Prefix, bool Removed, bool Owned);

public interface IKernelRouteWriter
{
    /// <summary>RTM_NEWROUTE with NLM_F_REPLACE: idempotent.</summary>
    Task ReplaceAsync(OwnedRoute route, CancellationToken cancellationToken);

    /// <summary>Deletes the route; absent is success.</summary>
    Task DeleteAsync(OwnedRoute route, CancellationToken cancellationToken);

    /// <summary>Routes in the kernel tagged with overlayd's protocol id.</summary>
    Task<IReadOnlyList<OwnedRoute>> ListOwnedAsync(CancellationToken cancellationToken);

    /// <summary>Route changes as they happen (RTMGRP_IPV4/IPV6_ROUTE), so a foreign change to an owned route is repaired at once.</summary>
    IAsyncEnumerable<KernelRouteChange> WatchRoutesAsync(CancellationToken cancellationToken);
}

/// <summary>"ip route get": the kernel's answer for one destination; null when unreachable.</summary>
public interface IKernelRouteLookup
{
    Task<KernelRouteLookup?> LookupAsync(IPAddress destination, CancellationToken cancellationToken);
}

/// <summary>FRR's zebra RIB entries whose prefix contains the destination (all protocols, selected or not).</summary>
public interface IRibSource
{
    Task<IReadOnlyList<RibEntry>> GetCoveringAsync(IPAddress destination, CancellationToken cancellationToken);
}

/// <summary>Node → overlay addresses / announced subnets, from the rendered inventory.</summary>
public interface IInventoryOwnershipSource
{
    Task<IReadOnlyList<InventoryOwnership>> GetAsync(CancellationToken cancellationToken);
}

/// <summary>WireGuard peer writes. Called only by the <see cref="Writer.ChangeWriter"/>.</summary>
public interface IWireGuardPeerWriter
{
    /// <summary>Drops the peer's session: removes it and adds it back with identical configuration in one set, so the next packet starts a handshake.</summary>
    Task ResetSessionAsync(string interfaceName, WireGuardKey peer, CancellationToken cancellationToken);
}

/// <summary>ICMP echoes through one tunnel to the far end's overlay address; replies counted without blocking.</summary>
public interface ITunnelProbe : IDisposable
{
    /// <summary>Sends one echo request; throws when the kernel refuses (interface down or gone).</summary>
    void Send();

    /// <summary>How many echo replies from the target arrived since the last call.</summary>
    int DrainReplies();
}

public interface ITunnelProber
{
    /// <summary>Opens a probe out of <paramref name="interfaceName"/> toward <paramref name="target"/>; throws when the interface does not exist.</summary>
    ITunnelProbe Open(string interfaceName, IPAddress target);
}

/// <summary>Everything the daemon needs from the platform, in one place for wiring.</summary>
public sealed record DaemonPorts(
    IVipAdvertiser Advertiser,
    IUpstreamPathProbe UpstreamProbe,
    IWireGuardStateSource WireGuard,
    ILinkStateSource Links,
    IBfdStateSource Bfd,
    IRoutingStateSource Routing,
    ILeaseManager Leases,
    IKernelRouteWriter KernelRoutes,
    IKernelRouteLookup RouteLookup,
    IRibSource Rib,
    IInventoryOwnershipSource Inventory)
{
    /// <summary>Session resets of anycast endpoints' peers (the session watchdog); unwired by default.</summary>
    public IWireGuardPeerWriter PeerWriter { get; init; } = Unwired.Instance;

    /// <summary>Probes through tunnels (the session watchdog); unwired by default.</summary>
    public ITunnelProber Prober { get; init; } = Unwired.Instance;

    private sealed class Unwired : IWireGuardPeerWriter, ITunnelProber
    {
        public static readonly Unwired Instance = new();
        public Task ResetSessionAsync(string interfaceName, WireGuardKey peer, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no WireGuard peer writer is wired into this daemon");
        public ITunnelProbe Open(string interfaceName, IPAddress target) =>
            throw new InvalidOperationException("no tunnel prober is wired into this daemon");
    }
}
