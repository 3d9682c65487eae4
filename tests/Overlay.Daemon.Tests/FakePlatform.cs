using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Tests;

/// <summary>
/// One in-memory "node" behind every port: FRR's VIP routes, links, WireGuard peers, BFD, leases, kernel
/// routes. Every write is appended to <see cref="Operations"/> so tests can check order.
/// </summary>
public sealed class FakePlatform :
    IVipAdvertiser, IUpstreamPathProbe, IWireGuardStateSource, ILinkStateSource, IBfdStateSource, IRoutingStateSource,
    ILeaseManager, IKernelRouteWriter, IKernelRouteLookup, IRibSource, IInventoryOwnershipSource
{
    private readonly Lock _lock = new();
    private readonly List<string> _ops = [];
    private readonly Dictionary<IpPrefix, VipRoute> _frr = [];
    private readonly Dictionary<IpPrefix, OwnedRoute> _kernel = [];
    private readonly Dictionary<string, LinkOperState> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WireGuardDevice> _wg = new(StringComparer.Ordinal);
    private readonly HashSet<string> _leases = new(StringComparer.Ordinal);
    private readonly Channel<LinkStateChange> _linkEvents = Channel.CreateUnbounded<LinkStateChange>();
    private readonly Channel<KernelRouteChange> _routeEvents = Channel.CreateUnbounded<KernelRouteChange>();
    private List<BfdSession> _bfd = [];

    public DaemonPorts Ports => new(this, this, this, this, this, this, this, this, this, this, this);

    public IReadOnlyList<string> Operations { get { lock (_lock) return _ops.ToList(); } }
    public bool FrrHas(IpPrefix p) { lock (_lock) return _frr.ContainsKey(p); }
    public bool LeaseHeld(string name) { lock (_lock) return _leases.Contains(name); }
    public IReadOnlyCollection<OwnedRoute> KernelRoutes { get { lock (_lock) return _kernel.Values.ToList(); } }
    public Exception? AdvertiseFailure { get; set; }
    /// <summary>Thrown by every lease acquisition while set (say, the TUN name is busy).</summary>
    public Exception? LeaseFailure { get; set; }
    /// <summary>How long the upstream keeps our path after a withdraw (checked by the drain wait).</summary>
    public int UpstreamLagProbes { get; set; }
    private int _upstreamProbes;

    public void SeedFrrRoute(VipRoute r) { lock (_lock) _frr[r.Prefix] = r; }
    /// <summary>What a staticd restarted from its own file does: our committed routes are gone.</summary>
    public void ForgetFrrRoutes() { lock (_lock) _frr.Clear(); }
    public void SeedKernelRoute(OwnedRoute r) { lock (_lock) _kernel[r.Prefix] = r; }
    /// <summary>What the kernel does to routes through a link that goes down.</summary>
    public void DropKernelRoutesVia(string dev) { lock (_lock) foreach (var k in _kernel.Where(k => k.Value.Dev == dev).ToList()) _kernel.Remove(k.Key); }

    public void SetLink(string name, LinkOperState state)
    {
        lock (_lock) _links[name] = state;
        _linkEvents.Writer.TryWrite(new LinkStateChange(name, state));
    }

    /// <summary>A link's state as it already was when the daemon started watching (no event).</summary>
    public void SeedLink(string name, LinkOperState state) { lock (_lock) _links[name] = state; }

    public void SetPeer(string iface, WireGuardPeer peer)
    {
        lock (_lock) _wg[iface] = new WireGuardDevice(iface, WireGuardDeviceType.Kernel, null, default, 51820, 0, [peer]);
    }

    public void SetBfd(params BfdSession[] sessions) { lock (_lock) _bfd = [.. sessions]; }

    private void Op(string s) { lock (_lock) _ops.Add(s); }

    public Task AdvertiseAsync(VipRoute route, CancellationToken ct)
    {
        if (AdvertiseFailure is { } e) { Op("advertise-failed " + route.Prefix); throw e; }
        lock (_lock) { _frr[route.Prefix] = route; _ops.Add($"advertise {route.Prefix} via {route.LeaseInterface}"); }
        return Task.CompletedTask;
    }

    public Task WithdrawAsync(IpPrefix prefix, CancellationToken ct)
    {
        lock (_lock) { _frr.Remove(prefix); _ops.Add("withdraw " + prefix); _upstreamProbes = 0; }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<VipRoute>> ListAsync(CancellationToken ct)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<VipRoute>>(_frr.Values.ToList());
    }

    public Task<bool> UpstreamHasPathAsync(IpPrefix prefix, CancellationToken ct)
    {
        lock (_lock)
        {
            _ops.Add("probe " + prefix);
            return Task.FromResult(_frr.ContainsKey(prefix) || ++_upstreamProbes <= UpstreamLagProbes);
        }
    }

    /// <summary>How many times the daemon read a WireGuard device.</summary>
    public int WireGuardReads { get { lock (_lock) return _wireGuardReads; } }
    private int _wireGuardReads;

    public Task<WireGuardDevice?> GetInterfaceAsync(string name, CancellationToken ct)
    {
        lock (_lock)
        {
            _wireGuardReads++;
            return Task.FromResult(_wg.GetValueOrDefault(name));
        }
    }

    public Task<LinkOperState> GetOperStateAsync(string name, CancellationToken ct)
    {
        lock (_lock) return Task.FromResult(_links.GetValueOrDefault(name, LinkOperState.NotPresent));
    }

    /// <summary>How many times the daemon read the link table.</summary>
    public int LinkReads { get { lock (_lock) return _linkReads; } }
    private int _linkReads;

    public Task<IReadOnlyDictionary<string, LinkOperState>> GetOperStatesAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            _linkReads++;
            return Task.FromResult<IReadOnlyDictionary<string, LinkOperState>>(new Dictionary<string, LinkOperState>(_links, StringComparer.Ordinal));
        }
    }

    public async IAsyncEnumerable<LinkStateChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var c in _linkEvents.Reader.ReadAllAsync(ct)) yield return c;
    }

    public Task<IReadOnlyList<BfdSession>> GetSessionsAsync(CancellationToken ct)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<BfdSession>>(_bfd.ToList());
    }

    private RoutingSnapshot _routing = RoutingSnapshot.Empty;

    public void SetRouting(RoutingSnapshot routing) { lock (_lock) _routing = routing; }

    public Task<RoutingSnapshot> GetAsync(CancellationToken ct)
    {
        lock (_lock) return Task.FromResult(_routing);
    }

    private readonly HashSet<string> _inherited = new(StringComparer.Ordinal);

    /// <summary>As if the previous process had handed over the fd of lease <paramref name="name"/>.</summary>
    public void Inherit(string name) { lock (_lock) _inherited.Add(name); }

    public IReadOnlyCollection<string> Inherited { get { lock (_lock) return [.. _inherited]; } }

    public string InheritedFrom => "pid 4242 (hand-off)";

    /// <summary>Leases carry a real fd (FDSTORE tests).</summary>
    public bool HandleForLeases { get; set; }

    public ValueTask ReleaseInheritedAsync(string name)
    {
        lock (_lock) { _inherited.Remove(name); _ops.Add("release-inherited " + name); }
        return ValueTask.CompletedTask;
    }

    public Task<IVipLease> AcquireAsync(string name, IpPrefix address, CancellationToken ct)
    {
        if (LeaseFailure is { } failure) return Task.FromException<IVipLease>(failure);
        bool adopted;
        lock (_lock) { adopted = _inherited.Remove(name); _leases.Add(name); _ops.Add((adopted ? "adopt " : "lease ") + name); }
        return Task.FromResult<IVipLease>(new Lease(this, name, address, adopted));
    }

    private sealed class Lease(FakePlatform p, string name, IpPrefix address, bool adopted) : IVipLease
    {
        public string Name => name;
        public IpPrefix Address => address;
        public bool Adopted => adopted;
        // A real fd (of /dev/null) so FDSTORE has something to pass; closed with the lease.
        private readonly Microsoft.Win32.SafeHandles.SafeFileHandle? _handle = p.HandleForLeases ? File.OpenHandle("/dev/null") : null;
        public System.Runtime.InteropServices.SafeHandle? Handle => _handle;
        public ValueTask DisposeAsync()
        {
            _handle?.Dispose();
            lock (p._lock) { p._leases.Remove(name); p._ops.Add("release " + name); }
            return ValueTask.CompletedTask;
        }
    }

    public Task ReplaceAsync(OwnedRoute route, CancellationToken ct)
    {
        lock (_lock) { _kernel[route.Prefix] = route; _ops.Add($"route {route.Prefix} dev {route.Dev}"); }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(OwnedRoute route, CancellationToken ct)
    {
        lock (_lock) { _kernel.Remove(route.Prefix); _ops.Add($"route-delete {route.Prefix}"); }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<OwnedRoute>> ListOwnedAsync(CancellationToken ct)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<OwnedRoute>>(_kernel.Values.ToList());
    }

    public async IAsyncEnumerable<KernelRouteChange> WatchRoutesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var c in _routeEvents.Reader.ReadAllAsync(ct)) yield return c;
    }

    /// <summary>Someone else deleted an owned kernel route; the daemon is told through the route watch.</summary>
    public void RemoveKernelRouteExternally(IpPrefix prefix)
    {
        lock (_lock) _kernel.Remove(prefix);
        _routeEvents.Writer.TryWrite(new KernelRouteChange(prefix, Removed: true, Owned: true));
    }

    public Task<KernelRouteLookup?> LookupAsync(IPAddress destination, CancellationToken ct)
    {
        lock (_lock)
        {
            var m = PrefixMatch.Longest(_kernel.Values.Select(r => (r.Prefix, r)), destination);
            return Task.FromResult(m is { } x ? new KernelRouteLookup(x.Prefix, x.Value.Dev, null, "overlay", x.Value.Metric) : null);
        }
    }

    public Task<IReadOnlyList<RibEntry>> GetCoveringAsync(IPAddress destination, CancellationToken ct)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<RibEntry>>(_kernel.Values.Where(r => r.Prefix.Contains(destination))
                .Select(r => new RibEntry(r.Prefix, "kernel", 0, r.Metric, true, true, [new RibNexthop(null, r.Dev, true)])).ToList());
    }

    Task<IReadOnlyList<InventoryOwnership>> IInventoryOwnershipSource.GetAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<InventoryOwnership>>([new InventoryOwnership("hub1", [IpPrefix.Parse("10.255.0.1/32")], [IpPrefix.Parse("10.20.0.0/16")])]);
}
