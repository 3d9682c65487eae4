using System.Buffers.Binary;
using System.Net;
using System.Text;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Fuzz.Tests;

/// <summary>Valid inputs the mutators start from: real kernel and FRR outputs where the repository has them.</summary>
internal static class Seeds
{
    private static string Dir(string sub) => Path.Combine(AppContext.BaseDirectory, "Seeds", sub);

    // Real kernel 6.x replies to RTM_GETROUTE / RTM_GETADDR dumps (the captures of tests/Overlay.Linux.Tests RtnetlinkCodecTests).
    private static readonly string[] CapturedRtnetlink =
    [
        "440000001800020001000000d859000002180000646200010000000008000f0064000000080001000a0100000800060014000000080005000a6300020800040003000000",
        "880000001800020001000000d85900000a300000646200010000000008000f00640000001400010020010db800010000000000000000000008000600000400001400050020010db8009900000000000000000002080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000",
        "4c0000001400020001000000d85900000218800003000000080001000a630001080002000a6300010700030076300000080008008000000014000600ffffffffffffffffd01d0500d01d0500",
        "480000001400020001000000d85900000a408200030000001400010020010db800990000000000000000000114000600ffffffffffffffffd41d0500d41d05000800080082000000",
    ];

    public static byte[][] Rtnetlink()
    {
        var seeds = CapturedRtnetlink.Select(Convert.FromHexString).ToList();
        // RTM_NEWLINK: ifinfomsg + IFLA_IFNAME, IFLA_MTU, IFLA_OPERSTATE, IFLA_LINKINFO { IFLA_INFO_KIND }
        var ifi = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(ifi.AsSpan(4), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(ifi.AsSpan(8), 0x11043);
        var link = Message(16, 0x2, 5, [.. ifi, .. Attr(3, Str("wg-a-b")), .. Attr(4, U32(1420)), .. Attr(16, [6]),
            .. Attr(18, Attr(1, Str("wireguard")))]);
        seeds.Add(link);
        // NLMSG_ERROR with extended ack (capped, message + offset), and a whole dump: two routes, a link, DONE.
        var err = Message(2, 0x300, 9, [.. I32(-17), .. Convert.FromHexString(CapturedRtnetlink[0])[..16], .. Attr(1, Str("File exists")), .. Attr(2, U32(20))]);
        seeds.Add(err);
        seeds.Add([.. seeds[0], .. seeds[1], .. link, .. Message(3, 0x2, 5, I32(0))]);
        return [.. seeds];
    }

    public const ushort WireGuardFamily = 0x1b;

    /// <summary>A WG_CMD_GET_DEVICE dump split over two messages the way the kernel splits a large device.</summary>
    public static byte[][] GenetlinkWireGuard()
    {
        byte[] genl = [0, 1, 0, 0]; // cmd GET_DEVICE, version 1
        var priv = Convert.FromHexString("c857f2c1855ffd8415dbdead918bdee8eef2a130536711cc724c44e8365e3e5f");
        var pub = Convert.FromHexString("1eecc099bcdb4dd75e8c6f7c91a04a81eb665f31912b1561306129ac9485ff07");
        var peerA = Enumerable.Repeat((byte)0xaa, 32).ToArray();
        var peerB = Enumerable.Repeat((byte)0xbb, 32).ToArray();
        var m1 = Message(WireGuardFamily, 0x2, 9, [.. genl,
            .. Attr(6, U16(51820)), .. Attr(7, U32(0x10)), .. Attr(1, U32(42)), .. Attr(2, Str("wg0")), .. Attr(3, priv), .. Attr(4, pub),
            .. Attr(8 | 0x8000, [
                .. Attr(0 | 0x8000, [.. Attr(1, peerA), .. Attr(2, Enumerable.Repeat((byte)0x31, 32).ToArray()),
                    .. Attr(4, SockaddrIn(IPAddress.Parse("192.0.2.1"), 51820)), .. Attr(5, U16(25)),
                    .. Attr(6, [.. U64(1_700_000_000), .. U64(250_000_000)]), .. Attr(7, U64(148)), .. Attr(8, U64(92)),
                    .. Attr(9 | 0x8000, AllowedIP(IPAddress.Parse("10.0.0.0"), 24)), .. Attr(10, U32(1))]),
                .. Attr(0 | 0x8000, [.. Attr(1, peerB), .. Attr(2, new byte[32]), .. Attr(4, SockaddrIn(IPAddress.Parse("2001:db8::1"), 4500)),
                    .. Attr(9 | 0x8000, [.. AllowedIP(IPAddress.Parse("fd00::"), 64), .. AllowedIP(IPAddress.Parse("10.1.0.1"), 32)])]),
            ])]);
        var m2 = Message(WireGuardFamily, 0x2, 9, [.. genl,
            .. Attr(8 | 0x8000, Attr(0 | 0x8000, [.. Attr(1, peerB), .. Attr(9 | 0x8000, AllowedIP(IPAddress.Parse("10.2.0.0"), 16))]))]);
        var done = Message(3, 0x2, 9, I32(0));
        return [[.. m1, .. m2, .. done], m1, [.. m2, .. done]];
    }

    public static string[] Uapi() =>
    [
        "private_key=c857f2c1855ffd8415dbdead918bdee8eef2a130536711cc724c44e8365e3e5f\nlisten_port=51820\nfwmark=16\n" +
        "public_key=06440d60293a4b1306d1b9ba1140d2d32de7033b34524042b2a591de75ab2e01\npreshared_key=3148b5c73e4d294714212813adb6ae367e2f8c16dbb3ca847c5b97bd786f5536\n" +
        "protocol_version=1\nendpoint=[fd00::1]:5555\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=250000000\n" +
        "tx_bytes=92\nrx_bytes=148\npersistent_keepalive_interval=25\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\nallowed_ip=10.1.0.1/32\n" +
        "public_key=1111111111111111111111111111111111111111111111111111111111111111\npreshared_key=" + new string('0', 64) + "\nprotocol_version=1\n" +
        "endpoint=192.0.2.7:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\nerrno=0\n\n",
        "errno=19\n\n",
        "listen_port=0\nerrno=0\n\n",
    ];

    public static string[] FrrJson(params string[] prefixes) =>
        [.. Directory.GetFiles(Dir("frr"), "*.json").Where(f => prefixes.Any(p => Path.GetFileName(f).StartsWith(p, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).Select(File.ReadAllText)];

    public static string[] Inventories() =>
        [.. Directory.GetFiles(Dir("inventory"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText)];

    /// <summary>overlayd.yaml files as render writes them, from the example inventories (a handful per example).</summary>
    public static string[] NodeConfigs()
    {
        var result = new List<string>();
        foreach (var text in Inventories())
        {
            var parsed = InventoryParser.Parse(text, "example.yaml");
            if (parsed.Inventory is null) continue;
            result.AddRange(Renderer.Render(parsed.Inventory).Where(f => f.RelativePath.EndsWith("overlayd.yaml", StringComparison.Ordinal))
                .Take(4).Select(f => f.Content));
        }
        return [.. result];
    }

    // --- netlink building blocks: struct nlmsghdr, struct nlattr (padded to 4) ---
    private static byte[] Message(ushort type, ushort flags, uint seq, byte[] payload)
    {
        var b = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)b.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), seq);
        payload.CopyTo(b, 16);
        return [.. b, .. new byte[(4 - b.Length % 4) % 4]];
    }

    private static byte[] Attr(int type, byte[] value)
    {
        var b = new byte[(4 + value.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), (ushort)type);
        value.CopyTo(b, 4);
        return b;
    }

    private static byte[] AllowedIP(IPAddress a, byte cidr) =>
        Attr(0 | 0x8000, [.. Attr(1, U16((ushort)a.AddressFamily == 23 ? (ushort)10 : (ushort)2)), .. Attr(2, a.GetAddressBytes()), .. Attr(3, [cidr])]);

    private static byte[] SockaddrIn(IPAddress a, ushort port)
    {
        bool v6 = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var b = new byte[v6 ? 28 : 16];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v6 ? (ushort)10 : (ushort)2);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), port);
        a.GetAddressBytes().CopyTo(b, v6 ? 8 : 4);
        return b;
    }

    private static byte[] Str(string s) => [.. Encoding.ASCII.GetBytes(s), 0];
    private static byte[] U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    private static byte[] I32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; }
    private static byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
}
