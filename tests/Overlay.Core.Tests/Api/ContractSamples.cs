using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Anycast;
using Overlay.Core.Api;
using Overlay.Core.Events;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Net;

namespace Overlay.Core.Tests.Api;

/// <summary>One fully populated value of every type the control API sends or receives (nulls where a field may be null, too).</summary>
internal static class ContractSamples
{
    private static readonly DateTimeOffset T = new(2026, 12, 5, 14, 30, 1, 234, TimeSpan.Zero);
    private static readonly WireGuardKey Key = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static readonly ChangeResult Apply = new(T, ApplyOperation.Advertise, false, "FRR said no", 12.5);

    public static readonly VipView Vip = new("web", "203.0.113.10/32", "ovl-web", true, VipState.Advertised, true, "all links healthy",
        3, 0, 0.5, 1, T, T.AddSeconds(1), false, "advertised", "advertised", Apply);

    public static readonly VipView VipNulls = Vip with { Since = null, LastApply = null, Healthy = false, State = VipState.Withdrawn };

    public static readonly PeerStatus Peer = new("wg-t1", "hub1", Key.ToBase64(), LinkOperState.Up, true, ["handshake 3 s ago"], T, 3.25,
        4096, 2048, T, BfdSessionState.Up, "192.0.2.1:51820");

    public static readonly PeerStatus PeerNulls = Peer with
    {
        Link = LinkOperState.NotPresent, Healthy = false, Reasons = [], LastHandshake = null, HandshakeAgeSeconds = null,
        LastRxProgress = null, Bfd = null, Endpoint = null,
    };

    public static readonly DrainSnapshot Drain = new(false, true, false, ["web", "api"]);

    public static readonly StatusResponse Status = new("n1", "dc1", 7, T, Drain, [Vip, VipNulls], [Peer, PeerNulls],
        [new ApplyRecord("route:10.20.0.0/16", "present", "present", Apply), new ApplyRecord("route:10.30.0.0/16", "absent", "unknown", null)], 4242)
    {
        Findings = [new NodeFinding("transit-not-forwarding", "net.ipv4.ip_forward is 0", "sysctl -w net.ipv4.ip_forward=1")],
        Transit = true,
    };

    public static readonly StatusResponse StatusNulls = new("n2", null, 0, null, new DrainSnapshot(true, false, true, []), [], [], []);

    public static readonly PeersResponse Peers = new([Peer, PeerNulls],
        [new BfdSession(IPAddress.Parse("10.255.0.1"), "wg-t1", BfdSessionState.Up), new BfdSession(IPAddress.Parse("fd00::1"), null, BfdSessionState.AdminDown)],
        new RoutingSnapshot(
            [new OspfNeighbor(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.255.0.1"), "wg-t1", OspfNeighborState.Full)],
            [
                new BgpPeer("192.0.2.254", "Established")
                {
                    Family = "ipv4Unicast", RemoteAs = 64512, LocalAs = 65001, PrefixesReceived = 3, PrefixesSent = 1, Hostname = "upstream1",
                    Uptime = TimeSpan.FromSeconds(7),
                },
                new BgpPeer("192.0.2.253", "Active") { Family = "ipv4Unicast", RemoteAs = 64512, LocalAs = 65001 },
                new BgpPeer("wg-t1", "Established") { Interface = "wg-t1", Family = "ipv6Unicast", RemoteAs = 65002, LocalAs = 65001, PrefixesReceived = 1 },
            ]));

    public static readonly VipsResponse Vips = new(Drain, [Vip, VipNulls]);

    public static readonly OverlayEvent Event = new(41, T, EventSource.Operator, "web", "drain", null, null, "control API");

    public static readonly OverlayEvent EventRepeated = new(42, T, EventSource.Writer, "vip:web", "apply-failed", "present", "absent", "FRR down")
    {
        Repeats = 5,
        LastTime = T.AddSeconds(9),
    };

    public static readonly EventsResponse Events = new(42, true, [Event, EventRepeated]);

    public static readonly ExplainResult Explain = new(IPAddress.Parse("10.20.1.5"),
        new KernelRouteLookup(IpPrefix.Parse("10.20.0.0/16"), "wg-t1", IPAddress.Parse("10.255.0.1"), "ospf", 20),
        new PeerMatch("wg-t1", Key, IpPrefix.Parse("0.0.0.0/0"), "192.0.2.1:51820"),
        new RibEntry(IpPrefix.Parse("10.20.0.0/16"), "ospf", 110, 20, true, true,
            [new RibNexthop(IPAddress.Parse("10.255.0.1"), "wg-t1", true), new RibNexthop(null, "wg-t2", false)]),
        new OwnerMatch("hub1", IpPrefix.Parse("10.20.0.0/16"), "subnet"),
        [new ExplainFinding(FindingSeverity.Warning, "source-unavailable", "FRR RIB could not be read: refused")]);

    public static readonly ExplainResult ExplainNulls = new(IPAddress.Parse("fd00::5"), new KernelRouteLookup(null, null, null, null, null, "unreachable"),
        null, null, null, []);

    public static readonly HandoffResult Handoff = new(true, 4343, 812.4, null);
    public static readonly HandoffResult HandoffFailed = new(false, null, 20000, "the new process was not ready within 20 s");

    public static readonly ApiError Error = new("no VIP named 'x'", "use one of: web, or omit ?vip= for all");

    public static readonly DrainRequest DrainOne = new("web");
    public static readonly DrainRequest DrainAll = new(null);

    /// <summary>Every sample by name, in the order the golden file lists them.</summary>
    public static IEnumerable<(string Name, object Value)> All() =>
    [
        ("StatusResponse", Status), ("StatusResponse (nulls)", StatusNulls),
        ("PeersResponse", Peers), ("VipsResponse", Vips), ("EventsResponse", Events),
        ("ExplainResult", Explain), ("ExplainResult (nulls)", ExplainNulls),
        ("HandoffResult", Handoff), ("HandoffResult (failed)", HandoffFailed),
        ("ApiError", Error), ("DrainRequest", DrainOne), ("DrainRequest (all)", DrainAll), ("OverlayEvent", EventRepeated),
    ];
}
