using System.Net;
using System.Net.Sockets;

namespace Overlay.Linux.Rtnetlink;

/// <summary>
/// The kernel routing tables of one network namespace. Every write is restricted to routes of
/// <see cref="RouteProtocols.Overlay"/>: writes of other protocols are rejected before they reach the
/// kernel, deletes only match Overlay's routes, and a replace never overwrites a route of another protocol.
/// </summary>
public interface IRouteTable
{
    Task<IReadOnlyList<KernelRoute>> ListAsync(RouteQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Adds a route; <see cref="Interop.LinuxException"/> with EEXIST when its key is taken.</summary>
    Task AddAsync(KernelRoute route, CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces a route; fails with EEXIST when the key is held by another protocol's route.</summary>
    Task ReplaceAsync(KernelRoute route, CancellationToken cancellationToken = default);

    /// <summary>Deletes Overlay's route with this key; ESRCH when there is none.</summary>
    Task DeleteAsync(KernelRoute route, CancellationToken cancellationToken = default);

    /// <summary>What <c>ip route get ADDRESS</c> answers (RTM_GETROUTE with RTM_F_LOOKUP_TABLE); null when unreachable.</summary>
    Task<KernelRoute?> GetRouteAsync(IPAddress destination, CancellationToken cancellationToken = default);

    /// <summary>Applies many changes with few system calls; each change gets its own ACK, failures are reported per route.</summary>
    Task<RouteBatchResult> ApplyAsync(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes Overlay's routes in <paramref name="table"/> equal <paramref name="desired"/>: adds missing ones,
    /// replaces changed ones, deletes extra ones of Overlay's protocol. Routes of other protocols are left
    /// alone; a desired route whose key they hold is reported as a failure (EEXIST).
    /// </summary>
    Task<RouteSetResult> SetAsync(uint table, IReadOnlyCollection<KernelRoute> desired, CancellationToken cancellationToken = default);
}

/// <summary>Network interfaces of one namespace.</summary>
public interface ILinkTable
{
    Task<IReadOnlyList<LinkInfo>> ListAsync(CancellationToken cancellationToken = default);
    Task<LinkInfo?> GetAsync(string name, CancellationToken cancellationToken = default);
    Task<LinkInfo?> GetAsync(int index, CancellationToken cancellationToken = default);
    /// <summary>Sets or clears IFF_UP (<c>ip link set dev X up|down</c>).</summary>
    Task SetUpAsync(int index, bool up, CancellationToken cancellationToken = default);
}

/// <summary>Interface addresses of one namespace.</summary>
public interface IAddressTable
{
    Task<IReadOnlyList<InterfaceAddress>> ListAsync(int? interfaceIndex = null, AddressFamily? family = null, CancellationToken cancellationToken = default);
    /// <summary>Adds an address (IPv6 without duplicate address detection: these are service addresses); EEXIST if present.</summary>
    Task AddAsync(InterfaceAddress address, CancellationToken cancellationToken = default);
    /// <summary>Deletes an address; EADDRNOTAVAIL if absent.</summary>
    Task DeleteAsync(InterfaceAddress address, CancellationToken cancellationToken = default);
}
