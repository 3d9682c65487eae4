using System.Net;
using System.Runtime.CompilerServices;
using Overlay.Core.Net;
using Grpc.Core;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;
using Overlay.Frr.Routing;
using Overlay.Frr.Tests.Support;
using Overlay.Core.Model;

namespace Overlay.Frr.Tests;

/// <summary>The typed operations over a fake per-daemon client: which edits and reads they produce.</summary>
public sealed class FrrRoutingTests
{
    private sealed class FakeClient(FrrDaemon daemon) : INorthboundClient
    {
        public List<IReadOnlyList<YangEdit>> Applied { get; } = [];
        public List<(string Path, NorthboundDataType Type)> Gets { get; } = [];
        public Func<IReadOnlyList<YangEdit>, ApplyResult> OnApply { get; set; } = _ => ApplyResult.Applied(1);
        public Func<string, string> OnGet { get; set; } = _ => "{}";

        public FrrDaemon Daemon { get; } = daemon;

        public Task<ApplyResult> ApplyAsync(IReadOnlyList<YangEdit> edits, string? comment = null, CancellationToken cancellationToken = default)
        {
            Applied.Add(edits);
            return Task.FromResult(OnApply(edits));
        }

        public async IAsyncEnumerable<NorthboundData> GetAsync(IReadOnlyList<string> paths, NorthboundDataType type, bool withDefaults = false,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            foreach (var path in paths)
            {
                Gets.Add((path, type));
                yield return new NorthboundData(DateTimeOffset.UnixEpoch, OnGet(path));
            }
        }

        public Task<FrrCapabilities> GetCapabilitiesAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<uint> CreateCandidateAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task EditCandidateAsync(uint candidateId, IReadOnlyList<YangEdit> edits, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<uint> CommitAsync(uint candidateId, CommitPhase phase, string? comment = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task DeleteCandidateAsync(uint candidateId, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task LockConfigAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task UnlockConfigAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public void Dispose() { }
    }

    private readonly Dictionary<FrrDaemon, FakeClient> _clients = Enum.GetValues<FrrDaemon>().ToDictionary(d => d, d => new FakeClient(d));
    private FrrRouting Routing => new(d => _clients[d]);

    [Fact]
    public async Task Blackhole_vip_sets_bh_type_null_in_staticd()
    {
        var vip = IpPrefix.Parse("203.0.113.10/32");
        await Routing.AddVipRouteAsync(vip, StaticNexthop.Blackhole);
        Assert.Equal([YangEdit.Update(YangPaths.StaticBlackholeType(vip), "null")], _clients[FrrDaemon.Staticd].Applied.Single());
    }

    [Fact]
    public async Task Interface_vip_creates_the_nexthop_entry_without_a_value()
    {
        var vip = IpPrefix.Parse("2001:db8::10/128");
        await Routing.AddVipRouteAsync(vip, StaticNexthop.Via("ovl-web"));
        Assert.Equal([YangEdit.Update(YangPaths.StaticInterfaceNexthop(vip, "ovl-web"))], _clients[FrrDaemon.Staticd].Applied.Single());
    }

    [Theory]
    [InlineData("203.0.113.0/24")]
    [InlineData("2001:db8::/64")]
    public async Task Non_host_vips_are_rejected(string prefix)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Routing.AddVipRouteAsync(IpPrefix.Parse(prefix), StaticNexthop.Blackhole));
        Assert.Contains(prefix, error.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Routing.RemoveVipRouteAsync(IpPrefix.Parse(prefix)));
        Assert.Empty(_clients[FrrDaemon.Staticd].Applied);
    }

    [Fact]
    public async Task Remove_deletes_the_route_list_and_treats_a_missing_node_as_no_change()
    {
        var vip = IpPrefix.Parse("203.0.113.10/32");
        var staticd = _clients[FrrDaemon.Staticd];
        staticd.OnApply = _ => throw new FrrNorthboundException(StatusCode.InvalidArgument, $"Failed to remove \"{YangPaths.StaticRoute(vip)}\"", "EditCandidate", "staticd");

        Assert.Equal(ApplyResult.NoChange, await Routing.RemoveVipRouteAsync(vip));
        Assert.Equal([YangEdit.Delete(YangPaths.StaticRoute(vip))], staticd.Applied.Single());
    }

    [Fact]
    public async Task Other_invalid_argument_errors_are_not_swallowed()
    {
        _clients[FrrDaemon.Staticd].OnApply = _ => throw new FrrNorthboundException(StatusCode.InvalidArgument, "validation failed", "Commit", "staticd");
        await Assert.ThrowsAsync<FrrNorthboundException>(() => Routing.RemoveVipRouteAsync(IpPrefix.Parse("203.0.113.10/32")));
    }

    [Fact]
    public async Task Bfd_peer_sets_timers_in_microseconds()
    {
        var peer = new BfdPeer(IPAddress.Parse("10.255.1.2"), "wg-e1-up1", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), 5);
        await Routing.AddBfdPeerAsync(peer);

        var path = YangPaths.BfdSingleHop(peer.Peer, peer.Interface);
        Assert.Equal(
        [
            YangEdit.Update(path),
            YangEdit.Update(path + "/detection-multiplier", "5"),
            YangEdit.Update(path + "/desired-transmission-interval", "100000"),
            YangEdit.Update(path + "/required-receive-interval", "250000"),
        ], _clients[FrrDaemon.Bfdd].Applied.Single());
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(256, 100)]
    [InlineData(3, 5)]
    [InlineData(3, 61_000)]
    public async Task Bfd_values_outside_the_yang_ranges_are_rejected(int multiplier, int intervalMs)
    {
        var peer = new BfdPeer(IPAddress.Parse("10.255.1.2"), "wg-x", TimeSpan.FromMilliseconds(intervalMs), TimeSpan.FromMilliseconds(300), multiplier);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Routing.AddBfdPeerAsync(peer));
        Assert.Empty(_clients[FrrDaemon.Bfdd].Applied);
    }

    [Fact]
    public async Task Rib_read_gets_the_whole_lib_state_and_filters_unicast_by_prefix()
    {
        var zebra = _clients[FrrDaemon.Zebra];
        zebra.OnGet = _ => Fixture.Read("zebra-lib-state.json");

        var all = await Routing.GetRibAsync();
        var one = await Routing.GetRibAsync(IpPrefix.Parse("10.0.12.0/30"));

        Assert.All(zebra.Gets, g => Assert.Equal((YangPaths.VrfLib, NorthboundDataType.State), g));
        Assert.DoesNotContain(all, e => e.AfiSafi.EndsWith("multicast", StringComparison.Ordinal));
        Assert.Equal(["ospf", "connected"], one.Select(e => e.Protocol));
        Assert.All(one, e => Assert.Equal("ipv4-unicast", e.AfiSafi));
    }

    [Fact]
    public async Task Vip_list_reads_staticd_config_and_keeps_host_routes()
    {
        _clients[FrrDaemon.Staticd].OnGet = _ => Fixture.Read("staticd-config.json");

        var vips = await Routing.ListVipRoutesAsync();

        Assert.Equal((YangPaths.Routing, NorthboundDataType.Config), _clients[FrrDaemon.Staticd].Gets.Single());
        Assert.Equal(["203.0.113.10/32", "203.0.113.11/32", "2001:db8:ff::10/128"], vips.Select(v => v.Prefix.ToString()));
    }

    [Fact]
    public async Task Empty_staticd_config_is_an_empty_list()
    {
        _clients[FrrDaemon.Staticd].OnGet = _ => throw new FrrNorthboundException(StatusCode.InvalidArgument, "Data path not found", "Get", "staticd");
        Assert.Empty(await Routing.ListVipRoutesAsync());
    }

    [Fact]
    public async Task Bfd_sessions_come_from_bfdd_state()
    {
        _clients[FrrDaemon.Bfdd].OnGet = _ => Fixture.Read("bfdd-state-down.json");
        var session = Assert.Single(await Routing.GetBfdSessionsAsync());
        Assert.Equal(BfdSessionState.Down, session.State);
        Assert.Equal((YangPaths.Bfdd, NorthboundDataType.State), _clients[FrrDaemon.Bfdd].Gets.Single());
    }
}
