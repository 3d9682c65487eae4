using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

public class UapiCodecTests
{
    // A reply captured from wireguard-go v0.0.20220316 (keys replaced by fixed test keys).
    private const string PrivHex = "c857f2c1855ffd8415dbdead918bdee8eef2a130536711cc724c44e8365e3e5f";
    private const string PrivB64 = "yFfywYVf/YQV296tkYve6O7yoTBTZxHMckxE6DZePl8=";
    private const string PubB64 = "HuzAmbzbTdpejG9vfJGgSoHrZl8xkSsVYTBhK6SF/wc=";
    private const string PeerHex = "06440d60293a4b1306d1b9ba1140d2d32de7033b34524042b2a591de75ab2e01";
    private const string PeerB64 = "BkQNYCk6SxMG0bm6EUDS0y3nAzs0UkBCsqWR3nWrLgE=";
    private const string PskHex = "3148b5c73e4d294714212813adb6ae367e2f8c16dbb3ca847c5b97bd786f5536";
    private const string Peer2Hex = "1111111111111111111111111111111111111111111111111111111111111111";

    private static readonly string Reply =
        $"private_key={PrivHex}\nlisten_port=51820\nfwmark=16\n" +
        $"public_key={PeerHex}\npreshared_key={PskHex}\nprotocol_version=1\nendpoint=[fd00::1]:5555\n" +
        "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=250000000\ntx_bytes=92\nrx_bytes=148\n" +
        "persistent_keepalive_interval=25\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\nallowed_ip=10.1.0.1/32\n" +
        $"public_key={Peer2Hex}\npreshared_key={new string('0', 64)}\nprotocol_version=1\n" +
        "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n" +
        "errno=0\n\n";

    private static byte[] A(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Fact]
    public void Parses_a_wireguard_go_reply()
    {
        var d = UapiCodec.ParseGet("wg0", A(Reply));
        Assert.Equal("wg0", d.Name);
        Assert.Equal(WireGuardDeviceType.Userspace, d.Type);
        Assert.Equal(PrivB64, d.PrivateKey!.RevealBase64());
        Assert.Equal(PubB64, d.PublicKey.ToBase64()); // derived: UAPI does not send it
        Assert.Equal(51820, d.ListenPort);
        Assert.Equal(16u, d.FirewallMark);
        Assert.Equal(2, d.Peers.Count);

        var p = d.Peers[0];
        Assert.Equal(PeerB64, p.PublicKey.ToBase64());
        Assert.Equal(PskHex, p.PresharedKey!.RevealHex());
        Assert.Equal(IPEndPoint.Parse("[fd00::1]:5555"), p.Endpoint);
        Assert.Equal(["10.0.0.0/24", "fd00::/64", "10.1.0.1/32"], p.AllowedIPs.Select(a => a.ToString()));
        Assert.Equal(TimeSpan.FromSeconds(25), p.PersistentKeepalive);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddMilliseconds(250), p.LastHandshake);
        Assert.Equal(148, p.ReceiveBytes);
        Assert.Equal(92, p.TransmitBytes);
        Assert.Equal(1, p.ProtocolVersion);

        var q = d.Peers[1];
        Assert.Null(q.PresharedKey); // all-zero means none
        Assert.Null(q.Endpoint);
        Assert.Null(q.LastHandshake);
        Assert.Empty(q.AllowedIPs);
        Assert.Equal(TimeSpan.Zero, q.PersistentKeepalive);
    }

    [Fact]
    public void A_device_without_private_key_has_zero_public_key()
    {
        var d = UapiCodec.ParseGet("wg0", "errno=0\n\n"u8);
        Assert.Null(d.PrivateKey);
        Assert.True(d.PublicKey.IsZero);
        Assert.Equal(0, d.ListenPort);
        Assert.Empty(d.Peers);
    }

    [Theory]
    [InlineData("errno=-22\n\n", 22)]
    [InlineData("errno=1\n\n", 1)]
    public void Errno_replies_become_exceptions_naming_device_and_errno(string reply, int errno)
    {
        var e = Assert.Throws<WireGuardException>(() => UapiCodec.ParseGet("wgx", A(reply)));
        Assert.Equal(errno, e.Errno);
        Assert.Contains("'wgx'", e.Message);
        var s = Assert.Throws<WireGuardException>(() => UapiCodec.CheckSetReply("wgx", A(reply)));
        Assert.Equal(errno, s.Errno);
        Assert.Equal("set", s.Operation);
    }

    [Theory]
    [InlineData("listen_port=1\n", "no errno line")]
    [InlineData("public_key=zz\nerrno=0\n\n", "public_key is not 64 hex digits")]
    [InlineData("garbage\nerrno=0\n\n", "line 1")]
    [InlineData("public_key=" + Peer2Hex + "\nallowed_ip=10.0.0/8\nerrno=0\n\n", "line 2")]
    public void Malformed_replies_say_where(string reply, string expected)
    {
        var e = Assert.Throws<WireGuardException>(() => UapiCodec.ParseGet("wg0", A(reply)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Unknown_keys_are_ignored()
    {
        var d = UapiCodec.ParseGet("wg0", A($"listen_port=1\nfuture_thing=3\npublic_key={Peer2Hex}\nanother=x\nerrno=0\n\n"));
        Assert.Single(d.Peers);
    }

    [Fact]
    public void Private_and_preshared_keys_never_print()
    {
        var d = UapiCodec.ParseGet("wg0", A(Reply));
        string text = d.ToString() + d.Peers[0].ToString();
        Assert.DoesNotContain(PrivB64, text);
        Assert.DoesNotContain(PrivHex, text);
        Assert.DoesNotContain(PskHex, text);
        Assert.DoesNotContain(d.Peers[0].PresharedKey!.RevealBase64(), text);
        Assert.Contains("(redacted)", text);
    }

    [Fact]
    public void Formats_every_field_of_a_set()
    {
        var peer = WireGuardKey.FromHex(PeerHex);
        var config = new WireGuardDeviceConfig
        {
            PrivateKey = WireGuardPrivateKey.FromHex(PrivHex),
            ListenPort = 51820,
            FirewallMark = 0,
            ReplacePeers = true,
            Peers =
            [
                new WireGuardPeerConfig(peer)
                {
                    UpdateOnly = true,
                    PresharedKey = WireGuardPresharedKey.FromHex(PskHex),
                    Endpoint = IPEndPoint.Parse("[fd00::1]:5555"),
                    PersistentKeepalive = TimeSpan.FromSeconds(25),
                    ReplaceAllowedIPs = true,
                    AllowedIPs = [IpPrefix.Parse("10.0.0.0/24"), IpPrefix.Parse("fd00::/64")],
                },
                new WireGuardPeerConfig(WireGuardKey.FromHex(Peer2Hex)) { Remove = true, AllowedIPs = [IpPrefix.Parse("10.9.0.0/16")] },
            ],
        };
        Assert.Equal(
            $"set=1\nprivate_key={PrivHex}\nlisten_port=51820\nfwmark=0\nreplace_peers=true\n" +
            $"public_key={PeerHex}\nupdate_only=true\npreshared_key={PskHex}\nendpoint=[fd00::1]:5555\n" +
            "persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\n" +
            $"public_key={Peer2Hex}\nremove=true\n\n",
            UapiCodec.FormatSet(config));
    }

    [Fact]
    public void Formats_only_what_is_set()
    {
        var config = new WireGuardDeviceConfig
        {
            Peers = [new WireGuardPeerConfig(WireGuardKey.FromHex(Peer2Hex)) { Endpoint = IPEndPoint.Parse("192.0.2.1:51820") }],
        };
        Assert.Equal($"set=1\npublic_key={Peer2Hex}\nendpoint=192.0.2.1:51820\n\n", UapiCodec.FormatSet(config));
    }
}
