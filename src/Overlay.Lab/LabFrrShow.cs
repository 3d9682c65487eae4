using System.Text.Json;

namespace Overlay.Lab;

public sealed record OspfNeighborView(string RouterId, string State, string Interface, string Address);
public sealed record BfdPeerView(string Peer, string Status, string? Interface, long UptimeSeconds);
public sealed record BgpPeerView(string Peer, string State, long PrefixesReceived);

/// <summary>
/// Reads router state through vtysh's JSON output, for lab readiness checks and the demo. Overlay's own
/// code reads FRR through Overlay.Frr; this is the lab looking at its routers from the outside.
/// </summary>
public static class LabFrrShow
{
    public static async Task<IReadOnlyList<OspfNeighborView>> OspfNeighborsAsync(this RunningLab lab, LabNode node, CancellationToken ct = default)
    {
        using var doc = await JsonAsync(lab, node, FrrDaemon.Ospfd, "show ip ospf neighbor json", ct).ConfigureAwait(false);
        var list = new List<OspfNeighborView>();
        if (!doc.RootElement.TryGetProperty("neighbors", out var neighbors)) return list;
        foreach (var n in neighbors.EnumerateObject())
            foreach (var e in n.Value.EnumerateArray())
                list.Add(new OspfNeighborView(n.Name, Str(e, "nbrState", "state"), Str(e, "ifaceName"), Str(e, "ifaceAddress", "address")));
        return list;
    }

    public static async Task<IReadOnlyList<BfdPeerView>> BfdPeersAsync(this RunningLab lab, LabNode node, CancellationToken ct = default)
    {
        using var doc = await JsonAsync(lab, node, FrrDaemon.Bfdd, "show bfd peers json", ct).ConfigureAwait(false);
        var list = new List<BfdPeerView>();
        if (doc.RootElement.ValueKind != JsonValueKind.Array) return list;
        foreach (var p in doc.RootElement.EnumerateArray())
            list.Add(new BfdPeerView(Str(p, "peer"), Str(p, "status"), p.TryGetProperty("interface", out var i) ? i.GetString() : null,
                p.TryGetProperty("uptime", out var u) && u.TryGetInt64(out long up) ? up : 0));
        return list;
    }

    public static async Task<IReadOnlyList<BgpPeerView>> BgpPeersAsync(this RunningLab lab, LabNode node, CancellationToken ct = default)
    {
        using var doc = await JsonAsync(lab, node, FrrDaemon.Bgpd, "show bgp ipv4 unicast summary json", ct).ConfigureAwait(false);
        var list = new List<BgpPeerView>();
        if (!doc.RootElement.TryGetProperty("peers", out var peers)) return list;
        foreach (var p in peers.EnumerateObject())
            list.Add(new BgpPeerView(p.Name, Str(p.Value, "state"),
                p.Value.TryGetProperty("pfxRcd", out var r) && r.TryGetInt64(out long n) ? n : 0));
        return list;
    }

    /// <summary>True when bgpd has the prefix in its RIB (8.4 answers "{}" or "% Network not in table" otherwise).</summary>
    public static async Task<bool> BgpHasPrefixAsync(this RunningLab lab, LabNode node, string prefix, CancellationToken ct = default)
    {
        var r = await lab.VtyshAsync(node, FrrDaemon.Bgpd, $"show bgp ipv4 unicast {prefix} json", ct).ConfigureAwait(false);
        if (!r.Succeeded || !r.StdOut.TrimStart().StartsWith('{')) return false;
        using var doc = JsonDocument.Parse(r.StdOut);
        return doc.RootElement.TryGetProperty("paths", out var paths) && paths.GetArrayLength() > 0;
    }

    /// <summary>The kernel's route for a prefix in the node's main table ("" when there is none).</summary>
    public static async Task<string> KernelRouteAsync(this RunningLab lab, LabNode node, string prefix, CancellationToken ct = default) =>
        (await lab.ExecAsync(node, $"ip -4 route show exact {prefix}", ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();

    private static async Task<JsonDocument> JsonAsync(RunningLab lab, LabNode node, FrrDaemon daemon, string command, CancellationToken ct)
    {
        var r = (await lab.VtyshAsync(node, daemon, command, ct).ConfigureAwait(false)).EnsureSuccess();
        string text = r.StdOut.Trim();
        return JsonDocument.Parse(text.Length == 0 ? "{}" : text);
    }

    private static string Str(JsonElement e, params string[] names)
    {
        foreach (var n in names)
            if (e.TryGetProperty(n, out var v)) return v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : v.ToString();
        return "";
    }
}
