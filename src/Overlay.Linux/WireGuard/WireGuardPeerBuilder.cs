using System.Net;
using Overlay.Core.Net;

namespace Overlay.Linux.WireGuard;

/// <summary>Collects a peer's fields while a backend's reply is parsed (both backends report the same raw values).</summary>
internal sealed class WireGuardPeerBuilder(WireGuardKey publicKey)
{
    public WireGuardPresharedKey? PresharedKey;
    public IPEndPoint? Endpoint;
    public long HandshakeSeconds, HandshakeNanoseconds, ReceiveBytes, TransmitBytes;
    public int Keepalive, ProtocolVersion;
    public readonly List<IpPrefix> AllowedIPs = [];

    public WireGuardPeer Build()
    {
        // Both backends report "never" as a zero timestamp.
        DateTimeOffset? handshake = HandshakeSeconds == 0 && HandshakeNanoseconds == 0
            ? null
            : DateTimeOffset.UnixEpoch.AddTicks(HandshakeSeconds * TimeSpan.TicksPerSecond + HandshakeNanoseconds / 100);
        return new WireGuardPeer(publicKey, PresharedKey, Endpoint, AllowedIPs, TimeSpan.FromSeconds(Keepalive),
                                 handshake, ReceiveBytes, TransmitBytes, ProtocolVersion);
    }
}
