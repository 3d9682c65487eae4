using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Netlink;

namespace Overlay.Lab;

// NAT routers (LabTopology.AddNat): configured at bring-up, observed and disturbed by scenario tests.
public sealed partial class RunningLab
{
    private async Task ConfigureNatsAsync(CancellationToken ct)
    {
        foreach (var nat in Topology.Nats)
        {
            var o = nat.Options;
            // The conntrack sysctls are per network namespace (verified on this kernel: setting them in one
            // namespace leaves the host's 30 s / 120 s alone), so each lab NAT has its own timeouts.
            await InNode(nat.Router, "sysctl -qw " +
                $"net.netfilter.nf_conntrack_udp_timeout={Seconds(o.UdpTimeout)} " +
                $"net.netfilter.nf_conntrack_udp_timeout_stream={Seconds(o.EffectiveStreamTimeout)}", ct).ConfigureAwait(false);
            var r = await Command.RunAsync("ip", ["netns", "exec", nat.Router.Namespace, "nft", "-f", "-"], stdin: nat.NftRuleset(), ct: ct).ConfigureAwait(false);
            r.EnsureSuccess();
            await InNode(nat.InsideNode, $"ip route replace default via {nat.InsideGateway}", ct).ConfigureAwait(false);
        }
    }

    private static string Seconds(TimeSpan t)
    {
        if (t < TimeSpan.FromSeconds(1) || t.Ticks % TimeSpan.TicksPerSecond != 0)
            throw new ArgumentException($"a conntrack timeout is whole seconds of at least 1 s, not {t}");
        return ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The UDP entries of the NAT router's conntrack table (its mappings and the packets that died at it).</summary>
    public async Task<IReadOnlyList<NatMapping>> NatMappingsAsync(LabNat nat, CancellationToken ct = default)
    {
        var r = (await ExecAsync(nat.Router, "cat /proc/net/nf_conntrack", ct: ct).ConfigureAwait(false)).EnsureSuccess();
        return ParseConntrack(r.StdOut);
    }

    /// <summary>Parses /proc/net/nf_conntrack lines; only UDP entries are kept.</summary>
    public static IReadOnlyList<NatMapping> ParseConntrack(string text)
    {
        var list = new List<NatMapping>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // ipv4 2 udp 17 SECONDS src=… dst=… sport=… dport=… [UNREPLIED] src=… dst=… sport=… dport=… …
            if (f.Length < 13 || f[2] != "udp" || !int.TryParse(f[4], CultureInfo.InvariantCulture, out int left)) continue;
            var values = new List<(string Key, string Value)>();
            foreach (var x in f.Skip(5))
            {
                int eq = x.IndexOf('=');
                if (eq > 0) values.Add((x[..eq], x[(eq + 1)..]));
            }
            IPEndPoint? End(string addrKey, string portKey, int nth)
            {
                var a = values.Where(v => v.Key == addrKey).Select(v => v.Value).ElementAtOrDefault(nth);
                var p = values.Where(v => v.Key == portKey).Select(v => v.Value).ElementAtOrDefault(nth);
                return a is not null && p is not null && IPAddress.TryParse(a, out var ip) && int.TryParse(p, CultureInfo.InvariantCulture, out int port)
                    ? new IPEndPoint(ip, port) : null;
            }
            if (End("src", "sport", 0) is { } src && End("dst", "dport", 0) is { } dst && End("src", "sport", 1) is { } rsrc && End("dst", "dport", 1) is { } rdst)
                list.Add(new NatMapping(src, dst, rsrc, rdst, !f.Contains("[UNREPLIED]"), left));
        }
        return list;
    }

    /// <summary>
    /// Empties the NAT router's conntrack table, as a NAT reboot (or a carrier-grade NAT reassigning ports) does: every
    /// mapping is gone, and the next packet from inside gets a new one (with <see cref="NatOptions.RandomPorts"/>, a new
    /// public port). Done over ctnetlink (IPCTNL_MSG_CT_DELETE without a tuple flushes the table), so the lab needs no
    /// conntrack tool.
    /// </summary>
    public async Task FlushConntrackAsync(LabNat nat, CancellationToken ct = default)
    {
        using var ns = NetNamespace.Open(nat.Router.Namespace);
        await ns.RunAsync(() =>
        {
            using var socket = NetlinkSocket.Open(NetlinkProtocol.Netfilter, ns);
            var w = new NetlinkWriter(64);
            int m = w.BeginMessage(CtNetlinkDelete, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, socket.NextSequence());
            w.Write(new NfGenMsg { Family = 2 /* AF_INET */, Version = 0, ResourceId = 0 });
            w.EndMessage(m);
            socket.Execute(w, "flush conntrack", $"NAT {nat.Router.Name} ({nat.Router.Namespace})");
        }).ConfigureAwait(false);
        LogNat(_log, nat.Router.Name, "conntrack flushed");
    }

    /// <summary>(NFNL_SUBSYS_CTNETLINK &lt;&lt; 8) | IPCTNL_MSG_CT_DELETE.</summary>
    private const ushort CtNetlinkDelete = (1 << 8) | 2;

    /// <summary>struct nfgenmsg: every nfnetlink message starts with it (res_id is big-endian; 0 here).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NfGenMsg
    {
        public byte Family;
        public byte Version;
        public ushort ResourceId;
    }

    /// <summary>
    /// Stops (or resumes) all forwarding through the NAT router, as a NAT that lost its state and passes nothing for
    /// a while: with <paramref name="blocked"/> the inside node's packets (keepalives included) die at the router.
    /// </summary>
    public async Task SetNatBlockedAsync(LabNat nat, bool blocked, CancellationToken ct = default)
    {
        string cmd = blocked
            ? $"nft flush chain ip {LabNat.NftTable} forward && nft add rule ip {LabNat.NftTable} forward counter drop"
            : $"nft flush chain ip {LabNat.NftTable} forward";
        await InNode(nat.Router, cmd, ct).ConfigureAwait(false);
        LogNat(_log, nat.Router.Name, blocked ? "forwarding blocked" : "forwarding resumed");
    }

    /// <summary>Sets (or, with null, removes) WireGuard's persistent keepalive of one side's peer, as <c>wg set … persistent-keepalive</c>.</summary>
    public async Task SetPersistentKeepaliveAsync(LabTunnel tunnel, LabNode side, TimeSpan? every, CancellationToken ct = default)
    {
        string key = (side == tunnel.A ? tunnel.PublicKeyB : tunnel.PublicKeyA) ?? throw new InvalidOperationException("the lab is not running yet");
        string value = every is { } e ? ((int)e.TotalSeconds).ToString(CultureInfo.InvariantCulture) : "off";
        await InNode(side, Command.Quote(["wg", "set", tunnel.InterfaceOf(side), "peer", key, "persistent-keepalive", value]), ct).ConfigureAwait(false);
    }

    /// <summary>The endpoint one side's WireGuard currently sends to for its peer (null before it knows one).</summary>
    public async Task<IPEndPoint?> WireGuardEndpointAsync(LabTunnel tunnel, LabNode side, CancellationToken ct = default)
    {
        var r = (await ExecAsync(side, $"wg show {tunnel.InterfaceOf(side)} endpoints", ct: ct).ConfigureAwait(false)).EnsureSuccess();
        var fields = r.StdOut.Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && IPEndPoint.TryParse(fields[1], out var ep) ? ep : null;
    }

    /// <summary>Bytes received and sent by one side's peer (wg show … transfer).</summary>
    public async Task<(long Rx, long Tx)> WireGuardTransferAsync(LabTunnel tunnel, LabNode side, CancellationToken ct = default)
    {
        var r = (await ExecAsync(side, $"wg show {tunnel.InterfaceOf(side)} transfer", ct: ct).ConfigureAwait(false)).EnsureSuccess();
        var f = r.StdOut.Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return f.Length >= 3 ? (long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture)) : (0, 0);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 9108, Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "NAT {Router}: {What}")]
    private static partial void LogNat(Microsoft.Extensions.Logging.ILogger logger, string router, string what);
}
