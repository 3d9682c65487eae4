using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// The text protocol of userspace WireGuard (wireguard-go, boringtun): "get=1" and "set=1" requests of
/// key=value lines ending with an empty line, keys in lowercase hex, answers ending with "errno=N".
/// Pure functions, tested against bytes.
/// </summary>
internal static class UapiCodec
{
    public const string GetRequest = "get=1\n\n";

    /// <summary>Parses a complete reply to get=1 (ASCII bytes, as read from the socket) into a device.</summary>
    public static WireGuardDevice ParseGet(string device, ReadOnlySpan<byte> reply)
    {
        WireGuardPrivateKey? privateKey = null;
        int listenPort = 0;
        uint fwmark = 0;
        int? errno = null;
        var peers = new List<WireGuardPeer>();
        WireGuardPeerBuilder? peer = null;
        Span<byte> key32 = stackalloc byte[WireGuardKey.Size];
        int lineNo = 0;

        while (!reply.IsEmpty)
        {
            int nl = reply.IndexOf((byte)'\n');
            var line = nl < 0 ? reply : reply[..nl];
            reply = nl < 0 ? default : reply[(nl + 1)..];
            lineNo++;
            if (line.IsEmpty) continue;
            int eq = line.IndexOf((byte)'=');
            if (eq <= 0) throw Malformed(device, lineNo, "a line without key=value");
            var key = line[..eq];
            var value = line[(eq + 1)..];

            // Ordered by frequency in a large device: one allowed_ip line or more per peer, a dozen fields per peer.
            if (peer is not null && key.SequenceEqual("allowed_ip"u8))
                peer.AllowedIPs.Add(ParsePrefix(device, lineNo, value));
            else if (key.SequenceEqual("public_key"u8))
            {
                if (peer is not null) peers.Add(peer.Build(m => Malformed(device, lineNo, m)));
                ParseHexKey(device, lineNo, key, value, key32);
                peer = new WireGuardPeerBuilder(new WireGuardKey(key32));
            }
            else if (key.SequenceEqual("errno"u8))
            {
                long e = ParseLong(device, lineNo, key, value);
                // Linux errnos are below 4096 (MAX_ERRNO); anything else is not an answer a device gives.
                if (e is <= -4096 or >= 4096) throw Malformed(device, lineNo, $"errno {e} is not an errno");
                errno = (int)e;
            }
            else if (peer is null)
            {
                if (key.SequenceEqual("private_key"u8))
                {
                    ParseHexKey(device, lineNo, key, value, key32);
                    privateKey = key32.IndexOfAnyExcept((byte)0) < 0 ? null : new WireGuardPrivateKey(key32);
                }
                else if (key.SequenceEqual("listen_port"u8)) listenPort = (int)ParseLong(device, lineNo, key, value);
                else if (key.SequenceEqual("fwmark"u8)) fwmark = (uint)ParseLong(device, lineNo, key, value);
                // Anything else: newer implementations may add fields; they are not ours to reject.
            }
            else if (key.SequenceEqual("preshared_key"u8))
            {
                ParseHexKey(device, lineNo, key, value, key32);
                peer.PresharedKey = key32.IndexOfAnyExcept((byte)0) < 0 ? null : new WireGuardPresharedKey(key32);
            }
            else if (key.SequenceEqual("endpoint"u8)) peer.Endpoint = ParseEndpoint(device, lineNo, value);
            else if (key.SequenceEqual("last_handshake_time_sec"u8)) peer.HandshakeSeconds = ParseLong(device, lineNo, key, value);
            else if (key.SequenceEqual("last_handshake_time_nsec"u8)) peer.HandshakeNanoseconds = ParseLong(device, lineNo, key, value);
            else if (key.SequenceEqual("tx_bytes"u8)) peer.TransmitBytes = ParseLong(device, lineNo, key, value);
            else if (key.SequenceEqual("rx_bytes"u8)) peer.ReceiveBytes = ParseLong(device, lineNo, key, value);
            else if (key.SequenceEqual("persistent_keepalive_interval"u8)) peer.Keepalive = (int)ParseLong(device, lineNo, key, value);
            else if (key.SequenceEqual("protocol_version"u8)) peer.ProtocolVersion = (int)ParseLong(device, lineNo, key, value);
        }
        if (peer is not null) peers.Add(peer.Build(m => Malformed(device, lineNo, m)));

        if (errno is null) throw Malformed(device, lineNo, "the reply has no errno line (truncated?)");
        ThrowIfError(device, "get", errno.Value);
        var publicKey = privateKey is null ? default : PublicKeyOf(device, privateKey);
        return new WireGuardDevice(device, WireGuardDeviceType.Userspace, privateKey, publicKey, listenPort, fwmark, peers);
    }

    /// <summary>The last key derived per device: a device's private key rarely changes, while a poller reads it every second.</summary>
    private static readonly ConcurrentDictionary<string, (WireGuardPrivateKey Private, WireGuardKey Public)> DerivedKeys = new(StringComparer.Ordinal);

    /// <summary>
    /// X25519 costs tens of microseconds per key (docs/benchmarks.md; the first, hand-written version ~0.3 ms was most of
    /// overlayd's idle CPU with 200 devices polled every second); derive only when the device's private key differs
    /// from the one derived last time.
    /// </summary>
    private static WireGuardKey PublicKeyOf(string device, WireGuardPrivateKey privateKey)
    {
        if (DerivedKeys.TryGetValue(device, out var known) && known.Private.Equals(privateKey)) return known.Public;
        var publicKey = WireGuardKeys.PublicKeyOf(privateKey);
        DerivedKeys[device] = (privateKey, publicKey);
        return publicKey;
    }

    /// <summary>Checks the reply to set=1: just "errno=N".</summary>
    public static void CheckSetReply(string device, ReadOnlySpan<byte> reply)
    {
        var line = reply.TrimEnd((byte)'\n');
        if (!line.StartsWith("errno="u8) || !int.TryParse(line[6..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int errno)
            || errno is <= -4096 or >= 4096)
            throw new WireGuardException(device, "set", $"unexpected UAPI reply '{Text(line)}'; expected errno=N");
        ThrowIfError(device, "set", errno);
    }

    /// <summary>Formats a change as a set=1 request, terminating empty line included.</summary>
    public static string FormatSet(WireGuardDeviceConfig config)
    {
        var sb = new StringBuilder(64 + config.Peers.Count * 160);
        sb.Append("set=1\n");
        if (config.PrivateKey is { } pk) sb.Append("private_key=").Append(pk.RevealHex()).Append('\n');
        if (config.ListenPort is { } port) sb.Append("listen_port=").Append(port.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (config.FirewallMark is { } mark) sb.Append("fwmark=").Append(mark.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (config.ReplacePeers) sb.Append("replace_peers=true\n");
        foreach (var p in config.Peers)
        {
            sb.Append("public_key=").Append(p.PublicKey.ToHex()).Append('\n');
            if (p.Remove)
            {
                sb.Append("remove=true\n");
                continue;
            }
            // update_only must precede the fields it guards: the device decides on it before applying them.
            if (p.UpdateOnly) sb.Append("update_only=true\n");
            if (p.PresharedKey is { } psk) sb.Append("preshared_key=").Append(psk.RevealHex()).Append('\n');
            if (p.Endpoint is { } ep) sb.Append("endpoint=").Append(ep.ToString()).Append('\n');
            if (p.PersistentKeepalive is { } ka)
                sb.Append("persistent_keepalive_interval=").Append(((int)ka.TotalSeconds).ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (p.ReplaceAllowedIPs) sb.Append("replace_allowed_ips=true\n");
            foreach (var ip in p.AllowedIPs) sb.Append("allowed_ip=").Append(ip.ToString()).Append('\n');
        }
        sb.Append('\n');
        return sb.ToString();
    }

    private static void ThrowIfError(string device, string operation, int errno)
    {
        if (errno == 0) return;
        // wireguard-go answers negative errnos (errno=-22), the C tools positive ones.
        int e = Math.Abs(errno);
        throw new WireGuardException(device, operation, $"the device answered errno {e} ({ErrnoName(e)})", e);
    }

    private static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        5 => "EIO",
        12 => "ENOMEM",
        19 => "ENODEV",
        22 => "EINVAL: the device rejected a field",
        95 => "EOPNOTSUPP",
        98 => "EADDRINUSE: the listen port is taken",
        _ => "see errno(3)",
    };

    private static void ParseHexKey(string device, int lineNo, ReadOnlySpan<byte> key, ReadOnlySpan<byte> hex, Span<byte> destination)
    {
        if (hex.Length != 2 * WireGuardKey.Size) throw Malformed(device, lineNo, $"{Text(key)} is not 64 hex digits");
        for (int i = 0; i < WireGuardKey.Size; i++)
        {
            int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
            if ((hi | lo) < 0) throw Malformed(device, lineNo, $"{Text(key)} is not 64 hex digits");
            destination[i] = (byte)((hi << 4) | lo);
        }
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static long ParseLong(string device, int lineNo, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Malformed(device, lineNo, $"{Text(key)}='{Text(value)}' is not an integer");

    private static IpPrefix ParsePrefix(string device, int lineNo, ReadOnlySpan<byte> value)
    {
        int slash = value.IndexOf((byte)'/');
        if (slash > 0 && IPAddress.TryParse(value[..slash], out var address) &&
            int.TryParse(value[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int length) &&
            value[..slash].IndexOf((byte)'%') < 0 && length <= (address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32) &&
            // IPAddress also accepts "10.0.0" and "10"; a device only ever prints dotted quads.
            (address.AddressFamily == AddressFamily.InterNetworkV6 || value[..slash].Count((byte)'.') == 3))
            return IpPrefix.Create(address, length);
        throw Malformed(device, lineNo, $"allowed_ip '{Text(value)}' is not address/length");
    }

    private static IPEndPoint ParseEndpoint(string device, int lineNo, ReadOnlySpan<byte> value)
    {
        // "192.0.2.1:51820" or "[2001:db8::1]:51820" (possibly with a %scope inside the brackets).
        int colon = value.LastIndexOf((byte)':');
        if (colon > 0 && int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= ushort.MaxValue)
        {
            var host = value[..colon];
            if (host.Length > 2 && host[0] == (byte)'[' && host[^1] == (byte)']') host = host[1..^1];
            if (IPAddress.TryParse(host, out var address)) return new IPEndPoint(address, port);
        }
        throw Malformed(device, lineNo, $"endpoint '{Text(value)}' is not address:port");
    }

    private static string Text(ReadOnlySpan<byte> ascii) => Encoding.ASCII.GetString(ascii);

    private static WireGuardException Malformed(string device, int lineNo, string what) =>
        new(device, "get", $"malformed UAPI reply at line {lineNo}: {what}");
}
