using System.Net;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Linux.Netlink;
using Overlay.Linux.Rtnetlink;

namespace Overlay.Linux.Tests.Rtnetlink;

/// <summary>
/// Route/address/link codecs against bytes. The "captured" fixtures are real kernel replies (kernel 6.x)
/// to RTM_GETROUTE/RTM_GETADDR dumps of a namespace with
/// <c>10.1.0.0/24 via 10.99.0.2 dev v0 proto 98 metric 20 table 100</c>,
/// <c>2001:db8:1::/48 via 2001:db8:99::2 dev v0 proto 98 table 100</c> and addresses on v0 (#3).
/// </summary>
public class RtnetlinkCodecTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));
    private static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private const string CapturedRoute4 =
        "440000001800020001000000d859000002180000646200010000000008000f0064000000080001000a0100000800060014000000080005000a6300020800040003000000";
    private const string CapturedRoute6 =
        "880000001800020001000000d85900000a300000646200010000000008000f00640000001400010020010db800010000000000000000000008000600000400001400050020010db8009900000000000000000002080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000";
    private const string CapturedAddr4 =
        "4c0000001400020001000000d85900000218800003000000080001000a630001080002000a6300010700030076300000080008008000000014000600ffffffffffffffffd01d0500d01d0500";
    private const string CapturedAddr6 =
        "480000001400020001000000d85900000a408200030000001400010020010db800990000000000000000000114000600ffffffffffffffffd41d0500d41d05000800080082000000";

    private static T Decode<T>(string hex, NetlinkParser<T> parse)
    {
        var r = new NetlinkMessageReader(Hex(hex));
        Assert.True(r.MoveNext());
        Assert.True(parse(r.Current, out var value));
        Assert.False(r.MoveNext());
        return value;
    }

    [Fact]
    public void Decodes_a_captured_ipv4_route()
    {
        var route = Decode<KernelRoute>(CapturedRoute4, RouteCodec.TryRead);
        Assert.Equal(new KernelRoute
        {
            Destination = IpPrefix.Parse("10.1.0.0/24"),
            Table = 100,
            Protocol = 98,
            Gateway = IPAddress.Parse("10.99.0.2"),
            OutputInterface = 3,
            Metric = 20,
        }, route);
    }

    [Fact]
    public void Decodes_a_captured_ipv6_route_with_the_kernel_default_metric()
    {
        var route = Decode<KernelRoute>(CapturedRoute6, RouteCodec.TryRead);
        var expected = new KernelRoute
        {
            Destination = IpPrefix.Parse("2001:db8:1::/48"),
            Table = 100,
            Gateway = IPAddress.Parse("2001:db8:99::2"),
            OutputInterface = 3,
        };
        Assert.Equal(expected.Normalize(), route);
        Assert.Equal(1024u, route.Metric);
        Assert.Equal(expected.Key, route.Key);
    }

    [Fact]
    public void Encodes_an_add_like_ip_route_add()
    {
        var w = new NetlinkWriter();
        RouteCodec.WriteChange(w, RouteOperation.Add, new KernelRoute
        {
            Destination = IpPrefix.Parse("10.1.0.0/24"),
            Table = 100,
            Gateway = IPAddress.Parse("10.99.0.2"),
            OutputInterface = 3,
            Metric = 20,
        }, sequence: 7);
        Assert.Equal(ToHex(Hex(
            "44000000 1800 0506 07000000 00000000" + // RTM_NEWROUTE REQUEST|ACK|EXCL|CREATE
            "02 18 00 00 64 62 00 01 00000000" +     // inet /24 table 100 proto 98 universe unicast
            "0800 0f00 64000000" +                   // RTA_TABLE 100
            "0800 0100 0a010000" +                   // RTA_DST
            "0800 0600 14000000" +                   // RTA_PRIORITY 20
            "0800 0500 0a630002" +                   // RTA_GATEWAY
            "0800 0400 03000000")),                  // RTA_OIF 3
            ToHex(w.WrittenSpan));
    }

    [Fact]
    public void Encodes_a_delete_that_only_matches_overlay_routes()
    {
        var w = new NetlinkWriter();
        RouteCodec.WriteChange(w, RouteOperation.Delete, new KernelRoute
        {
            Destination = IpPrefix.Parse("10.1.0.0/24"),
            Table = 1000,
            Gateway = IPAddress.Parse("10.99.0.2"),
            OutputInterface = 3,
        }, sequence: 8);
        Assert.Equal(ToHex(Hex(
            "2c000000 1900 0500 08000000 00000000" + // RTM_DELROUTE REQUEST|ACK, len 44
            "02 18 00 00 fc 62 ff 01 00000000" +     // table COMPAT (id > 255), proto 98, scope NOWHERE (any)
            "0800 0f00 e8030000" +                   // RTA_TABLE 1000
            "0800 0100 0a010000")),                  // RTA_DST; no nexthop: the key alone selects the route
            ToHex(w.WrittenSpan));
    }

    [Fact]
    public void Encodes_a_route_lookup_and_a_filtered_dump()
    {
        var w = new NetlinkWriter();
        RouteCodec.WriteGet(w, IPAddress.Parse("10.7.3.4"), 9);
        Assert.Equal(ToHex(Hex("24000000 1a00 0500 09000000 00000000" + "02 20 00 00 00 00 00 00 00100000" + "0800 0100 0a070304")), ToHex(w.WrittenSpan));
        w.Reset();
        RouteCodec.WriteDump(w, 0, 100, 98, 10);
        Assert.Equal(ToHex(Hex("24000000 1a00 0103 0a000000 00000000" + "00 00 00 00 64 62 00 00 00000000" + "0800 0f00 64000000")), ToHex(w.WrittenSpan));
    }

    [Fact]
    public void Decodes_captured_addresses()
    {
        var v4 = Decode<InterfaceAddress>(CapturedAddr4, AddressCodec.TryRead);
        Assert.Equal(new InterfaceAddress(3, IPAddress.Parse("10.99.0.1"), 24), v4);
        var v6 = Decode<InterfaceAddress>(CapturedAddr6, AddressCodec.TryRead);
        Assert.Equal(new InterfaceAddress(3, IPAddress.Parse("2001:db8:99::1"), 64), v6);
    }

    [Fact]
    public void Encodes_an_ipv6_address_add_without_dad()
    {
        var w = new NetlinkWriter();
        AddressCodec.WriteChange(w, add: true, new InterfaceAddress(4, IPAddress.Parse("2001:db8::5"), 128), 11);
        Assert.Equal(ToHex(Hex(
            "48000000 1400 0506 0b000000 00000000" + // RTM_NEWADDR REQUEST|ACK|EXCL|CREATE
            "0a 80 00 00 04000000" +                 // inet6 /128 scope universe index 4
            "1400 0200 20010db8000000000000000000000005" + // IFA_LOCAL
            "1400 0100 20010db8000000000000000000000005" + // IFA_ADDRESS
            "0800 0800 02000000")),                  // IFA_FLAGS NODAD
            ToHex(w.WrittenSpan));
    }

    [Fact]
    public void Decodes_a_link_and_encodes_set_up()
    {
        var w = new NetlinkWriter();
        int m = w.BeginMessage(16, NetlinkMessageFlags.None, 0);
        w.WriteBytes(Hex("00 00 fffe 05000000 41000100 00000000")); // index 5, flags UP|RUNNING|LOWER_UP
        w.WriteString(3, "ovl-tun0");
        w.WriteUInt32(4, 1420);
        w.WriteUInt8(16, 6);
        int info = w.BeginNested(18, setNestedFlag: false);
        w.WriteString(1, "tun");
        w.EndNested(info);
        w.EndMessage(m);
        var r = new NetlinkMessageReader(w.WrittenSpan);
        Assert.True(r.MoveNext());
        var link = LinkCodec.Read(r.Current);
        Assert.Equal(new LinkInfo(5, "ovl-tun0", 0x10041, LinkOperState.Up, 1420, "tun"), link);
        Assert.True(link.IsUp);

        w.Reset();
        LinkCodec.WriteSetUp(w, 5, up: false, 12);
        Assert.Equal(ToHex(Hex("20000000 1000 0500 0c000000 00000000" + "00 00 0000 05000000 00000000 01000000")), ToHex(w.WrittenSpan));
    }
}
