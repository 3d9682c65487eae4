using System.Net;
using System.Text.Json;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Frr.Routing;

namespace Overlay.Frr.Vty;

/// <summary>Parsers for the JSON of FRR's <c>show ... json</c> commands (8.4, forward-compatible names first). Pure.</summary>
public static class ShowParsers
{
    /// <summary>
    /// <c>show ip ospf neighbor json</c>. Reads the names kept by 9.0+ (nbrState, ifaceAddress,
    /// routerDeadIntervalTimerDueMsec) and falls back to the ones 9.0 removed (state, address, deadTimeMsecs).
    /// </summary>
    public static IReadOnlyList<OspfNeighbor> ParseOspfNeighbors(string json)
    {
        using var document = FrrJson.Parse(json, "show ip ospf neighbor json");
        var result = new List<OspfNeighbor>();
        if (document.RootElement.Child("neighbors") is not { ValueKind: JsonValueKind.Object } neighbors)
            return result;
        foreach (var property in neighbors.EnumerateObject())
        {
            if (!IPAddress.TryParse(property.Name, out var routerId))
                throw new FrrParseException($"show ip ospf neighbor json: neighbor id '{property.Name}' is not an address");
            // One entry per adjacency: the same router can be a neighbor on several interfaces.
            IEnumerable<JsonElement> entries = property.Value.ValueKind == JsonValueKind.Array ? property.Value.EnumerateArray() : [property.Value];
            foreach (var n in entries)
            {
                var stateText = n.Child("nbrState").String() ?? n.Child("state").String() ?? string.Empty;
                var interfaceName = n.Child("ifaceName").String();
                var colon = interfaceName?.IndexOf(':') ?? -1;
                result.Add(new OspfNeighbor(
                    routerId,
                    n.Child("ifaceAddress").Address() ?? n.Child("address").Address() ?? IPAddress.Any,
                    (colon >= 0 ? interfaceName![..colon] : interfaceName) ?? "",
                    ParseOspfState(stateText))
                {
                    StateText = stateText,
                    Role = n.Child("role").String(),
                    Priority = (int?)(n.Child("nbrPriority").Int64() ?? n.Child("priority").Int64()),
                    Uptime = Milliseconds(n.Child("upTimeInMsec").Int64()),
                    DeadTimerDue = Milliseconds(n.Child("routerDeadIntervalTimerDueMsec").Int64() ?? n.Child("deadTimeMsecs").Int64()),
                });
            }
        }
        return result;
    }

    /// <summary>"Full/DR", "2-Way/DROther", "ExStart/-" → the state before the slash.</summary>
    public static OspfNeighborState ParseOspfState(string text)
    {
        var slash = text.IndexOf('/');
        return (slash >= 0 ? text[..slash] : text) switch
        {
            "Down" => OspfNeighborState.Down,
            "Attempt" => OspfNeighborState.Attempt,
            "Init" => OspfNeighborState.Init,
            "2-Way" or "TwoWay" => OspfNeighborState.TwoWay,
            "ExStart" => OspfNeighborState.ExStart,
            "Exchange" => OspfNeighborState.Exchange,
            "Loading" => OspfNeighborState.Loading,
            "Full" => OspfNeighborState.Full,
            _ => OspfNeighborState.Unknown,
        };
    }

    /// <summary><c>show bgp summary json</c>: one section per address family; <c>{}</c> when bgpd has no instance.</summary>
    public static BgpSummary ParseBgpSummary(string json)
    {
        using var document = FrrJson.Parse(json, "show bgp summary json");
        var families = new List<BgpFamilySummary>();
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new FrrParseException("show bgp summary json: expected a JSON object");
        foreach (var family in document.RootElement.EnumerateObject())
        {
            if (family.Value.ValueKind != JsonValueKind.Object || family.Value.Child("peers") is not { ValueKind: JsonValueKind.Object } peers)
                continue;
            var list = new List<BgpPeer>();
            foreach (var peer in peers.EnumerateObject())
            {
                var p = peer.Value;
                // An unnumbered peer is keyed by its interface name (idType "interface"), a numbered one by its address.
                bool unnumbered = p.Child("idType").String() == "interface";
                list.Add(new BgpPeer(peer.Name, p.Child("state").String() ?? "Unknown")
                {
                    Interface = unnumbered ? peer.Name : null,
                    Family = family.Name,
                    RemoteAs = p.Child("remoteAs").Int64(),
                    LocalAs = p.Child("localAs").Int64(),
                    PrefixesReceived = p.Child("pfxRcd").Int64() ?? 0,
                    PrefixesSent = p.Child("pfxSnt").Int64(),
                    Hostname = p.Child("hostname").String(),
                    Uptime = Milliseconds(p.Child("peerUptimeMsec").Int64()),
                });
            }
            var section = family.Value;
            families.Add(new BgpFamilySummary(family.Name, section.Child("routerId").String(), section.Child("as").Int64(),
                section.Child("vrfName").String(), list));
        }
        return new BgpSummary(families);
    }

    /// <summary>
    /// <c>show bgp ipv4|ipv6 unicast PREFIX json</c>. Null when the prefix is not in the table
    /// (8.4 answers <c>{}</c>); a "warning" answer (e.g. no BGP instance) throws <see cref="FrrParseException"/>.
    /// </summary>
    public static BgpRoute? ParseBgpRoute(string json)
    {
        if (IsNetworkNotInTable(json))
            return null;
        using var document = FrrJson.Parse(json, "show bgp unicast PREFIX json");
        var root = document.RootElement;
        if (root.Child("warning").String() is { } warning)
            throw new FrrParseException($"show bgp unicast PREFIX json: bgpd answered '{warning}'");
        var prefixText = root.Child("prefix").String();
        if (prefixText is null)
            return null;
        if (!IpPrefix.TryParse(prefixText, strict: false, out var prefix, out var error))
            throw new FrrParseException($"show bgp unicast PREFIX json: prefix '{prefixText}' is not a prefix ({error})");

        var paths = new List<BgpPath>();
        foreach (var path in root.Child("paths").Items())
        {
            var nexthops = path.Child("nexthops").Items().Select(n => new BgpNexthop(
                n.Child("ip").Address(),
                n.Child("afi").String(),
                n.Child("scope").String(),
                n.Child("accessible").Bool() ?? false,
                n.Child("used").Bool() ?? false,
                n.Child("hostname").String())).ToList();
            var best = path.Child("bestpath");
            var peer = path.Child("peer");
            var lastUpdate = path.Child("lastUpdate")?.Child("epoch").Int64();
            paths.Add(new BgpPath(
                path.Child("aspath")?.Child("string").String() ?? string.Empty,
                path.Child("origin").String(),
                path.Child("valid").Bool() ?? false,
                best?.Child("overall").Bool() ?? false,
                best?.Child("selectionReason").String(),
                path.Child("metric").Int64(),
                path.Child("locPrf").Int64(),
                nexthops,
                peer?.Child("peerId").String(),
                peer?.Child("routerId").String(),
                peer?.Child("type").String(),
                lastUpdate is { } epoch ? DateTimeOffset.FromUnixTimeSeconds(epoch) : null));
        }
        return new BgpRoute(prefix, paths);
    }

    /// <summary>The text answer bgpd gives (with status Warning) for a prefix it does not have.</summary>
    public static bool IsNetworkNotInTable(string output) =>
        output.Contains("% Network not in table", StringComparison.Ordinal);

    private static TimeSpan? Milliseconds(long? value) => value is { } v ? TimeSpan.FromMilliseconds(v) : null;
}
