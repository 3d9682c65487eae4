using System.Buffers.Binary;
using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.Netlink;
using Overlay.Linux.WireGuard;
using C = Overlay.Linux.WireGuard.WireGuardNetlinkCodec;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

/// <summary>
/// The wireguard generic netlink family against byte fixtures built from the layout documented in
/// include/uapi/linux/wireguard.h (no kernel module here). The fixtures use a tiny TLV builder of their own,
/// not the production writer, so both sides are checked against the documented layout.
/// </summary>
public class WireGuardNetlinkCodecTests
{
    private const ushort Family = 0x1c;
    private static readonly WireGuardKey PeerA = WireGuardKey.FromHex(new string('a', 64));
    private static readonly WireGuardKey PeerB = WireGuardKey.FromHex(new string('b', 64));
    private static readonly byte[] PrivBytes = Convert.FromHexString("c857f2c1855ffd8415dbdead918bdee8eef2a130536711cc724c44e8365e3e5f");

    // --- fixture builder: struct nlattr { u16 nla_len; u16 nla_type; } + value, padded to 4 ---
    private static byte[] Attr(int type, params byte[][] value)
    {
        var body = value.SelectMany(v => v).ToArray();
        var a = new byte[(4 + body.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(a, (ushort)(4 + body.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(2), (ushort)type);
        body.CopyTo(a, 4);
        return a;
    }
    private static byte[] Nest(int type, params byte[][] attrs) => Attr(type | 0x8000, attrs);
    private static byte[] U8(byte v) => [v];
    private static byte[] U16(ushort v) => BitConverter.GetBytes(v);
    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);
    private static byte[] Str(string s) => [.. System.Text.Encoding.ASCII.GetBytes(s), 0];
    private static byte[] Be16(ushort v) => [(byte)(v >> 8), (byte)v];
    private static byte[] SockaddrIn(string ip, ushort port) => [.. U16(2), .. Be16(port), .. IPAddress.Parse(ip).GetAddressBytes(), .. new byte[8]];
    private static byte[] SockaddrIn6(string ip, ushort port) => [.. U16(10), .. Be16(port), .. U32(0), .. IPAddress.Parse(ip).GetAddressBytes(), .. U32(0)];
    private static byte[] AllowedIP(string ip, byte cidr) =>
        Nest(0, Attr(1, U16(IPAddress.Parse(ip).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? (ushort)2 : (ushort)10)),
                Attr(2, IPAddress.Parse(ip).GetAddressBytes()), Attr(3, U8(cidr)));
    private static byte[] Message(ushort type, ushort flags, uint seq, byte cmd, params byte[][] attrs)
    {
        var body = new byte[] { cmd, 1, 0, 0 }.Concat(attrs.SelectMany(a => a)).ToArray();
        var m = new byte[16 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), seq);
        body.CopyTo(m, 16);
        return m;
    }

    [Fact]
    public void Get_device_is_a_dump_request_by_name()
    {
        var w = new NetlinkWriter();
        C.WriteGetDevice(w, Family, 9, "wg0");
        // NLM_F_REQUEST|NLM_F_DUMP = 0x301; WG_CMD_GET_DEVICE 0; WGDEVICE_A_IFNAME "wg0\0"
        Assert.Equal("1c000000 1c00 0103 09000000 00000000 00010000 0800 0200 77673000".Replace(" ", ""),
                     Convert.ToHexStringLower(w.WrittenSpan));
        Assert.Equal(Convert.ToHexStringLower(Message(Family, 0x301, 9, 0, Attr(2, Str("wg0")))), Convert.ToHexStringLower(w.WrittenSpan));
    }

    [Fact]
    public void Get_family_asks_nlctrl_for_wireguard()
    {
        var w = new NetlinkWriter();
        C.WriteGetFamily(w, 3);
        Assert.Equal(Convert.ToHexStringLower(Message(0x10, 0x5, 3, 3, Attr(2, Str("wireguard")))), Convert.ToHexStringLower(w.WrittenSpan));
        // The reply (CTRL_CMD_NEWFAMILY) carries CTRL_ATTR_FAMILY_ID as u16.
        var reply = Message(0x10, 0, 3, 1, Attr(2, Str("wireguard")), Attr(1, U16(Family)), Attr(3, U32(1)));
        var reader = new NetlinkMessageReader(reply);
        Assert.True(reader.MoveNext());
        Assert.Equal(Family, C.ReadFamilyId(reader.Current.Attributes(GenericNetlinkHeader.Size)));
    }

    /// <summary>A device whose second peer is cut in the middle of its allowed IPs, as the kernel splits a large dump.</summary>
    private static byte[] TwoMessageDump()
    {
        var m1 = Message(Family, 0x2, 9, 0,
            Attr(6, U16(51820)), Attr(7, U32(0x10)), Attr(1, U32(42)), Attr(2, Str("wg0")),
            Attr(3, PrivBytes), Attr(4, Convert.FromHexString("1eecc099bcdb4dd75e8c6f7c91a04a81eb665f31912b1561306129ac9485ff07")),
            Nest(8,
                Nest(0, Attr(1, PeerA.Bytes.ToArray()), Attr(2, Enumerable.Repeat((byte)0x31, 32).ToArray()),
                     Attr(4, SockaddrIn("192.0.2.1", 51820)), Attr(5, U16(25)),
                     Attr(6, U64(1_700_000_000), U64(250_000_000)), Attr(7, U64(148)), Attr(8, U64(92)),
                     Nest(9, AllowedIP("10.0.0.0", 24)), Attr(10, U32(1))),
                Nest(0, Attr(1, PeerB.Bytes.ToArray()), Attr(2, new byte[32]), Attr(4, SockaddrIn6("2001:db8::1", 4500)),
                     Attr(5, U16(0)), Attr(6, U64(0), U64(0)), Attr(7, U64(0)), Attr(8, U64(0)),
                     Nest(9, AllowedIP("fd00::", 64), AllowedIP("10.1.0.1", 32)), Attr(10, U32(1)))));
        var m2 = Message(Family, 0x2, 9, 0,
            Nest(8, Nest(0, Attr(1, PeerB.Bytes.ToArray()), Nest(9, AllowedIP("10.2.0.0", 16), AllowedIP("2001:db8:5::", 48)))));
        var done = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(done, 20);
        BinaryPrimitives.WriteUInt16LittleEndian(done.AsSpan(4), NetlinkMessageType.Done);
        return [.. m1, .. m2, .. done];
    }

    [Fact]
    public void A_dump_split_over_messages_merges_into_one_device()
    {
        var reader = new C.DeviceDumpReader();
        foreach (var m in new NetlinkMessageReader(TwoMessageDump()))
            if (m.Type == Family) reader.Add(m.Attributes(GenericNetlinkHeader.Size));
        var d = reader.Build("ignored");

        Assert.Equal(2, reader.Messages);
        Assert.Equal("wg0", d.Name);
        Assert.Equal(WireGuardDeviceType.Kernel, d.Type);
        Assert.Equal(Convert.ToHexStringLower(PrivBytes), d.PrivateKey!.RevealHex());
        Assert.Equal("1eecc099bcdb4dd75e8c6f7c91a04a81eb665f31912b1561306129ac9485ff07", d.PublicKey.ToHex());
        Assert.Equal(51820, d.ListenPort);
        Assert.Equal(0x10u, d.FirewallMark);
        Assert.Equal(2, d.Peers.Count);

        var a = d.Peers[0];
        Assert.Equal(PeerA, a.PublicKey);
        Assert.Equal(string.Concat(Enumerable.Repeat("31", 32)), a.PresharedKey!.RevealHex());
        Assert.Equal(IPEndPoint.Parse("192.0.2.1:51820"), a.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(25), a.PersistentKeepalive);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddMilliseconds(250), a.LastHandshake);
        Assert.Equal(148, a.ReceiveBytes);
        Assert.Equal(92, a.TransmitBytes);
        Assert.Equal(1, a.ProtocolVersion);
        Assert.Equal(["10.0.0.0/24"], a.AllowedIPs.Select(p => p.ToString()));

        var b = d.Peers[1];
        Assert.Null(b.PresharedKey);
        Assert.Null(b.LastHandshake);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::1]:4500"), b.Endpoint);
        Assert.Equal(["fd00::/64", "10.1.0.1/32", "10.2.0.0/16", "2001:db8:5::/48"], b.AllowedIPs.Select(p => p.ToString()));
        Assert.Equal(1, b.ProtocolVersion); // kept from the first part: the continuation carries only key and IPs
    }

    [Fact]
    public void Malformed_dumps_fail_loudly()
    {
        static void Read(byte[] attrs) => new C.DeviceDumpReader().Add(new NetlinkAttributeReader(attrs));
        // An endpoint that is neither sockaddr_in nor sockaddr_in6.
        Assert.Throws<NetlinkFormatException>(() => Read(Nest(8, Nest(0, Attr(1, PeerA.Bytes.ToArray()), Attr(4, new byte[5])))));
        // A public key of the wrong size.
        Assert.Throws<NetlinkFormatException>(() => Read(Nest(8, Nest(0, Attr(1, new byte[5])))));
        // A peer entry that does not start with its key.
        Assert.Throws<NetlinkFormatException>(() => Read(Nest(8, Nest(0, Attr(5, U16(25))))));
        // An attribute claiming more bytes than the buffer holds (a truncated message).
        Assert.Throws<NetlinkFormatException>(() => Read(Convert.FromHexString("24000400aaaaaaaa")));
    }

    [Fact]
    public void Set_device_encodes_every_field_in_the_documented_layout()
    {
        var config = new WireGuardDeviceConfig
        {
            PrivateKey = new WireGuardPrivateKey(PrivBytes),
            ListenPort = 51820,
            FirewallMark = 0,
            ReplacePeers = true,
            Peers =
            [
                new WireGuardPeerConfig(PeerA)
                {
                    UpdateOnly = true,
                    PresharedKey = WireGuardPresharedKey.None,
                    Endpoint = IPEndPoint.Parse("[2001:db8::1]:4500"),
                    PersistentKeepalive = TimeSpan.FromSeconds(25),
                    ReplaceAllowedIPs = true,
                    AllowedIPs = [IpPrefix.Parse("10.0.0.0/24"), IpPrefix.Parse("fd00::/64")],
                },
                new WireGuardPeerConfig(PeerB) { Remove = true },
            ],
        };
        var w = new NetlinkWriter();
        var messages = C.WriteSetDevice(w, Family, 5, "wg0", config);
        var expected = Message(Family, 0x5, 5, 1,
            Attr(2, Str("wg0")), Attr(3, PrivBytes), Attr(6, U16(51820)), Attr(7, U32(0)), Attr(5, U32(1)),
            Nest(8,
                Nest(0, Attr(1, PeerA.Bytes.ToArray()), Attr(3, U32(2 | 4)), Attr(2, new byte[32]),
                     Attr(4, SockaddrIn6("2001:db8::1", 4500)), Attr(5, U16(25)),
                     Nest(9, AllowedIP("10.0.0.0", 24), AllowedIP("fd00::", 64))),
                Nest(0, Attr(1, PeerB.Bytes.ToArray()), Attr(3, U32(1)))));
        Assert.Single(messages);
        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(w.WrittenSpan));
    }

    [Fact]
    public void A_large_set_is_split_so_every_message_fits_and_nothing_is_lost()
    {
        var rng = new Random(7);
        var peers = new List<WireGuardPeerConfig>();
        for (int i = 0; i < 40; i++)
        {
            var key = new byte[32];
            rng.NextBytes(key);
            int ipCount = i == 3 ? 300 : 1 + i % 4; // peer 3 alone overflows a message
            peers.Add(new WireGuardPeerConfig(new WireGuardKey(key))
            {
                ReplaceAllowedIPs = true,
                Endpoint = new IPEndPoint(IPAddress.Parse($"198.51.100.{i + 1}"), 51820),
                AllowedIPs = Enumerable.Range(0, ipCount)
                    .Select(j => j % 2 == 0 ? IpPrefix.Parse($"10.{i}.{j / 256}.{j % 256}/32") : IpPrefix.Parse($"2001:db8:{i:x}::{j:x}/128"))
                    .ToList(),
            });
        }
        var config = new WireGuardDeviceConfig { ReplacePeers = true, ListenPort = 1234, Peers = peers };
        const int max = 1024;
        var w = new NetlinkWriter();
        var parts = C.WriteSetDevice(w, Family, 100, "wg0", config, max);
        Assert.True(parts.Count > 5, $"expected a split, got {parts.Count} messages");

        var merged = new C.DeviceDumpReader();
        var seen = new List<(WireGuardKey Key, uint Flags)>();
        int index = 0;
        foreach (var m in new NetlinkMessageReader(w.WrittenSpan))
        {
            Assert.True(m.Header.Length <= max, $"message {index} is {m.Header.Length} bytes");
            Assert.Equal(100u + (uint)index, m.Sequence);
            Assert.Equal(C.CommandSetDevice, m.ReadFamilyHeader<GenericNetlinkHeader>().Command);
            bool hasDeviceFields = false;
            foreach (var a in m.Attributes(GenericNetlinkHeader.Size))
            {
                if (a.Type is C.DeviceListenPort or C.DeviceFlags) hasDeviceFields = true;
                if (a.Type == C.DeviceIfName) Assert.Equal("wg0", a.GetString());
                if (a.Type != C.DevicePeers) continue;
                foreach (var entry in a.GetNested())
                {
                    WireGuardKey key = default;
                    uint flags = 0;
                    foreach (var pa in entry.GetNested())
                    {
                        if (pa.Type == C.PeerPublicKey) key = new WireGuardKey(pa.Value);
                        if (pa.Type == C.PeerFlags) flags = pa.GetUInt32();
                    }
                    seen.Add((key, flags));
                }
            }
            // Device fields (and REPLACE_PEERS) only once: repeating them would wipe the peers sent before.
            Assert.Equal(index == 0, hasDeviceFields);
            merged.Add(m.Attributes(GenericNetlinkHeader.Size));
            index++;
        }
        Assert.Equal(parts.Count, index);

        var device = merged.Build("wg0");
        Assert.Equal(peers.Select(p => p.PublicKey), device.Peers.Select(p => p.PublicKey));
        for (int i = 0; i < peers.Count; i++)
            Assert.Equal(peers[i].AllowedIPs, device.Peers[i].AllowedIPs);

        // The peer cut in two: its first part replaces, every continuation only adds to an existing peer.
        var parts3 = seen.Where(s => s.Key == peers[3].PublicKey).ToList();
        Assert.True(parts3.Count > 1);
        Assert.Equal(C.PeerFlagReplaceAllowedIPs, parts3[0].Flags);
        Assert.All(parts3.Skip(1), s => Assert.Equal(C.PeerFlagUpdateOnly, s.Flags));
    }
}
