using System.Net;
using System.Text.Json;
using Overlay.Core.Api;
using Overlay.Core.Fleet;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Fleet;

/// <summary>
/// Reads, in one script per node through <see cref="INodeShell"/>, what 'overlayctl owners' joins: the node's OSPF
/// database (router-LSAs and AS-external-LSAs, JSON), zebra's IPv4 and IPv6 routes (JSON), what bgpd advertises to each
/// of the node's upstreams (JSON), and overlayd's VIPs (GET /v1/vips on its control socket, with curl). Everything the
/// node prints is data: parsed as JSON and kept to the prefixes the inventory names; none of it is ever put in a script.
/// </summary>
public static class FleetOwnersReader
{
    /// <summary>The script: validated names and addresses, quoted; sections marked with a per-read nonce.</summary>
    internal static string Script(FleetOptions o, Inventory inventory, string node, string overlaydSocket, string nonce)
    {
        string vtysh = o.Host.VtyshCommand(node);
        string m = "@@" + nonce;
        var lines = new List<string>();
        void Vtysh(string section, string command)
        {
            lines.Add($"echo {m}:{section}");
            lines.Add($"{vtysh} -c {ShellWords.Quote(command)} 2>/dev/null || echo {m}!failed");
        }
        Vtysh("router", "show ip ospf database router json");
        Vtysh("external", "show ip ospf database external json");
        Vtysh("rib4", "show ip route json");
        Vtysh("rib6", "show ipv6 route json");
        var self = inventory.GetNode(node);
        for (int i = 0; i < self.Upstreams.Count; i++)
        {
            var u = self.Upstreams[i];
            string af = u.Neighbor.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4";
            // Both families: an IPv6 session may carry IPv4 VIPs and the other way round only if configured so; render does not.
            Vtysh($"bgp{i}", $"show bgp {af} unicast neighbors {u.Neighbor} advertised-routes json");
        }
        string socket = ShellWords.Quote(overlaydSocket);
        lines.Add($"echo {m}:overlayd");
        lines.Add($"if ! [ -S {socket} ]; then echo 'no control socket at '{socket}; echo {m}!failed;");
        lines.Add($"elif command -v curl >/dev/null 2>&1; then curl -sS --max-time 5 --unix-socket {socket} http://overlayd/v1/vips 2>&1 || echo {m}!failed;");
        lines.Add($"else echo 'curl is not installed on the node'; echo {m}!failed; fi");
        lines.Add($"echo {m}:end");
        return string.Join('\n', lines);
    }

    public static async Task<NodeOwnershipRead> ReadAsync(INodeShell shell, FleetOptions o, Inventory inventory, string node, string overlaydSocket, CancellationToken ct)
    {
        string nonce = Guid.NewGuid().ToString("N")[..12];
        try
        {
            var r = await shell.RunAsync(node, Script(o, inventory, node, overlaydSocket, nonce), null, o.Host.CommandTimeout, ct).ConfigureAwait(false);
            return Parse(inventory, node, r, nonce);
        }
        catch (Exception e) when (e is NodeShellException or HostAgentException or ArgumentException)
        {
            return new NodeOwnershipRead(node, null, e.Message);
        }
    }

    internal static NodeOwnershipRead Parse(Inventory inventory, string node, ShellResult r, string nonce)
    {
        string m = "@@" + nonce;
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in r.StdOut.Split('\n'))
        {
            if (line.StartsWith(m + ":", StringComparison.Ordinal))
            {
                sections[line[(m.Length + 1)..]] = current = [];
                continue;
            }
            current?.Add(line);
        }
        if (!sections.ContainsKey("end"))
            return new NodeOwnershipRead(node, null, $"{node}: reading the node's routing did not finish (exit {r.ExitCode}): {HostRotationAgent.Tail(r)}");
        string Text(string s) => sections.TryGetValue(s, out var l) ? string.Join('\n', l) : "";
        bool Failed(string s) => !sections.TryGetValue(s, out var l) || l.Any(x => x == m + "!failed");

        var wanted = FleetOwners.Intended(inventory).Select(p => p.Prefix).ToHashSet();
        var problems = new List<string>();
        if (Failed("router") && Failed("external") && Failed("rib4"))
            return new NodeOwnershipRead(node, null, $"{node}: FRR could not be read through vtysh (is FRR running? is --vtysh right?)");

        var lsdb = new List<LsaOrigin>();
        Json(Text("router"), "OSPF router-LSAs", problems, doc => lsdb.AddRange(RouterStubs(doc.RootElement)), Failed("router"));
        Json(Text("external"), "OSPF external-LSAs", problems, doc => lsdb.AddRange(Externals(doc.RootElement)), Failed("external"));
        var rib = new Dictionary<IpPrefix, RibEntry>();
        Json(Text("rib4"), "zebra's IPv4 routes", problems, doc => Routes(doc.RootElement, wanted, rib), Failed("rib4"));
        Json(Text("rib6"), "zebra's IPv6 routes", problems, doc => Routes(doc.RootElement, wanted, rib), Failed("rib6"));
        var advertised = new SortedDictionary<string, IReadOnlyList<IpPrefix>>(StringComparer.Ordinal);
        var self = inventory.GetNode(node);
        for (int i = 0; i < self.Upstreams.Count; i++)
        {
            string upstream = self.Upstreams[i].Neighbor.ToString();
            Json(Text($"bgp{i}"), $"bgpd's routes to {upstream}", problems, doc =>
            {
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("advertisedRoutes", out var a) && a.ValueKind == JsonValueKind.Object)
                    advertised[upstream] = [.. a.EnumerateObject().Select(p => IpPrefix.TryParse(p.Name, strict: false, out var x, out _) ? x : (IpPrefix?)null)
                        .Where(x => x is { } v && wanted.Contains(v)).Select(x => x!.Value)];
                else advertised[upstream] = [];
            }, Failed($"bgp{i}"));
        }
        return new NodeOwnershipRead(node, new NodeRouting(node, lsdb, rib, advertised, Overlayd(Text("overlayd"), m), problems), null);
    }

    private static void Json(string text, string what, List<string> problems, Action<JsonDocument> use, bool failed)
    {
        if (failed)
        {
            problems.Add($"{what}: vtysh failed");
            return;
        }
        // vtysh may print a warning line (missing vtysh.conf in a pathspace) before the JSON: start at the first brace.
        int start = text.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            problems.Add($"{what}: no JSON in vtysh's answer ({Printable(text, 80)})");
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(text.AsMemory(start), new JsonDocumentOptions { MaxDepth = 64 });
            use(doc);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            problems.Add($"{what}: unreadable JSON ({Printable(e.Message, 120)})");
        }
    }

    /// <summary>Stub links of every router-LSA: the networks each router puts into OSPF.</summary>
    internal static IEnumerable<LsaOrigin> RouterStubs(JsonElement root)
    {
        if (!root.TryGetProperty("routerLinkStates", out var states) || !states.TryGetProperty("areas", out var areas) || areas.ValueKind != JsonValueKind.Object)
            yield break;
        foreach (var area in areas.EnumerateObject())
        {
            if (area.Value.ValueKind != JsonValueKind.Array) continue;
            foreach (var lsa in area.Value.EnumerateArray())
            {
                if (lsa.ValueKind != JsonValueKind.Object || IsMaxAge(lsa) || !Address(lsa, "advertisingRouter", out var router)) continue;
                if (!lsa.TryGetProperty("routerLinks", out var links) || links.ValueKind != JsonValueKind.Object) continue;
                foreach (var link in links.EnumerateObject())
                {
                    var l = link.Value;
                    if (l.ValueKind != JsonValueKind.Object || !l.TryGetProperty("linkType", out var t) || t.ValueKind != JsonValueKind.String
                        || t.GetString() != "Stub Network") continue;
                    if (!Address(l, "networkAddress", out var net) || !Address(l, "networkMask", out var mask)) continue;
                    if (MaskLength(mask) is not { } len) continue;
                    yield return new LsaOrigin(IpPrefix.Create(net, len), router, LsaKind.Stub);
                }
            }
        }
    }

    /// <summary>AS-external-LSAs: what each router redistributes (VIPs from static routes).</summary>
    internal static IEnumerable<LsaOrigin> Externals(JsonElement root)
    {
        if (!root.TryGetProperty("asExternalLinkStates", out var list) || list.ValueKind != JsonValueKind.Array) yield break;
        foreach (var lsa in list.EnumerateArray())
        {
            if (lsa.ValueKind != JsonValueKind.Object || IsMaxAge(lsa) || !Address(lsa, "advertisingRouter", out var router) || !Address(lsa, "linkStateId", out var id)) continue;
            if (!lsa.TryGetProperty("networkMask", out var mask) || mask.ValueKind != JsonValueKind.Number || !mask.TryGetInt32(out int len) || len is < 0 or > 32) continue;
            yield return new LsaOrigin(IpPrefix.Create(id, len), router, LsaKind.External);
        }
    }

    /// <summary>
    /// An LSA at MaxAge (3600 s) is being flushed: its router withdrew it (a VIP no longer redistributed) and it only
    /// stays in the database until every neighbour has acknowledged that; OSPF does not route by it, and neither does owners.
    /// </summary>
    private static bool IsMaxAge(JsonElement lsa) =>
        lsa.TryGetProperty("lsaAge", out var age) && age.ValueKind == JsonValueKind.Number && age.TryGetInt32(out int a) && a >= 3600;

    /// <summary>zebra's selected route for each wanted prefix ('show ip route json': prefix → array of routes).</summary>
    internal static void Routes(JsonElement root, HashSet<IpPrefix> wanted, Dictionary<IpPrefix, RibEntry> into)
    {
        if (root.ValueKind != JsonValueKind.Object) return;
        foreach (var p in root.EnumerateObject())
        {
            if (!IpPrefix.TryParse(p.Name, strict: false, out var prefix, out _) || !wanted.Contains(prefix) || p.Value.ValueKind != JsonValueKind.Array) continue;
            foreach (var route in p.Value.EnumerateArray())
            {
                if (route.ValueKind != JsonValueKind.Object || !route.TryGetProperty("selected", out var sel) || sel.ValueKind != JsonValueKind.True) continue;
                string protocol = route.TryGetProperty("protocol", out var pr) && pr.ValueKind == JsonValueKind.String ? Printable(pr.GetString()!, 20) : "?";
                var hops = new List<RibNexthop>();
                if (route.TryGetProperty("nexthops", out var nh) && nh.ValueKind == JsonValueKind.Array)
                    foreach (var h in nh.EnumerateArray())
                    {
                        if (h.ValueKind != JsonValueKind.Object) continue;
                        if (h.TryGetProperty("active", out var act) && act.ValueKind == JsonValueKind.False) continue;
                        IPAddress? gw = Address(h, "ip", out var ip) ? ip : null;
                        string? dev = h.TryGetProperty("interfaceName", out var i) && i.ValueKind == JsonValueKind.String ? Printable(i.GetString()!, 32) : null;
                        hops.Add(new RibNexthop(gw, dev, Active: true));
                    }
                // The join reads protocol and nexthops; distance, metric and installed are kept as zebra gave them.
                into[prefix] = new RibEntry(prefix, protocol, Int(route, "distance"), Int(route, "metric"), Selected: true,
                    Installed: route.TryGetProperty("installed", out var ins) && ins.ValueKind == JsonValueKind.True, hops);
                break;
            }
        }
    }

    /// <summary>overlayd's answer to GET /v1/vips, or why there is none.</summary>
    internal static OverlaydView Overlayd(string text, string marker)
    {
        if (text.Contains(marker + "!failed", StringComparison.Ordinal))
        {
            string why = string.Join(' ', text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith(marker, StringComparison.Ordinal)));
            return OverlaydView.NotAnswering(why.Length == 0 ? "no answer" : Printable(why, 160));
        }
        try
        {
            // Read through the control API's contract, as overlayctl's live commands do: an error answer, else the VIPs.
            if (JsonSerializer.Deserialize(text, ControlApiJson.Default.ApiError) is { Error: { } error })
                return OverlaydView.NotAnswering("overlayd answered an error: " + Printable(error, 120));
            if (JsonSerializer.Deserialize(text, ControlApiJson.Default.VipsResponse) is not { Vips: { } vips })
                return OverlaydView.NotAnswering("unexpected answer from the control socket");
            var list = vips.Where(v => v is not null).Select(v => new OverlaydVip(Printable(v.Name ?? "", 200), Printable(v.Prefix ?? "", 200),
                v.State.ToString(), v.LeaseHeld, Printable(v.Reason ?? "", 200))).ToList();
            return new OverlaydView(true, null, list);
        }
        catch (JsonException e)
        {
            return OverlaydView.NotAnswering("unreadable answer: " + Printable(e.Message, 120));
        }
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? Printable(v.GetString()!, 200) : "";

    private static int Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : 0;

    private static bool Address(JsonElement e, string name, out IPAddress address)
    {
        address = IPAddress.None;
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String) return false;
        string s = v.GetString()!;
        if (s.Length > 45 || !IpAddressText.TryParse(s, out var a)) return false;
        address = a;
        return true;
    }

    private static int? MaskLength(IPAddress mask)
    {
        if (mask.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return null;
        uint bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
        int len = System.Numerics.BitOperations.PopCount(bits);
        return len == 0 ? (bits == 0 ? 0 : null) : (bits == uint.MaxValue << (32 - len) ? len : null);
    }

    /// <summary>What a node said, made safe to print: control characters (terminal escapes) replaced, length bounded.</summary>
    public static string Printable(string s, int max)
    {
        var chars = s.Select(c => char.IsControl(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format ? '?' : c).Take(max + 1).ToArray();
        string t = new(chars);
        return t.Length > max ? t[..max] + "…" : t;
    }
}
