using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Lab;

// overlayd and the lab are Linux-only; so are the tests that drive them.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Overlay.Daemon.Tests.Live;

/// <summary>Live tests share the two cores: one lab at a time keeps their timings meaningful.</summary>
[CollectionDefinition(Name)]
public sealed class LiveDaemonCollection
{
    public const string Name = "live-daemon";
}

/// <summary>
/// Node A as overlayd sees it: zebra, staticd, bfdd and bgpd (redistributing static host routes of
/// 203.0.113.0/24 through a route-map), a wireguard-go tunnel to peer P (BFD 100 ms over it), and an
/// eBGP upstream U on a veth.
/// </summary>
public sealed class NodeLab
{
    public static readonly IpPrefix Vip = IpPrefix.Parse("203.0.113.10/32");
    public static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    public LabTopology Topology { get; }
    public LabNode A { get; }
    public LabNode U { get; }
    public LabNode P { get; }
    public LabLink Upstream { get; }
    public LabLink Underlay { get; }
    public LabTunnel Tunnel { get; }

    /// <summary>A TUN lease name unique to this run (at most 15 characters).</summary>
    public string LeaseName(string suffix) => $"olv{Topology.RunId}{suffix}";

    public NodeLab()
    {
        Topology = new LabTopology();
        A = Topology.AddNode("a");
        U = Topology.AddNode("u");
        P = Topology.AddNode("p");
        Upstream = Topology.AddLink(A, "192.0.2.1/30", U, "192.0.2.2/30");
        Underlay = Topology.AddLink(A, "198.51.100.1/30", P, "198.51.100.2/30");
        Tunnel = Topology.AddTunnel(Underlay, "10.255.0.0/31", "10.255.0.1/31", new TunnelOptions { PersistentKeepalive = TimeSpan.FromSeconds(1) });
        foreach (var (node, peer) in new[] { (A, "10.255.0.1"), (P, "10.255.0.0") })
        {
            node.WithFrr(FrrDaemon.Bfdd, $"""
                bfd
                 peer {peer} interface {Tunnel.InterfaceOf(node)}
                  receive-interval 100
                  transmit-interval 100
                  detect-multiplier 3
                 !
                !
                """);
        }
        A.WithFrr(FrrDaemon.Staticd).WithFrr(FrrDaemon.Bgpd, LabRecipes.VipSpeakerBgp("192.0.2.1", 65001, "192.0.2.2", 65002));
        U.WithFrr(FrrDaemon.Bgpd, LabRecipes.UpstreamBgp("192.0.2.2", 65002, "192.0.2.1", 65001));
    }

    /// <summary>Null when the lab can run here; otherwise every missing piece in words.</summary>
    public static string? Missing() => LabPreflight.MissingRequirements(frr: true, wireGuard: true) is { } why ? "live daemon test skipped: " + why : null;

    /// <summary>Whether U's BGP table has the VIP with A as the nexthop.</summary>
    public static async Task<bool> UpstreamHasVipAsync(RunningLab lab, LabNode u, IpPrefix vip, CancellationToken ct) =>
        (await lab.Router(u).Show.GetBgpRouteAsync(vip, ct))?.BestPath is { } best
        && best.Nexthops.Any(n => n.Address?.ToString() == "192.0.2.1");

    public async Task WaitConvergedAsync(RunningLab lab, ITestOutputHelper output)
    {
        var bgp = await Poll.UntilAsync("eBGP A-U Established", async ct =>
            (await lab.Router(U).Show.GetBgpSummaryAsync(ct)).AllPeers.Any(p => p.Neighbor == "192.0.2.1" && p.Established), Converge);
        var bfd = await Poll.UntilAsync("BFD A-P up", async ct =>
            (await lab.Router(A).Routing.GetBfdSessionsAsync(ct)).Any(s => s.Peer.ToString() == "10.255.0.1" && s.IsUp), Converge);
        output.WriteLine($"lab converged: BGP Established +{bgp.TotalMilliseconds:0} ms, BFD up +{bfd.TotalMilliseconds:0} ms");
    }
}
