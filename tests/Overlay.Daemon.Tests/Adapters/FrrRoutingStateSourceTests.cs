using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Adapters;
using Overlay.Frr.Northbound;
using Overlay.Frr.Vty;

namespace Overlay.Daemon.Tests.Adapters;

/// <summary>bgpd's summary to the routing snapshot: the parsed peers as they are, one per numbered neighbor (an earlier overlayctl reads each neighbor as an address).</summary>
public sealed class FrrRoutingStateSourceTests : IDisposable
{
    // The adapter asks whether a daemon runs by its vty socket's presence; a plain file stands in for bgpd's.
    private readonly string _bgpdVty = Path.GetTempFileName();

    public void Dispose() => File.Delete(_bgpdVty);

    private sealed class SummaryShow(BgpSummary summary) : IFrrShow
    {
        public Task<IReadOnlyList<OspfNeighbor>> GetOspfNeighborsAsync(CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("ospfd is not running in this test");
        public Task<BgpSummary> GetBgpSummaryAsync(CancellationToken cancellationToken = default) => Task.FromResult(summary);
        public Task<BgpRoute?> GetBgpRouteAsync(IpPrefix prefix, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    [Fact]
    public async Task One_entry_per_numbered_neighbor()
    {
        var v4Numbered = new BgpPeer("192.0.2.2", "Established") { Family = "ipv4Unicast", PrefixesReceived = 4 };
        var v4Unnumbered = new BgpPeer("wg-u1", "Active") { Interface = "wg-u1", Family = "ipv4Unicast" };
        var summary = new BgpSummary(
        [
            new BgpFamilySummary("ipv4Unicast", "10.0.0.1", 65001, "default", [v4Numbered, v4Unnumbered]),
            new BgpFamilySummary("ipv6Unicast", "10.0.0.1", 65001, "default",
            [
                new BgpPeer("192.0.2.2", "Established") { Family = "ipv6Unicast", PrefixesReceived = 1 },
                new BgpPeer("wg-u1", "Active") { Interface = "wg-u1", Family = "ipv6Unicast" },
                new BgpPeer("2001:db8::2", "Connect") { Family = "ipv6Unicast" },
            ]),
        ]);
        var source = new FrrRoutingStateSource(new SummaryShow(summary), d => d == FrrDaemon.Bgpd ? _bgpdVty : "/nonexistent/ospfd.vty");

        var routing = await source.GetAsync(default);

        Assert.Empty(routing.OspfNeighbors);
        Assert.Equal(["192.0.2.2", "2001:db8::2"], routing.BgpSessions.Select(b => b.Neighbor));
        // The first family's entry is the neighbor's, the parsed record itself (not a copy).
        Assert.Same(v4Numbered, routing.BgpSessions[0]);
        Assert.DoesNotContain(v4Unnumbered, routing.BgpSessions);
    }

    [Fact]
    public async Task Without_bgpd_there_are_no_bgp_sessions()
    {
        var source = new FrrRoutingStateSource(new SummaryShow(new BgpSummary([])), _ => "/nonexistent/daemon.vty");
        Assert.Empty((await source.GetAsync(default)).BgpSessions);
    }
}
