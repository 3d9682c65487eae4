using Overlay.Core.Model;
using Overlay.Core.Config;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Daemon.Anycast;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>
/// A node with two interfaces (wg-a with keepalives, so rx progress counts) and two VIPs under different policies
/// ("fast": handshake 180 s, rx stall 60 s; "strict": handshake 150 s, rx stall 30 s), for the VIP loop's pure parts.
/// </summary>
internal static class VipLoopTestConfig
{
    public const string KeyA = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    public const string KeyB = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

    /// <param name="extraInterface">Adds wg-hub, which no VIP uses.</param>
    public static NodeConfig Load(string defaultPolicy = "", bool extraInterface = false)
    {
        var text = $"""
            node: n1
            api:
              socket: /tmp/ovl-unit.sock
            interfaces:
              - {iface("wg-a", KeyA, "10.255.1.1/31", "10.255.1.0", "10s")}
              - {iface("wg-b", KeyB, "10.255.1.3/31", "10.255.1.2", "0s")}
            {(extraInterface ? "  - " + iface("wg-hub", KeyB, "10.255.1.5/31", "10.255.1.4", "0s") : "")}
            policies:
              fast:
                interval: 100ms
                fastInterval: 50ms
                rise: 2
                fall: 1
                handshakeMaxAge: 180s
                holdDown: {"{"}advertise: 0s, withdraw: 0s{"}"}
              strict:
                interval: 1s
                handshakeMaxAge: 150s
                rxStallAfter: 30s
                rise: 1
                fall: 1
                holdDown: {"{"}advertise: 0s, withdraw: 0s{"}"}
            {defaultPolicy}
            vips:
              - {"{"}name: web, prefix: 203.0.113.10/32, policy: fast, lease: ovl-web, interfaces: [wg-a, wg-b]{"}"}
              - {"{"}name: api, prefix: 203.0.113.11/32, policy: strict, lease: ovl-api, interfaces: [wg-a]{"}"}
            drain:
              file: /tmp/ovl-unit-drain
            """;
        var r = NodeConfigYaml.Read(text, "unit.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        return r.Config!;

        static string iface(string name, string key, string local, string peer, string keepalive) =>
            $"{{name: {name}, peer: up-{name}, peerPublicKey: \"{key}\", keepalive: {keepalive}, localAddress: {local}, peerAddress: {peer}, gate: [10.0.0.0/8], bfd: false}}";
    }

    /// <summary>Every interface up with a handshake <paramref name="handshakeAge"/> old.</summary>
    public static SignalSnapshot Signals(NodeConfig cfg, DateTimeOffset now, TimeSpan handshakeAge, LinkOperState link = LinkOperState.Up)
    {
        var interfaces = cfg.Interfaces.ToDictionary(i => i.Name, i => new InterfaceObservation(i.Name, link,
            new WireGuardPeer(i.PeerPublicKey, null, null, [IpPrefix.Parse("10.0.0.0/8")], TimeSpan.Zero, now - handshakeAge, 100, 100, 1),
            now, null), StringComparer.Ordinal);
        return new SignalSnapshot(interfaces, RoutingSnapshot.Empty, null, now);
    }
}
