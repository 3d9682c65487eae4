using System.Text;
using System.Text.RegularExpressions;
using Overlay.Core.Net;
using Overlay.Core.Render;

namespace Overlay.Core.Config;

/// <summary>
/// overlayd.yaml's one read/write pair: <see cref="Write(NodeConfig, string?)"/> is what render emits (and what the lab and the
/// benchmarks start overlayd from), <see cref="Read(string, string)"/> is what overlayd loads; reading what was written gives an
/// equal <see cref="NodeConfig"/>. Every field is written explicitly, in the layout docs/overlayd-config.md shows.
/// </summary>
public static partial class NodeConfigYaml
{
    /// <summary>The file's text; <paramref name="header"/> becomes a leading comment line.</summary>
    public static string Write(NodeConfig config, string? header = null) => Encoding.UTF8.GetString(WriteUtf8(config, header));

    public static byte[] WriteUtf8(NodeConfig config, string? header = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var o = new Utf8Out(1024 + 512 * config.Interfaces.Count);
        Write(o, config, header);
        return o.ToArray();
    }

    internal static void Write(Utf8Out o, NodeConfig c, string? header)
    {
        if (header is not null) o.Line($"# {header}");
        o.Line($"node: {Q(c.Node)}");
        if (c.Site is not null) o.Line($"site: {Q(c.Site)}");
        // overlayd reports a transit node whose kernel does not forward (render's sysctl drop-in not applied).
        o.Line($"transit: {(c.Transit ? "true" : "false")}");
        if (c.Inventory is not null) o.Line($"inventory: {Q(c.Inventory)}");
        o.Line();
        o.Line("api:");
        o.Line($"  socket: {Q(c.Api.Socket)}");
        o.Line($"  mode: \"{ModeText(c.Api.Mode)}\"");
        if (c.Api.Group is not null) o.Line($"  group: {Q(c.Api.Group)}");
        if (c.Metrics is not null)
        {
            o.Line("metrics:");
            o.Line($"  listen: {Q(c.Metrics.Listen.ToString())}");
        }
        o.Line();
        o.Line("frr:");
        o.Line($"  pathspace: {Q(c.Frr.Pathspace)}");
        o.Line($"  vtyDir: {Q(c.Frr.VtyDir)}");
        o.Line("  grpc:");
        o.Line($"    host: {Q(c.Frr.Grpc.Host)}");
        o.Line($"    zebra: {c.Frr.Grpc.Zebra}");
        o.Line($"    staticd: {c.Frr.Grpc.Staticd}");
        o.Line($"    bfdd: {c.Frr.Grpc.Bfdd}");
        o.Line();

        if (c.Interfaces.Count == 0) o.Line("interfaces: []");
        else
        {
            o.Line("interfaces:");
            // A mesh node lists the same gate on hundreds of interfaces: formatted once per list.
            IReadOnlyList<IpPrefix>? lastGate = null;
            string gateText = "";
            var lastKeepalive = TimeSpan.MinValue;
            string keepaliveText = "";
            Span<byte> key = stackalloc byte[44]; // base64 of 32 bytes, encoded in place (a mesh node writes hundreds)
            foreach (var i in c.Interfaces)
            {
                System.Buffers.Text.Base64.EncodeToUtf8(i.PeerPublicKey.Bytes, key, out _, out _);
                if (!ReferenceEquals(i.Gate, lastGate)) (lastGate, gateText) = (i.Gate, List(i.Gate.Select(p => p.ToString())));
                if (i.Keepalive != lastKeepalive) (lastKeepalive, keepaliveText) = (i.Keepalive, D(i.Keepalive));
                o.Line($"  - name: {Q(i.Name)}");
                o.Line($"    peer: {Q(i.Peer)}");
                o.Line($"    peerPublicKey: \"{(ReadOnlySpan<byte>)key}\"");
                o.Line($"    listenPort: {i.ListenPort}");
                o.Line($"    keepalive: {keepaliveText}");
                o.Line($"    localAddress: {i.LocalAddress.Address}/{i.LocalAddress.Length}");
                o.Line($"    peerAddress: {i.PeerAddress}");
                o.Line($"    bfd: {(i.Bfd ? "true" : "false")}");
                o.Line($"    gate: {gateText}");
                if (i.Watchdog is { } w)
                {
                    o.Line("    watchdog:");
                    o.Line($"      interval: {D(w.Interval)}");
                    o.Line($"      misses: {w.Misses}");
                    o.Line($"      backoff: {D(w.Backoff)}");
                    o.Line($"      maxBackoff: {D(w.MaxBackoff)}");
                }
            }
        }
        o.Line();

        if (c.Policies.Count == 0) o.Line("policies: {}");
        else
        {
            o.Line("policies:");
            foreach (var p in c.Policies.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                o.Line($"  {Q(p.Name)}:");
                o.Line($"    interval: {D(p.Interval)}");
                o.Line($"    fastInterval: {D(p.FastInterval)}");
                o.Line($"    rise: {p.Rise}");
                o.Line($"    fall: {p.Fall}");
                o.Line($"    minHealthyInterfaces: {p.MinHealthyInterfaces}");
                o.Line($"    handshakeMaxAge: {D(p.HandshakeMaxAge)}");
                o.Line($"    rxStallAfter: {D(p.RxStallAfter)}");
                o.Line($"    bfd: {(p.Bfd == BfdRequirement.Required ? "required" : "ignored")}");
                o.Line("    holdDown:");
                o.Line($"      advertise: {D(p.HoldDown.Advertise)}");
                o.Line($"      withdraw: {D(p.HoldDown.Withdraw)}");
                if (p.Dampening is { } damp)
                {
                    o.Line("    dampening:");
                    o.Line($"      halfLife: {D(damp.HalfLife)}");
                    o.Line($"      penaltyPerFlap: {damp.PenaltyPerFlap}");
                    o.Line($"      suppressAbove: {damp.SuppressAbove}");
                    o.Line($"      reuseBelow: {damp.ReuseBelow}");
                    o.Line($"      maxPenalty: {damp.MaxPenalty}");
                }
                o.Line("    require:");
                o.Line($"      ospfFullNeighbors: {p.Require.OspfFullNeighbors}");
                o.Line($"      bgpEstablished: {List(p.Require.BgpEstablished.Select(a => a.ToString()))}");
            }
        }
        o.Line();

        if (c.Vips.Count == 0) o.Line("vips: []");
        else
        {
            o.Line("vips:");
            foreach (var v in c.Vips)
            {
                o.Line($"  - name: {Q(v.Name)}");
                o.Line($"    prefix: {Q(v.Prefix.ToString())}");
                o.Line($"    policy: {Q(v.Policy)}");
                o.Line($"    lease: {Q(v.Lease)}");
                o.Line($"    interfaces: {List(v.Interfaces)}");
            }
        }
        o.Line();

        if (c.Routes.Count == 0) o.Line("routes: []");
        else
        {
            o.Line("routes:");
            foreach (var r in c.Routes)
            {
                o.Line($"  - prefix: {Q(r.Prefix.ToString())}");
                o.Line($"    dev: {Q(r.Dev)}");
                o.Line($"    metric: {r.Metric}");
            }
        }
        o.Line();
        o.Line("drain:");
        if (c.Drain.File is not null) o.Line($"  file: {Q(c.Drain.File)}");
        o.Line($"  shutdownTimeout: {D(c.Drain.ShutdownTimeout)}");
    }

    /// <summary>A file mode as overlayd.yaml writes it: four octal digits ("0660").</summary>
    public static string ModeText(int mode) => Convert.ToString(mode, 8).PadLeft(4, '0');

    private static string D(TimeSpan t) => DurationText.Format(t);

    /// <summary>A flow list of YAML scalars: [a, "b c"].</summary>
    internal static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Q)) + "]";

    [GeneratedRegex(@"^[A-Za-z0-9/_][A-Za-z0-9/_.-]*$")]
    private static partial Regex PlainRegex();

    /// <summary>A YAML scalar: plain when unambiguous, otherwise double-quoted with escapes.</summary>
    internal static string Q(string s)
    {
        bool plain = PlainRegex().IsMatch(s) && !s.EndsWith(':') && s is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off" or "~")
            && !(s.All(c => char.IsAsciiDigit(c) || c == '.') && s.Count(c => c == '.') <= 1); // "1.5" or "0660" would read as numbers
        if (plain) return s;
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    // Only printable ASCII is written as itself: YAML 1.1 readers take U+0085, U+2028 and U+2029 as
                    // line breaks, and nothing rendered needs other characters (the grammars allow ASCII only).
                    if (c is < ' ' or > '~') sb.Append($"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
