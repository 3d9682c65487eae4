using System.Globalization;
using System.Net;
using System.Text;
using Overlay.Core.Net;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// The text protocol of userspace WireGuard (wireguard-go, boringtun): "get=1" and "set=1" requests of
/// key=value lines ending with an empty line, keys in lowercase hex, answers ending with "errno=N".
/// Pure functions, tested against bytes.
/// </summary>
internal static class UapiCodec
{
    public const string GetRequest = "get=1\n\n";

    /// <summary>Parses a complete reply to get=1 into a device.</summary>
    public static WireGuardDevice ParseGet(string device, string reply)
    {
        WireGuardPrivateKey? privateKey = null;
        int listenPort = 0;
        uint fwmark = 0;
        int? errno = null;
        var peers = new List<WireGuardPeer>();
        WireGuardPeerBuilder? peer = null;
        int lineNo = 0;

        foreach (var line in reply.AsSpan().EnumerateLines())
        {
            lineNo++;
            if (line.IsEmpty) continue;
            int eq = line.IndexOf('=');
            if (eq <= 0) throw Malformed(device, lineNo, "a line without key=value");
            var key = line[..eq];
            var value = line[(eq + 1)..];

            if (key.SequenceEqual("errno"))
            {
                errno = ParseInt(device, lineNo, key, value);
                continue;
            }
            if (key.SequenceEqual("public_key"))
            {
                if (peer is not null) peers.Add(peer.Build());
                peer = new WireGuardPeerBuilder(ParseKey(device, lineNo, key, value));
                continue;
            }
            if (peer is null)
            {
                switch (key)
                {
                    case "private_key":
                        var pk = WireGuardPrivateKey.FromHex(CheckHex(device, lineNo, key, value));
                        privateKey = pk.RevealBytes().IndexOfAnyExcept((byte)0) < 0 ? null : pk;
                        break;
                    case "listen_port": listenPort = ParseInt(device, lineNo, key, value); break;
                    case "fwmark": fwmark = (uint)ParseLong(device, lineNo, key, value); break;
                    default: break; // newer implementations may add fields; they are not ours to reject
                }
                continue;
            }
            switch (key)
            {
                case "preshared_key":
                    var psk = WireGuardPresharedKey.FromHex(CheckHex(device, lineNo, key, value));
                    peer.PresharedKey = psk.IsNone ? null : psk;
                    break;
                case "protocol_version": peer.ProtocolVersion = ParseInt(device, lineNo, key, value); break;
                case "endpoint":
                    if (!IPEndPoint.TryParse(value, out var ep)) throw Malformed(device, lineNo, $"endpoint '{value}' is not address:port");
                    peer.Endpoint = ep;
                    break;
                case "last_handshake_time_sec": peer.HandshakeSeconds = ParseLong(device, lineNo, key, value); break;
                case "last_handshake_time_nsec": peer.HandshakeNanoseconds = ParseLong(device, lineNo, key, value); break;
                case "tx_bytes": peer.TransmitBytes = ParseLong(device, lineNo, key, value); break;
                case "rx_bytes": peer.ReceiveBytes = ParseLong(device, lineNo, key, value); break;
                case "persistent_keepalive_interval": peer.Keepalive = ParseInt(device, lineNo, key, value); break;
                case "allowed_ip":
                    if (!IpPrefix.TryParse(value.ToString(), strict: false, out var prefix, out var error))
                        throw Malformed(device, lineNo, error!);
                    peer.AllowedIPs.Add(prefix);
                    break;
                default: break;
            }
        }
        if (peer is not null) peers.Add(peer.Build());

        if (errno is null) throw Malformed(device, lineNo, "the reply has no errno line (truncated?)");
        ThrowIfError(device, "get", errno.Value);
        var publicKey = privateKey is null ? default : Curve25519.PublicKey(privateKey);
        return new WireGuardDevice(device, WireGuardDeviceType.Userspace, privateKey, publicKey, listenPort, fwmark, peers);
    }

    /// <summary>Checks the reply to set=1: just "errno=N".</summary>
    public static void CheckSetReply(string device, string reply)
    {
        int? errno = null;
        int lineNo = 0;
        foreach (var line in reply.AsSpan().EnumerateLines())
        {
            lineNo++;
            if (!line.StartsWith("errno=")) continue;
            errno = int.TryParse(line[6..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int e)
                ? e
                : throw new WireGuardException(device, "set", $"malformed UAPI reply at line {lineNo}: '{line}'");
        }
        if (errno is null) throw new WireGuardException(device, "set", "the reply has no errno line (truncated?)");
        ThrowIfError(device, "set", errno.Value);
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

    private static string CheckHex(string device, int lineNo, ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        if (value.Length != 64 || !IsHex(value))
            throw Malformed(device, lineNo, $"{key} is not 64 hex digits");
        return value.ToString();
    }

    private static WireGuardKey ParseKey(string device, int lineNo, ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        if (value.Length != 64 || !IsHex(value)) throw Malformed(device, lineNo, $"{key} is not 64 hex digits");
        Span<byte> bytes = stackalloc byte[32];
        Convert.FromHexString(value, bytes, out _, out _);
        return new WireGuardKey(bytes);
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private static bool IsHex(ReadOnlySpan<char> s) => !s.ContainsAnyExcept(HexDigits);

    private static int ParseInt(string device, int lineNo, ReadOnlySpan<char> key, ReadOnlySpan<char> value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw Malformed(device, lineNo, $"{key}='{value}' is not an integer");

    private static long ParseLong(string device, int lineNo, ReadOnlySpan<char> key, ReadOnlySpan<char> value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Malformed(device, lineNo, $"{key}='{value}' is not an integer");

    private static WireGuardException Malformed(string device, int lineNo, string what) =>
        new(device, "get", $"malformed UAPI reply at line {lineNo}: {what}");
}
