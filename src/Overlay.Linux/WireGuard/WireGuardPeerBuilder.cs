using System.Net;
using Overlay.Core.Net;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>Collects a peer's fields while a backend's reply is parsed (both backends report the same raw values).</summary>
internal sealed class WireGuardPeerBuilder(WireGuardKey publicKey)
{
    public WireGuardPresharedKey? PresharedKey;
    public IPEndPoint? Endpoint;
    public long HandshakeSeconds, HandshakeNanoseconds, ReceiveBytes, TransmitBytes;
    public int Keepalive, ProtocolVersion;
    public readonly List<IpPrefix> AllowedIPs = [];

    /// <summary>The latest handshake a timestamp can name (DateTimeOffset's range ends in year 9999).</summary>
    private static readonly long MaxHandshakeSeconds = (DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerSecond - 1;

    /// <summary>The peer; <paramref name="malformed"/> makes the backend's own exception for a value no device sends.</summary>
    public WireGuardPeer Build(Func<string, Exception> malformed)
    {
        // Both backends report "never" as a zero timestamp.
        if (HandshakeSeconds is < 0 || HandshakeSeconds > MaxHandshakeSeconds || HandshakeNanoseconds is < 0 or >= 1_000_000_000)
            throw malformed($"peer {publicKey.ToBase64()} has an impossible last handshake time ({HandshakeSeconds} s, {HandshakeNanoseconds} ns)");
        DateTimeOffset? handshake = HandshakeSeconds == 0 && HandshakeNanoseconds == 0
            ? null
            : DateTimeOffset.UnixEpoch.AddTicks(HandshakeSeconds * TimeSpan.TicksPerSecond + HandshakeNanoseconds / 100);
        return new WireGuardPeer(publicKey, PresharedKey, Endpoint, AllowedIPs, TimeSpan.FromSeconds(Keepalive),
                                 handshake, ReceiveBytes, TransmitBytes, ProtocolVersion);
    }
}
