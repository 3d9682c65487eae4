using System.Net;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Tests.Netlink;

public class NetlinkCodecTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "").Replace("\n", ""));
    private static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    // nlctrl CTRL_CMD_GETFAMILY for "wireguard", as any generic netlink client sends it.
    private const string GetFamilyWireGuard =
        "24000000 1000 0500 07000000 00000000" + // len 36, type GENL_ID_CTRL, REQUEST|ACK, seq 7
        "03 01 0000" +                            // genlmsghdr cmd 3 version 1
        "0e00 0200 776972656775617264 00 0000";   // CTRL_ATTR_FAMILY_NAME "wireguard\0" + 2 pad

    [Fact]
    public void Writes_a_generic_netlink_request_byte_for_byte()
    {
        var w = new NetlinkWriter();
        int m = w.BeginMessage(GenericNetlinkController.FamilyId, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, 7);
        w.Write(new GenericNetlinkHeader(GenericNetlinkController.CommandGetFamily, GenericNetlinkController.Version));
        w.WriteString(GenericNetlinkController.AttributeFamilyName, "wireguard");
        w.EndMessage(m);

        Assert.Equal(ToHex(Hex(GetFamilyWireGuard)), ToHex(w.WrittenSpan));
        Assert.Equal(1, w.MessageCount);
    }

    [Fact]
    public void Reads_the_same_request_back()
    {
        var reader = new NetlinkMessageReader(Hex(GetFamilyWireGuard));
        Assert.True(reader.MoveNext());
        var msg = reader.Current;
        Assert.Equal(GenericNetlinkController.FamilyId, msg.Type);
        Assert.Equal(7u, msg.Sequence);
        Assert.Equal(NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, msg.Flags);
        Assert.Equal(3, msg.ReadFamilyHeader<GenericNetlinkHeader>().Command);
        int count = 0;
        foreach (var a in msg.Attributes(GenericNetlinkHeader.Size))
        {
            Assert.Equal(GenericNetlinkController.AttributeFamilyName, a.Type);
            Assert.Equal("wireguard", a.GetString());
            count++;
        }
        Assert.Equal(1, count);
        Assert.False(reader.MoveNext());
    }

    // RTM_NEWROUTE 10.1.0.0/24 dev ifindex 3 proto 98 table main, as `ip route add` would send it.
    private const string NewRoute =
        "34000000 1800 0506 01000000 00000000" + // len 52, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 1
        "02 18 00 00 fe 62 00 01 00000000" +     // rtmsg: AF_INET /24 tos0 table254 proto98 scope0 unicast flags0
        "0800 0100 0a010000" +                   // RTA_DST 10.1.0.0
        "0800 0400 03000000" +                   // RTA_OIF 3
        "0800 0f00 fe000000";                    // RTA_TABLE 254

    [Fact]
    public void Writes_a_route_message_with_a_family_header_and_typed_attributes()
    {
        var w = new NetlinkWriter();
        int m = w.BeginMessage(24, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack | NetlinkMessageFlags.Excl | NetlinkMessageFlags.Create, 1);
        w.WriteBytes([2, 24, 0, 0, 254, 98, 0, 1, 0, 0, 0, 0]);
        w.WriteAddress(1, IPAddress.Parse("10.1.0.0"));
        w.WriteUInt32(4, 3);
        w.WriteUInt32(15, 254);
        w.EndMessage(m);
        Assert.Equal(ToHex(Hex(NewRoute)), ToHex(w.WrittenSpan));
    }

    [Fact]
    public void Nested_attributes_carry_the_nested_flag_and_their_total_length()
    {
        var w = new NetlinkWriter();
        int m = w.BeginMessage(30, NetlinkMessageFlags.Request, 9);
        w.Write(new GenericNetlinkHeader(1, 1));
        int outer = w.BeginNested(8);
        int inner = w.BeginNested(0);
        w.WriteUInt8(1, 0xab);
        w.WriteUInt16BigEndian(2, 51820);
        w.EndNested(inner);
        w.WriteFlag(3);
        w.EndNested(outer);
        w.WriteUInt64(5, 0x0102030405060708);
        w.EndMessage(m);

        string expected =
            "3c000000 1e00 0100 09000000 00000000" + // len 60
            "01010000" +
            "1c00 0880" +                 // outer: len 28, type 8 | NLA_F_NESTED
            "1400 0080" +                 //   inner: len 20, type 0 | NLA_F_NESTED
            "0500 0100 ab000000" +        //     u8 with 3 bytes padding
            "0600 0200 ca6c 0000" +       //     port 51820 big-endian, padded
            "0400 0300" +                 //   flag, no payload
            "0c00 0500 0807060504030201"; // u64 host order
        Assert.Equal(ToHex(Hex(expected)), ToHex(w.WrittenSpan));

        var reader = new NetlinkMessageReader(w.WrittenSpan);
        Assert.True(reader.MoveNext());
        var attrs = reader.Current.Attributes(GenericNetlinkHeader.Size);
        Assert.True(attrs.MoveNext());
        Assert.Equal(8, attrs.Current.Type);
        Assert.True(attrs.Current.IsNestedFlagSet);
        var level1 = attrs.Current.GetNested();
        Assert.True(level1.MoveNext());
        var level2 = level1.Current.GetNested();
        Assert.True(level2.MoveNext());
        Assert.Equal(0xab, level2.Current.GetUInt8());
        Assert.True(level2.MoveNext());
        Assert.Equal(51820, level2.Current.GetUInt16BigEndian());
        Assert.False(level2.MoveNext());
        Assert.True(level1.MoveNext());
        Assert.Equal(3, level1.Current.Type);
        Assert.Equal(0, level1.Current.Value.Length);
        Assert.False(level1.MoveNext());
        Assert.True(attrs.MoveNext());
        Assert.Equal(0x0102030405060708ul, attrs.Current.GetUInt64());
        Assert.False(attrs.MoveNext());
    }

    [Fact]
    public void Several_messages_in_one_buffer_are_read_in_order()
    {
        var w = new NetlinkWriter(64); // forces growth
        for (uint seq = 1; seq <= 50; seq++)
        {
            int m = w.BeginMessage(24, NetlinkMessageFlags.Request, seq);
            w.WriteUInt32(4, seq * 10);
            w.WriteString(3, new string('x', (int)seq % 7));
            w.EndMessage(m);
        }
        Assert.Equal(50, w.MessageCount);
        uint expected = 1;
        foreach (var msg in new NetlinkMessageReader(w.WrittenSpan))
        {
            Assert.Equal(expected, msg.Sequence);
            var attrs = msg.Attributes(0);
            Assert.True(attrs.MoveNext());
            Assert.Equal(expected * 10, attrs.Current.GetUInt32());
            Assert.True(attrs.MoveNext());
            Assert.Equal(new string('x', (int)expected % 7), attrs.Current.GetString());
            expected++;
        }
        Assert.Equal(51u, expected);
    }

    [Fact]
    public void Reads_an_ipv6_address_attribute()
    {
        var w = new NetlinkWriter();
        w.WriteAddress(1, IPAddress.Parse("2001:db8::1"));
        Assert.Equal("1400010020010db8000000000000000000000001", ToHex(w.WrittenSpan));
        var r = new NetlinkAttributeReader(w.WrittenSpan);
        Assert.True(r.MoveNext());
        Assert.Equal(IPAddress.Parse("2001:db8::1"), r.Current.GetAddress());
    }

    [Fact]
    public void Truncated_messages_and_attributes_are_format_errors()
    {
        var bytes = Hex(NewRoute);
        Assert.Throws<NetlinkFormatException>(() => { var r = new NetlinkMessageReader(bytes.AsSpan(0, 40)); r.MoveNext(); });
        Assert.Throws<NetlinkFormatException>(() => { var r = new NetlinkMessageReader(bytes.AsSpan(0, 10)); r.MoveNext(); });
        var badAttr = Hex("0c00 0100 0a010000"); // claims 12, has 8
        Assert.Throws<NetlinkFormatException>(() => { var r = new NetlinkAttributeReader(badAttr); r.MoveNext(); });
        var shortU32 = Hex("0600 0100 0a01 0000");
        Assert.Throws<NetlinkFormatException>(() =>
        {
            var r = new NetlinkAttributeReader(shortU32);
            r.MoveNext();
            return r.Current.GetUInt32();
        });
    }

    [Fact]
    public void Message_shorter_than_its_family_header_is_a_format_error()
    {
        var w = new NetlinkWriter();
        int m = w.BeginMessage(24, NetlinkMessageFlags.Request, 1);
        w.EndMessage(m);
        Assert.Throws<NetlinkFormatException>(() =>
        {
            var r = new NetlinkMessageReader(w.WrittenSpan);
            r.MoveNext();
            return r.Current.ReadFamilyHeader<GenericNetlinkHeader>().Command;
        });
    }

    // A capped NLMSG_ERROR with extended ack, as the kernel answers a bad RTM_NEWROUTE
    // (EINVAL "Invalid prefix for given prefix length").
    private const string ErrorWithExtAck =
        "58000000 0200 0003 05000000 dd000000" +       // len 88, NLMSG_ERROR, CAPPED|ACK_TLVS, seq 5, port 0xdd
        "eaffffff" +                                  // -22 EINVAL
        "34000000 1800 0506 05000000 00000000" +      // the request's header
        "2b00 0100" + "496e76616c69642070726566697820666f7220676976656e20707265666978206c656e67746800" + "00" + // NLMSGERR_ATTR_MSG
        "0800 0200 24000000";                          // NLMSGERR_ATTR_OFFS 36

    [Fact]
    public void Parses_an_error_with_extended_ack_message_and_offset()
    {
        var r = new NetlinkMessageReader(Hex(ErrorWithExtAck));
        Assert.True(r.MoveNext());
        var e = NetlinkError.Parse(r.Current);
        Assert.Equal(22, e.Errno);
        Assert.False(e.IsAck);
        Assert.Equal(5u, e.Request.Sequence);
        Assert.Equal(24, e.Request.Type);
        Assert.Equal("Invalid prefix for given prefix length", e.Message);
        Assert.Equal(36u, e.Offset);
    }

    [Fact]
    public void Parses_a_plain_ack()
    {
        var r = new NetlinkMessageReader(Hex("24000000 0200 0001 09000000 00000000 00000000 34000000 1800 0506 09000000 00000000"));
        Assert.True(r.MoveNext());
        var e = NetlinkError.Parse(r.Current);
        Assert.True(e.IsAck);
        Assert.Equal(9u, e.Request.Sequence);
        Assert.Null(e.Message);
    }
}
