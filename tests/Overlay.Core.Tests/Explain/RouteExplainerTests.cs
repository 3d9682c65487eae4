using System.Net;
using Overlay.Core.Diagnostics;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Core.Tests.Explain;

public class RouteExplainerTests
{
    private static readonly WireGuardKey KeyA = new(Enumerable.Repeat((byte)1, 32).ToArray());
    private static readonly WireGuardKey KeyB = new(Enumerable.Repeat((byte)2, 32).ToArray());
    private static IpPrefix P(string s) => IpPrefix.Parse(s);
    private static IPAddress A(string s) => IPAddress.Parse(s);

    private static readonly IReadOnlyList<WireGuardDevice> Wg =
    [
        new("wg-a", WireGuardDeviceType.Kernel, null, default, 51820, 0, [new WireGuardPeer(KeyA, null, IPEndPoint.Parse("192.0.2.1:51820"), [P("10.0.0.0/8"), P("10.20.0.0/16")], TimeSpan.Zero, null, 0, 0, 1)]),
        new("wg-b", WireGuardDeviceType.Kernel, null, default, 51821, 0, [new WireGuardPeer(KeyB, null, IPEndPoint.Parse("192.0.2.2:51820"), [P("10.30.0.0/16")], TimeSpan.Zero, null, 0, 0, 1)]),
    ];

    private static readonly IReadOnlyList<InventoryOwnership> Inventory =
    [
        new("hub1", [P("10.255.0.1/32")], [P("10.20.0.0/16")]),
        new("hub2", [P("10.255.0.2/32")], [P("10.20.0.0/16"), P("10.30.0.0/16")]),
    ];

    private static RibEntry Rib(string prefix, string dev, bool selected = true, bool installed = true, string proto = "ospf") =>
        new(P(prefix), proto, 110, 20, selected, installed, [new RibNexthop(A("10.255.1.0"), dev, true)]);

    [Fact]
    public void Consistent_path_joins_kernel_peer_rib_and_owner()
    {
        var r = RouteExplainer.Explain(new(A("10.20.1.5"), Wg,
            new KernelRouteLookup(P("10.20.0.0/16"), "wg-a", null, "ospf", 20),
            [Rib("10.0.0.0/8", "wg-a", proto: "static"), Rib("10.20.0.0/16", "wg-a")], Inventory));
        Assert.Equal(P("10.20.0.0/16"), r.Peer!.AllowedIp); // longest AllowedIPs match, not 10/8
        Assert.Equal(KeyA, r.Peer.PublicKey);
        Assert.Equal(P("10.20.0.0/16"), r.Rib!.Prefix);
        Assert.Equal("hub1", r.Owner!.Node);
        Assert.DoesNotContain(r.Findings, f => f.Severity != FindingSeverity.Info);
        Assert.Contains(r.Findings, f => f.Code == "inventory-anycast" && f.Message.Contains("hub2"));
    }

    [Fact]
    public void Kernel_and_frr_disagreeing_is_a_mismatch()
    {
        var r = RouteExplainer.Explain(new(A("10.30.1.1"), Wg,
            new KernelRouteLookup(P("10.30.0.0/16"), "wg-a", null, "overlay", 100),
            [Rib("10.30.0.0/16", "wg-b")], Inventory));
        Assert.Contains(r.Findings, f => f.Code == "kernel-frr-mismatch" && f.Message.Contains("wg-a") && f.Message.Contains("wg-b"));
        // wg-a's peer only admits 10/8 → it does match; the mismatch is the routing, not the gate
        Assert.Equal(P("10.0.0.0/8"), r.Peer!.AllowedIp);
    }

    [Fact]
    public void No_peer_admitting_the_destination_on_the_egress_interface_is_reported()
    {
        var r = RouteExplainer.Explain(new(A("10.20.9.9"), Wg,
            new KernelRouteLookup(P("10.20.0.0/16"), "wg-b", null, "overlay", 100), [], Inventory));
        Assert.Null(r.Peer);
        Assert.Contains(r.Findings, f => f.Code == "wg-no-peer" && f.Severity == FindingSeverity.Problem);
        Assert.Contains(r.Findings, f => f.Code == "frr-no-route");
    }

    [Fact]
    public void Nothing_known_says_none_explicitly()
    {
        var r = RouteExplainer.Explain(new(A("198.51.100.7"), Wg, null, [], Inventory));
        Assert.Equal(["kernel-no-route", "frr-no-route", "inventory-no-owner"], r.Findings.Select(f => f.Code));
        Assert.Null(r.Owner);
    }

    [Fact]
    public void Selected_but_not_installed_and_unselected_routes_are_flagged()
    {
        var r = RouteExplainer.Explain(new(A("10.20.1.1"), Wg, new KernelRouteLookup(P("10.0.0.0/8"), "wg-a", null, "static", 0),
            [Rib("10.20.0.0/16", "wg-a", installed: false)], Inventory));
        Assert.Contains(r.Findings, f => f.Code == "frr-not-installed");
        Assert.Contains(r.Findings, f => f.Code == "prefix-mismatch");

        r = RouteExplainer.Explain(new(A("10.20.1.1"), Wg, null, [Rib("10.20.0.0/16", "wg-a", selected: false)], Inventory));
        Assert.Contains(r.Findings, f => f.Code == "frr-none-selected");
    }

    [Fact]
    public void Overlay_address_owner_beats_a_covering_announced_subnet()
    {
        var inv = new List<InventoryOwnership>(Inventory) { new("edge9", [P("10.20.0.9/32")], []) };
        var r = RouteExplainer.Explain(new(A("10.20.0.9"), Wg, null, [], inv));
        Assert.Equal(("edge9", "overlay-address"), (r.Owner!.Node, r.Owner.Kind));
    }

    [Fact]
    public void Longest_match_prefers_the_most_specific_and_respects_family()
    {
        var c = new[] { (P("0.0.0.0/0"), "default"), (P("10.0.0.0/8"), "ten"), (P("10.1.0.0/16"), "ten-one"), (P("::/0"), "v6") };
        Assert.Equal("ten-one", PrefixMatch.Longest(c, A("10.1.2.3"))!.Value.Value);
        Assert.Equal("ten", PrefixMatch.Longest(c, A("10.2.2.3"))!.Value.Value);
        Assert.Equal("v6", PrefixMatch.Longest(c, A("2001:db8::1"))!.Value.Value);
        Assert.Null(PrefixMatch.Longest(c.Take(0), A("10.1.2.3")));
    }
}
