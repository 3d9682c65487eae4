using System.Text.Json;
using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Frr.Routing;

/// <summary>Turns northbound JSON data trees (FRR 8.4 YANG) into Overlay's records. Pure.</summary>
public static class NorthboundParsers
{
    /// <summary>zebra's RIB from a state Get of <c>/frr-vrf:lib</c>, all VRFs and tables.</summary>
    public static IReadOnlyList<RibEntry> ParseRib(string json)
    {
        using var document = FrrJson.Parse(json, "zebra RIB (/frr-vrf:lib)");
        var entries = new List<RibEntry>();
        var lib = document.RootElement.Child("frr-vrf:lib");
        foreach (var vrf in lib?.Child("vrf").Items() ?? [])
        {
            var vrfName = vrf.Child("name").String() ?? "default";
            foreach (var rib in vrf.Child("frr-zebra:zebra")?.Child("ribs")?.Child("rib").Items() ?? [])
            {
                var afiSafi = StripModule(rib.Child("afi-safi-name").String() ?? string.Empty);
                var tableId = (uint)(rib.Child("table-id").Int64() ?? 0);
                foreach (var route in rib.Child("route").Items())
                {
                    var prefixText = route.Child("prefix").String();
                    if (!IpPrefix.TryParse(prefixText, strict: false, out var prefix, out var error))
                        throw new FrrParseException($"zebra RIB: route prefix '{prefixText}' is not a prefix ({error})");
                    foreach (var entry in route.Child("route-entry").Items())
                        entries.Add(ParseRibEntry(prefix, afiSafi, vrfName, tableId, entry));
                }
            }
        }
        return entries;
    }

    private static RibEntry ParseRibEntry(IpPrefix prefix, string afiSafi, string vrf, uint tableId, JsonElement entry)
    {
        var nexthops = new List<RibNexthop>();
        foreach (var nexthop in entry.Child("nexthop-group")?.Child("nexthop").Items() ?? [])
        {
            // zebra prints a blackhole's interface as " " and a missing gateway as "".
            var interfaceName = nexthop.Child("interface").String();
            nexthops.Add(new RibNexthop(
                nexthop.Child("gateway").Address(),
                string.IsNullOrWhiteSpace(interfaceName) ? null : interfaceName,
                nexthop.Flag("active"))
            {
                Type = nexthop.Child("nh-type").String() ?? "unknown",
                Fib = nexthop.Flag("fib"),
                Weight = (uint?)nexthop.Child("weight").Int64(),
            });
        }
        long metric = entry.Child("metric").Int64() ?? 0;
        return new RibEntry(
            prefix,
            entry.Child("protocol").String() ?? "unknown",
            (int)(entry.Child("distance").Int64() ?? 0),
            (int)Math.Clamp(metric, 0, int.MaxValue), // 32-bit in zebra; the API has always carried it capped
            entry.Flag("selected"),
            entry.Flag("installed"),
            nexthops)
        {
            AfiSafi = afiSafi,
            Vrf = vrf,
            TableId = tableId,
            Instance = (int?)entry.Child("instance").Int64(),
            Tag = (uint?)entry.Child("tag").Int64(),
            Failed = entry.Flag("failed"),
            Queued = entry.Flag("queued"),
            Uptime = entry.Child("uptime").Time(),
        };
    }

    /// <summary>BFD sessions from a state (or all) Get of <c>/frr-bfdd:bfdd</c>.</summary>
    public static IReadOnlyList<BfdSession> ParseBfdSessions(string json)
    {
        using var document = FrrJson.Parse(json, "bfdd state (/frr-bfdd:bfdd)");
        var sessions = document.RootElement.Child("frr-bfdd:bfdd")?.Child("bfd")?.Child("sessions");
        var result = new List<BfdSession>();
        foreach (var s in sessions?.Child("single-hop").Items() ?? [])
            result.Add(ParseBfdSession(s, multiHop: false));
        foreach (var s in sessions?.Child("multi-hop").Items() ?? [])
            result.Add(ParseBfdSession(s, multiHop: true));
        return result;
    }

    private static BfdSession ParseBfdSession(JsonElement session, bool multiHop)
    {
        var peerText = session.Child("dest-addr").String();
        var peer = session.Child("dest-addr").Address()
            ?? throw new FrrParseException($"bfdd state: session dest-addr '{peerText}' is not an address");
        var interfaceName = session.Child("interface").String();
        var stats = session.Child("stats");
        return new BfdSession(
            peer,
            interfaceName is null or "*" ? null : interfaceName,
            ParseBfdState(stats?.Child("local-state").String()) ?? BfdSessionState.Down)
        {
            Vrf = session.Child("vrf").String() ?? "default",
            MultiHop = multiHop,
            RemoteState = ParseBfdState(stats?.Child("remote-state").String()),
            LocalDiagnostic = ParseBfdDiagnostic(stats?.Child("local-diagnostic").String()),
            RemoteDiagnostic = ParseBfdDiagnostic(stats?.Child("remote-diagnostic").String()),
            LocalDiscriminator = (uint?)stats?.Child("local-discriminator").Int64(),
            RemoteDiscriminator = (uint?)stats?.Child("remote-discriminator").Int64(),
            NegotiatedTransmitInterval = Microseconds(stats?.Child("negotiated-transmission-interval").Int64()),
            NegotiatedReceiveInterval = Microseconds(stats?.Child("negotiated-receive-interval").Int64()),
            LastUp = stats?.Child("last-up-time").Time(),
            LastDown = stats?.Child("last-down-time").Time(),
            UpCount = (uint)(stats?.Child("session-up-count").Int64() ?? 0),
            DownCount = (uint)(stats?.Child("session-down-count").Int64() ?? 0),
        };
    }

    /// <summary>The yang enum's name as a state; null when it is none of them (the local state then reads as down).</summary>
    public static BfdSessionState? ParseBfdState(string? text) => text switch
    {
        "admin-down" => BfdSessionState.AdminDown,
        "down" => BfdSessionState.Down,
        "init" => BfdSessionState.Init,
        "up" => BfdSessionState.Up,
        _ => null,
    };

    public static BfdDiagnostic ParseBfdDiagnostic(string? text) => text switch
    {
        "ok" => BfdDiagnostic.Ok,
        "control-expired" => BfdDiagnostic.ControlExpired,
        "echo-failed" => BfdDiagnostic.EchoFailed,
        "neighbor-down" => BfdDiagnostic.NeighborDown,
        "forwarding-reset" => BfdDiagnostic.ForwardingReset,
        "path-down" => BfdDiagnostic.PathDown,
        "concatenated-path-down" => BfdDiagnostic.ConcatenatedPathDown,
        "administratively-down" => BfdDiagnostic.AdministrativelyDown,
        "reverse-concat-path-down" => BfdDiagnostic.ReverseConcatenatedPathDown,
        _ => BfdDiagnostic.Unknown,
    };

    /// <summary>staticd's configured routes from a config Get of <c>/frr-routing:routing</c>, one record per nexthop.</summary>
    public static IReadOnlyList<StaticRoute> ParseStaticRoutes(string json)
    {
        using var document = FrrJson.Parse(json, "staticd configuration (/frr-routing:routing)");
        var routes = new List<StaticRoute>();
        var protocols = document.RootElement.Child("frr-routing:routing")?.Child("control-plane-protocols")?.Child("control-plane-protocol");
        foreach (var protocol in protocols.Items())
        {
            if (protocol.Child("type").String() != "frr-staticd:staticd")
                continue;
            foreach (var routeList in protocol.Child("frr-staticd:staticd")?.Child("route-list").Items() ?? [])
            {
                var prefixText = routeList.Child("prefix").String();
                if (!IpPrefix.TryParse(prefixText, strict: false, out var prefix, out var error))
                    throw new FrrParseException($"staticd configuration: route-list prefix '{prefixText}' is not a prefix ({error})");
                foreach (var path in routeList.Child("path-list").Items())
                {
                    var distance = (int)(path.Child("distance").Int64() ?? 1);
                    var tableId = (int)(path.Child("table-id").Int64() ?? 0);
                    foreach (var nexthop in path.Child("frr-nexthops")?.Child("nexthop").Items() ?? [])
                        routes.Add(new StaticRoute(prefix, ParseStaticNexthop(nexthop), distance, tableId));
                }
            }
        }
        return routes;
    }

    private static StaticNexthop ParseStaticNexthop(JsonElement nexthop)
    {
        var type = nexthop.Child("nh-type").String();
        var interfaceName = nexthop.Child("interface").String();
        var vrf = nexthop.Child("vrf").String() ?? "default";
        interfaceName = interfaceName is null or "(null)" || string.IsNullOrWhiteSpace(interfaceName) ? null : interfaceName;
        return type switch
        {
            "blackhole" => StaticNexthop.Blackhole with { Vrf = vrf },
            "ifindex" => new StaticNexthop(StaticNexthopType.Interface, null, interfaceName, vrf),
            _ => new StaticNexthop(StaticNexthopType.Gateway, nexthop.Child("gateway").Address(), interfaceName, vrf),
        };
    }

    private static TimeSpan? Microseconds(long? value) => value is { } v ? TimeSpan.FromMicroseconds(v) : null;

    private static string StripModule(string identity)
    {
        var colon = identity.IndexOf(':');
        return colon >= 0 ? identity[(colon + 1)..] : identity;
    }
}
