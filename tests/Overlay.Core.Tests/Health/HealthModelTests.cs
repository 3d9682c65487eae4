using System.Net;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Core.Config;
using Overlay.Core.Model;

namespace Overlay.Core.Tests.Health;

public class HealthModelTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
    private static readonly WireGuardKey PeerKey = WireGuardKey.Parse(Config.NodeConfigLoaderTests.Key);

    private static WgInterfaceConfig Iface(string name = "wg-a", bool bfd = true, int keepaliveSeconds = 25) =>
        new(name, "up1", PeerKey, 51820, TimeSpan.FromSeconds(keepaliveSeconds), new Overlay.Core.Inventories.TunnelAddress(IPAddress.Parse("10.255.1.1"), 31),
            IPAddress.Parse("10.255.1.0"), bfd, [IpPrefix.Parse("10.0.0.0/8")]);

    private static readonly HealthPolicy Policy = HealthPolicy.Default("default");

    private static WireGuardPeer Peer(DateTimeOffset? handshake, long rx = 1000) =>
        new(PeerKey, null, IPEndPoint.Parse("192.0.2.1:51820"), [IpPrefix.Parse("10.0.0.0/8")], TimeSpan.FromSeconds(25), handshake, rx, 500, 1);

    private static InterfaceObservation Obs(
        LinkOperState link = LinkOperState.Up, WireGuardPeer? peer = null, bool noPeer = false,
        DateTimeOffset? rxProgress = null, BfdSessionState? bfd = BfdSessionState.Up) =>
        new("wg-a", link, noPeer ? null : peer ?? Peer(T0.AddSeconds(-10)), rxProgress ?? T0.AddSeconds(-5), bfd);

    public static TheoryData<string, InterfaceObservation, bool, HealthReasonCode[]> Cases => new()
    {
        { "all good", Obs(), true, [] },
        { "tun reports unknown oper state", Obs(link: LinkOperState.Unknown), true, [] },
        { "link down", Obs(link: LinkOperState.Down), false, [HealthReasonCode.LinkDown] },
        { "link gone", Obs(link: LinkOperState.NotPresent), false, [HealthReasonCode.LinkDown] },
        { "peer missing", Obs(noPeer: true), false, [HealthReasonCode.PeerMissing] },
        { "never handshaked", Obs(peer: Peer(null)), false, [HealthReasonCode.NoHandshake] },
        { "handshake 179s: inside the rekey window", Obs(peer: Peer(T0.AddSeconds(-179))), true, [] },
        { "handshake 181s: keys rejected", Obs(peer: Peer(T0.AddSeconds(-181))), false, [HealthReasonCode.HandshakeStale] },
        { "rx stalled 61s", Obs(rxProgress: T0.AddSeconds(-61)), false, [HealthReasonCode.RxStalled] },
        { "bfd down", Obs(bfd: BfdSessionState.Down), false, [HealthReasonCode.BfdDown] },
        { "bfd missing", Obs(bfd: null), false, [HealthReasonCode.BfdMissing] },
        { "everything wrong at once", Obs(link: LinkOperState.Down, peer: Peer(T0.AddSeconds(-500)), rxProgress: T0.AddSeconds(-300), bfd: BfdSessionState.Init), false,
            [HealthReasonCode.LinkDown, HealthReasonCode.HandshakeStale, HealthReasonCode.RxStalled, HealthReasonCode.BfdDown] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Interface_verdict(string name, InterfaceObservation o, bool healthy, HealthReasonCode[] codes)
    {
        var v = HealthModel.EvaluateInterface(Iface(), Policy, o, T0);
        Assert.True(healthy == v.Healthy, $"{name}: {v.Summary}");
        Assert.Equal(codes, v.Reasons.Select(r => r.Code));
    }

    [Fact]
    public void Rx_stall_is_ignored_without_keepalive_and_bfd_when_the_policy_ignores_it()
    {
        var o = Obs(rxProgress: T0.AddSeconds(-600), bfd: BfdSessionState.Down);
        Assert.True(HealthModel.EvaluateInterface(Iface(keepaliveSeconds: 0), Policy with { Bfd = BfdRequirement.Ignored }, o, T0).Healthy);
        Assert.True(HealthModel.EvaluateInterface(Iface(bfd: false, keepaliveSeconds: 0), Policy, o, T0).Healthy);
    }

    [Fact]
    public void Handshake_age_is_reported_as_an_age()
    {
        var v = HealthModel.EvaluateInterface(Iface(), Policy, Obs(peer: Peer(T0.AddSeconds(-42))), T0);
        Assert.Equal(TimeSpan.FromSeconds(42), v.HandshakeAge);
    }

    [Fact]
    public void Rx_tracker_remembers_when_bytes_last_grew()
    {
        var t = new RxProgressTracker();
        Assert.Equal(T0, t.Observe("wg-a", 100, T0));
        Assert.Equal(T0, t.Observe("wg-a", 100, T0.AddSeconds(30)));
        Assert.Equal(T0.AddSeconds(40), t.Observe("wg-a", 148, T0.AddSeconds(40)));
        Assert.Equal(T0.AddSeconds(50), t.Observe("wg-a", 5, T0.AddSeconds(50))); // counter reset: interface recreated
    }

    private static readonly VipConfig Vip = new("web", IpPrefix.Parse("203.0.113.10/32"), "default", "ovl-web", ["wg-a", "wg-b"]);

    private static InterfaceVerdict Verdict(string name, bool ok) =>
        new(name, ok, ok ? [] : [new HealthReason(HealthReasonCode.LinkDown, name, "link is Down")], null);

    [Theory]
    [InlineData(1, true, false, true)]
    [InlineData(1, false, false, false)]
    [InlineData(2, true, false, false)]
    [InlineData(2, true, true, true)]
    public void Vip_needs_min_healthy_interfaces(int min, bool a, bool b, bool healthy)
    {
        var verdicts = new Dictionary<string, InterfaceVerdict> { ["wg-a"] = Verdict("wg-a", a), ["wg-b"] = Verdict("wg-b", b) };
        var h = HealthModel.EvaluateVip(Vip, Policy with { MinHealthyInterfaces = min }, verdicts, RoutingSnapshot.Empty);
        Assert.Equal(healthy, h.Healthy);
        if (!healthy) Assert.Contains(h.Reasons, r => r.Code == HealthReasonCode.TooFewHealthyInterfaces);
    }

    [Fact]
    public void Routing_gates_hold_or_name_what_is_missing()
    {
        var verdicts = new Dictionary<string, InterfaceVerdict> { ["wg-a"] = Verdict("wg-a", true), ["wg-b"] = Verdict("wg-b", true) };
        var bgpPeer = IPAddress.Parse("10.255.1.0");
        var policy = Policy with { Require = new RoutingRequirements(1, [bgpPeer]) };
        var good = new RoutingSnapshot(
            [new OspfNeighbor(IPAddress.Parse("1.1.1.1"), IPAddress.Parse("10.255.1.0"), "wg-a", OspfNeighborState.Full)],
            [new BgpPeer(bgpPeer.ToString(), "Established")]);
        Assert.True(HealthModel.EvaluateVip(Vip, policy, verdicts, good).Healthy);

        var bad = new RoutingSnapshot(
            [new OspfNeighbor(IPAddress.Parse("1.1.1.1"), IPAddress.Parse("10.255.1.0"), "wg-a", OspfNeighborState.ExStart)],
            [new BgpPeer(bgpPeer.ToString(), "Active")]);
        var h = HealthModel.EvaluateVip(Vip, policy, verdicts, bad);
        Assert.Equal([HealthReasonCode.OspfNeighborsMissing, HealthReasonCode.BgpNotEstablished], h.Reasons.Select(r => r.Code));
        Assert.Contains("Active", h.Summary);

        Assert.False(HealthModel.EvaluateVip(Vip, policy, verdicts, null).Healthy); // unknown is not healthy
    }

    [Fact]
    public void An_unnumbered_bgp_peer_never_stands_in_for_an_address()
    {
        var verdicts = new Dictionary<string, InterfaceVerdict> { ["wg-a"] = Verdict("wg-a", true), ["wg-b"] = Verdict("wg-b", true) };
        var bgpPeer = IPAddress.Parse("0.0.0.10");
        var policy = Policy with { Require = new RoutingRequirements(0, [bgpPeer]) };
        // Established and named "10", which IPAddress would read as 0.0.0.10: still not the policy's neighbor.
        var routing = new RoutingSnapshot([], [new BgpPeer("10", "Established") { Interface = "10" }, new BgpPeer("wg-a", "Established") { Interface = "wg-a" }]);

        var h = HealthModel.EvaluateVip(Vip, policy, verdicts, routing);

        Assert.False(h.Healthy);
        var reason = Assert.Single(h.Reasons);
        Assert.Equal((HealthReasonCode.BgpNotEstablished, "no such BGP neighbor"), (reason.Code, reason.Message));

        // The numbered peer beside them is matched by its address as before.
        var withNumbered = routing with { BgpSessions = [.. routing.BgpSessions, new BgpPeer("0.0.0.10", "Established")] };
        Assert.True(HealthModel.EvaluateVip(Vip, policy, verdicts, withNumbered).Healthy);
    }
}
