using System.Text;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Linux.Netlink;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.WireGuard;

namespace Overlay.Fuzz.Tests;

/// <summary>
/// The defects the fuzz targets found, each pinned by a hand-made input (or, for the YAML ones, the replayed fuzz
/// input: seed index, random stream, edits) so they stay fixed even when the mutator changes what it explores.
/// </summary>
public class FuzzRegressionTests
{
    private const string Route4 =
        "440000001800020001000000d859000002180000646200010000000008000f0064000000080001000a0100000800060014000000080005000a6300020800040003000000";
    private const string Addr4 =
        "4c0000001400020001000000d85900000218800003000000080001000a630001080002000a6300010700030076300000080008008000000014000600ffffffffffffffffd01d0500d01d0500";

    [Theory]
    [InlineData(Route4, "rtm_dst_len is 128")]
    [InlineData(Addr4, "ifa_prefixlen is 128")]
    public void A_prefix_length_longer_than_the_address_is_a_netlink_format_error(string hex, string expected)
    {
        var bytes = Convert.FromHexString(hex);
        bytes[17] = 128; // rtm_dst_len / ifa_prefixlen of an IPv4 message (was ArgumentOutOfRangeException)
        var ex = Assert.Throws<NetlinkFormatException>(() =>
        {
            foreach (var m in new NetlinkMessageReader(bytes))
                if (m.Type == 24) RouteCodec.TryRead(m, out _); else AddressCodec.TryRead(m, out _);
        });
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData(0xffffffefu)] // wrapped to a negative TLV offset (was ArgumentOutOfRangeException)
    [InlineData(4u)]          // shorter than the header it claims to echo
    public void An_extended_ack_echoing_an_impossible_request_length_is_handled(uint echoedLength)
    {
        // NLMSG_ERROR, flags NLM_F_ACK_TLVS (not capped), errno -17, echoed header with the given length, NLMSGERR_ATTR_MSG.
        var bytes = Convert.FromHexString("2c000000" + "0200" + "0002" + "01000000" + "00000000" + "efffffff"
            + Convert.ToHexString(BitConverter.GetBytes(echoedLength)) + "18000200" + "01000000" + "00000000" + "08000100" + "41420000");
        foreach (var m in new NetlinkMessageReader(bytes))
        {
            try
            {
                var e = NetlinkError.Parse(m);
                Assert.Equal(17, e.Errno);
            }
            catch (NetlinkFormatException ex)
            {
                Assert.Contains("echoes a request of 4 bytes", ex.Message);
            }
        }
    }

    [Fact]
    public void A_wireguard_allowed_ip_with_an_impossible_mask_is_a_netlink_format_error()
    {
        // The genetlink seed with peer A's allowed IP 10.0.0.0/24 changed to /255 (was ArgumentOutOfRangeException).
        var dump = Seeds.GenetlinkWireGuard()[1];
        int at = Convert.ToHexStringLower(dump).IndexOf("0a00000005000300" + "18", StringComparison.Ordinal) / 2;
        Assert.True(at > 0);
        dump[at + 8] = 255;
        var reader = new WireGuardNetlinkCodec.DeviceDumpReader();
        var ex = Assert.Throws<NetlinkFormatException>(() =>
        {
            foreach (var m in new NetlinkMessageReader(dump))
                if (m.Type == Seeds.WireGuardFamily) reader.Add(m.Attributes(GenericNetlinkHeader.Size));
        });
        Assert.Contains("WGALLOWEDIP_A_CIDR_MASK is 255", ex.Message);
    }

    [Theory]
    [InlineData("last_handshake_time_sec=9223372036854775807\n")]
    [InlineData("last_handshake_time_sec=-5\n")]
    [InlineData("last_handshake_time_sec=1\nlast_handshake_time_nsec=-1\n")]
    public void An_impossible_handshake_time_is_a_wireguard_error(string line)
    {
        // Was ArgumentOutOfRangeException from DateTimeOffset.AddTicks.
        var reply = "public_key=" + new string('1', 64) + "\n" + line + "errno=0\n\n";
        var ex = Assert.Throws<WireGuardException>(() => UapiCodec.ParseGet("wg0", Encoding.ASCII.GetBytes(reply)));
        Assert.Contains("impossible last handshake time", ex.Message);
    }

    [Theory]
    [InlineData("errno=2147483648\n\n")]
    [InlineData("errno=-2147483648\n\n")]
    [InlineData("errno=4096\n\n")]
    public void An_errno_out_of_range_is_a_wireguard_error(string reply)
    {
        // errno=-2147483648 overflowed Math.Abs (OverflowException).
        var ex = Assert.Throws<WireGuardException>(() => UapiCodec.ParseGet("wg0", Encoding.ASCII.GetBytes(reply)));
        Assert.Contains("errno", ex.Message);
        Assert.Throws<WireGuardException>(() => UapiCodec.CheckSetReply("wg0", Encoding.ASCII.GetBytes(reply)));
    }

    /// <summary>
    /// The inputs the fuzzer found (mutations of rendered overlayd.yaml files), kept as files: the seeds they were
    /// derived from change whenever render does.
    /// </summary>
    [Theory]
    [InlineData("overlayd-malformed-flow-collection.yaml")] // YamlDotNet threw InvalidOperationException
    [InlineData("overlayd-global-tag-not-a-uri.yaml")]      // YamlDotNet threw ArgumentException "Global tags must be valid URIs"
    public void Yaml_the_scanner_cannot_read_is_an_error_not_an_exception(string file)
    {
        var text = File.ReadAllText(Path.Combine(RegressionDirectory(), file));
        var result = NodeConfigYaml.Read(text, "overlayd.yaml");
        Assert.False(result.Ok);
        Assert.NotEmpty(result.Errors);
        Assert.All(result.Errors, e => Assert.StartsWith("overlayd.yaml:", e.ToString(), StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.ToString().Contains("the YAML could not be read", StringComparison.Ordinal));
    }

    /// <summary>The inventory reader's YAML tree threw YamlDotNet's ArgumentException for these tags (long fuzz run, 21 in 250 000).</summary>
    [Theory]
    [InlineData("gate: !<:::> [10.0.0.0/8]\n")]   // "Global tags must be valid URIs"
    [InlineData("gate: !<[]> [10.0.0.0/8]\n")]
    [InlineData("gate: !<> [10.0.0.0/8]\n")]      // "Tag value must not be empty"
    public void An_inventory_tag_yamldotnet_refuses_is_a_located_error_not_an_exception(string text)
    {
        var result = InventoryParser.Parse(text, "inv.yaml");
        Assert.Null(result.Inventory);
        var d = Assert.Single(result.Diagnostics, d => d.Code == InventoryCodes.Syntax);
        Assert.StartsWith("inv.yaml:1:", d.ToString(), StringComparison.Ordinal);
    }

    private static string RegressionDirectory([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Regressions");
}
