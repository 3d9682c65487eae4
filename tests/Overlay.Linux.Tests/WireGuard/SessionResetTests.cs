using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Net;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Netlink;
using Overlay.Linux.Probing;
using Overlay.Linux.WireGuard;
using C = Overlay.Linux.WireGuard.WireGuardNetlinkCodec;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

/// <summary>Resetting a peer's session (remove + re-add in one set), on the wire formats and against real wireguard-go.</summary>
public sealed class SessionResetTests(ITestOutputHelper output) : IDisposable
{
    private readonly WireGuardLab _lab = new();
    private readonly IWireGuardClient _client = WireGuardClient.CreateUserspace();

    public void Dispose()
    {
        _client.Dispose();
        _lab.Dispose();
    }

    private static readonly WireGuardKey PeerKey = WireGuardKey.FromHex(new string('a', 64));

    private static WireGuardPeer Peer(TimeSpan keepalive, WireGuardPresharedKey? psk) => new(
        PeerKey, psk, IPEndPoint.Parse("203.0.113.10:51820"), [IpPrefix.Parse("10.99.0.1/32"), IpPrefix.Parse("10.98.0.0/16")],
        keepalive, DateTimeOffset.UnixEpoch, 100, 200, 1);

    [Fact]
    public void Uapi_reset_is_one_set_that_removes_then_re_adds_the_same_configuration()
    {
        var psk = WireGuardPresharedKey.FromHex(new string('3', 64));
        string set = UapiCodec.FormatSet(WireGuardSessionReset.Plan(Peer(TimeSpan.FromSeconds(25), psk)));
        string key = new('a', 64);
        Assert.Equal(
            $"set=1\npublic_key={key}\nremove=true\npublic_key={key}\npreshared_key={new string('3', 64)}\nendpoint=203.0.113.10:51820\n" +
            "persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.99.0.1/32\nallowed_ip=10.98.0.0/16\n\n", set);
    }

    [Fact]
    public void Without_keepalive_or_preshared_key_neither_is_sent()
    {
        string set = UapiCodec.FormatSet(WireGuardSessionReset.Plan(Peer(TimeSpan.Zero, null)));
        Assert.DoesNotContain("persistent_keepalive_interval", set);
        Assert.DoesNotContain("preshared_key", set);
    }

    [Fact]
    public void Kernel_reset_is_one_message_with_the_removal_first()
    {
        var w = new NetlinkWriter();
        var messages = C.WriteSetDevice(w, 0x1c, 1, "wg0", WireGuardSessionReset.Plan(Peer(TimeSpan.FromSeconds(25), null)));
        Assert.Single(messages);
        var bytes = w.WrittenSpan.ToArray();
        string hex = Convert.ToHexStringLower(bytes);
        string keyHex = new('a', 64);
        int first = hex.IndexOf(keyHex, StringComparison.Ordinal), second = hex.IndexOf(keyHex, first + 64, StringComparison.Ordinal);
        Assert.True(first > 0 && second > first, "the peer key appears twice");
        // WGPEER_A_FLAGS (type 3, len 8) = WGPEER_F_REMOVE_ME right after the first key; REPLACE_ALLOWEDIPS after the second.
        Assert.Equal("0800030001000000", hex.Substring(first + 64, 16));
        Assert.Equal("0800030002000000", hex.Substring(second + 64, 16));
    }

    [SkippableFact]
    public async Task A_reset_drops_the_session_keeps_the_configuration_and_the_next_packet_handshakes()
    {
        var why = WireGuardLab.WhyNotRunnable();
        Skip.If(why is not null, why);
        string nsA = _lab.Namespace("ra"), nsB = _lab.Namespace("rb");
        _lab.Veth(nsA, "198.51.100.1/24", nsB, "198.51.100.2/24");
        string devA = _lab.Device(nsA, "a"), devB = _lab.Device(nsB, "b");
        var privA = WireGuardPrivateKey.Generate();
        var privB = WireGuardPrivateKey.Generate();
        var pubA = WireGuardKeys.PublicKeyOf(privA);
        var pubB = WireGuardKeys.PublicKeyOf(privB);
        await _client.SyncAsync(devA, new WireGuardDeviceSpec(privA, 51820, 0,
            [new WireGuardPeerSpec(pubB, [IpPrefix.Parse("10.77.0.2/32")], WireGuardPresharedKey.Generate() is var psk ? psk : null, IPEndPoint.Parse("198.51.100.2:51821"), TimeSpan.FromSeconds(7))]));
        await _client.SyncAsync(devB, new WireGuardDeviceSpec(privB, 51821, 0,
            [new WireGuardPeerSpec(pubA, [IpPrefix.Parse("10.77.0.1/32")], psk, IPEndPoint.Parse("198.51.100.1:51820"))]));
        foreach (var (ns, dev, addr) in new[] { (nsA, devA, "10.77.0.1/24"), (nsB, devB, "10.77.0.2/24") })
        {
            WireGuardLab.Run("ip", "-n", ns, "addr", "add", addr, "dev", dev);
            WireGuardLab.Run("ip", "-n", ns, "link", "set", dev, "up");
        }

        // The probe overlayd's watchdog uses: echo out of the interface, replies counted.
        using var netns = NetNamespace.Open(nsA);
        using var probe = netns.Run(() => IcmpEchoProbe.Open(devA, IPAddress.Parse("10.77.0.2")));
        output.WriteLine($"probe uses a {probe.Kind}");
        await AnsweredAsync(probe, "first echo through the tunnel");
        var before = (await _client.DeviceAsync(devA)).Peers.Single();
        Assert.NotNull(before.LastHandshake);

        var sw = Stopwatch.StartNew();
        var was = await _client.ResetPeerSessionAsync(devA, pubB);
        output.WriteLine($"reset took {sw.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.Equal(before.PublicKey, was.PublicKey);
        var after = (await _client.DeviceAsync(devA)).Peers.Single();
        // A new peer: no session, or (keepalive on: re-adding it sends one at once) a new one already.
        Assert.True(after.LastHandshake is null || after.LastHandshake > before.LastHandshake, $"handshake {after.LastHandshake} vs {before.LastHandshake}");
        Assert.True(after.ReceiveBytes < before.ReceiveBytes, "counters start again");
        Assert.Equal(before.Endpoint, after.Endpoint);
        Assert.Equal(before.AllowedIPs, after.AllowedIPs);
        Assert.Equal(before.PersistentKeepalive, after.PersistentKeepalive);
        Assert.Equal(before.PresharedKey, after.PresharedKey);

        // Replies to the extra echoes sent while the first handshake was pending may still wait in the socket: they
        // were carried by the old session, so drop them before asking for an answer through the new one.
        probe.DrainReplies();
        await AnsweredAsync(probe, "echo after the reset");
        var rehandshook = (await _client.DeviceAsync(devA)).Peers.Single();
        Assert.True(rehandshook.LastHandshake > before.LastHandshake, "a new handshake carried the echo");
        output.WriteLine($"echo answered again {sw.Elapsed.TotalMilliseconds:0} ms after the reset (new handshake)");

        await Assert.ThrowsAsync<WireGuardException>(() => _client.ResetPeerSessionAsync(devA, WireGuardKeys.PublicKeyOf(WireGuardPrivateKey.Generate())));
    }

    private static async Task AnsweredAsync(IcmpEchoProbe probe, string what)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try { probe.Send(); } catch (SocketException) { }
            await Task.Delay(50);
            if (probe.DrainReplies() > 0) return;
            if (sw.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException(what + ": no echo reply within 15 s");
        }
    }
}
