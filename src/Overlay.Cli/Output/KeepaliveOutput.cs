using System.Globalization;
using System.Text.Json;
using Overlay.Core.Nat;
using Overlay.Core.Net;

namespace Overlay.Cli.Output;

/// <summary>
/// <c>overlayctl lint --keepalive</c>: why each NATed node sends the keepalive it does and what the inventory's keepalives
/// cost, per node and fleet-wide, before rollout (docs/nat.md).
/// </summary>
internal static class KeepaliveOutput
{
    /// <summary>Text lists the busiest nodes only; JSON lists them all.</summary>
    public const int TextNodes = 20;

    public static void WriteText(TextWriter o, KeepaliveTrafficReport r)
    {
        var c = CultureInfo.InvariantCulture;
        o.WriteLine();
        o.WriteLine($"keepalive traffic ({KeepaliveTrafficReport.Assumptions}):");
        if (r.Nodes.Count == 0) o.WriteLine("  no tunnel sends a keepalive (no node is behind NAT)");
        else
        {
            o.WriteLine(string.Create(c, $"  {"NODE",-20} {"NAT",-4} {"TUNNELS",7} {"KEEPALIVE",9} {"SENT pkt/s",10} {"SENT B/s",10}  WHY"));
            foreach (var n in r.Nodes.Take(TextNodes))
                o.WriteLine(string.Create(c, $"  {n.Node,-20} {(n.BehindNat ? "yes" : "no"),-4} {n.KeepaliveTunnels,7} {(n.ShortestKeepalive is { } k ? DurationText.Format(k) : "-"),9} {n.PacketsPerSecond,10:0.###} {n.BytesPerSecond,10:0.#}  {n.Explanation ?? "peer of a node behind NAT"}"));
            if (r.Nodes.Count > TextNodes)
                o.WriteLine(string.Create(c, $"  … {r.Nodes.Count - TextNodes} more nodes send keepalives, each at most {r.Nodes[TextNodes].PacketsPerSecond:0.###} pkt/s (-o json lists all)"));
        }
        o.WriteLine(string.Create(c,
            $"fleet: {r.KeepaliveTunnels} of {r.Tunnels} tunnels keep alive: {r.FleetPacketsPerSecond:0.###} pkt/s, {Rate(r.FleetBytesPerSecond)} ({PerDay(r.FleetBytesPerSecond)}); " +
            $"a keepalive on every tunnel would be {r.EverywherePacketsPerSecond:0.###} pkt/s, {Rate(r.EverywhereBytesPerSecond)} ({PerDay(r.EverywhereBytesPerSecond)})"));
    }

    public static void WriteJson(Utf8JsonWriter w, KeepaliveTrafficReport r)
    {
        w.WriteStartObject("keepalive");
        w.WriteString("assumptions", KeepaliveTrafficReport.Assumptions);
        w.WriteNumber("packetBytesIPv4", KeepalivePacket.IpBytes(System.Net.Sockets.AddressFamily.InterNetwork));
        w.WriteNumber("packetBytesIPv6", KeepalivePacket.IpBytes(System.Net.Sockets.AddressFamily.InterNetworkV6));
        w.WriteNumber("tunnels", r.Tunnels);
        w.WriteNumber("keepaliveTunnels", r.KeepaliveTunnels);
        w.WriteNumber("fleetPacketsPerSecond", Math.Round(r.FleetPacketsPerSecond, 6));
        w.WriteNumber("fleetBytesPerSecond", Math.Round(r.FleetBytesPerSecond, 3));
        w.WriteNumber("everywherePacketsPerSecond", Math.Round(r.EverywherePacketsPerSecond, 6));
        w.WriteNumber("everywhereBytesPerSecond", Math.Round(r.EverywhereBytesPerSecond, 3));
        w.WriteStartArray("nodes");
        foreach (var n in r.Nodes)
        {
            w.WriteStartObject();
            w.WriteString("node", n.Node);
            w.WriteBoolean("behindNat", n.BehindNat);
            w.WriteNumber("keepaliveTunnels", n.KeepaliveTunnels);
            if (n.ShortestKeepalive is { } k) w.WriteString("keepalive", DurationText.Format(k)); else w.WriteNull("keepalive");
            w.WriteNumber("sentPacketsPerSecond", Math.Round(n.PacketsPerSecond, 6));
            w.WriteNumber("sentBytesPerSecond", Math.Round(n.BytesPerSecond, 3));
            if (n.Explanation is null) w.WriteNull("why"); else w.WriteString("why", n.Explanation);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Rate(double bytesPerSecond) => bytesPerSecond >= 10_000
        ? string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1000:0.#} kB/s")
        : string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond:0.#} B/s");

    private static string PerDay(double bytesPerSecond)
    {
        double day = bytesPerSecond * 86400;
        return day >= 1e9 ? string.Create(CultureInfo.InvariantCulture, $"{day / 1e9:0.##} GB/day")
            : string.Create(CultureInfo.InvariantCulture, $"{day / 1e6:0.##} MB/day");
    }
}
