using System.Text;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Frr.Routing;
using Overlay.Frr.Vty;
using Overlay.Linux.Netlink;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.WireGuard;

namespace Overlay.Fuzz.Tests;

/// <summary>
/// Every parser that reads bytes or text from outside the process, fed mutated real inputs. A parser may accept an
/// input or reject it with its documented exception and a message; anything else fails the test with the list of
/// distinct defects and an input that reproduces each. The YAML readers document no exception at all: they report
/// every problem as a diagnostic.
/// </summary>
public class ParserFuzzTests(ITestOutputHelper output)
{
    private static void AssertNoDefects(FuzzDriver.Outcome o) =>
        Assert.True(o.Defects.Count == 0, "unhandled exceptions:\n" + string.Join("\n", o.Defects));

    private static readonly byte[][] RtSeeds = Seeds.Rtnetlink();
    private static readonly byte[][] WgSeeds = Seeds.GenetlinkWireGuard();

    // rtmsg 12, ifaddrmsg 8, ifinfomsg 16, nlmsgerr 4 + the request's header.
    private static int RtFamilyHeader(ushort type) => type switch { 24 or 25 or 26 => 12, 20 or 21 => 8, 16 or 17 => 16, 2 => 20, _ => 0 };

    [Fact]
    public void Rtnetlink_codec()
    {
        AssertNoDefects(FuzzDriver.Run("rtnetlink (route, address, link, error)", RtSeeds.Length,
            (seed, r, edits) => Mutator.Bytes(RtSeeds[seed], RtSeeds, r, edits, b => Mutator.NetlinkHeaders(b, RtFamilyHeader)),
            bytes =>
            {
                foreach (var m in new NetlinkMessageReader(bytes))
                {
                    switch (m.Type)
                    {
                        case 24 or 25 or 26: RouteCodec.TryRead(m, includeCloned: true, out _); break;
                        case 20 or 21: AddressCodec.TryRead(m, out _); break;
                        case 16 or 17: LinkCodec.Read(m); break;
                        case NetlinkMessageType.Error: NetlinkError.Parse(m); break;
                    }
                }
            },
            ex => ex is NetlinkFormatException, Convert.ToHexStringLower, output));
    }

    [Fact]
    public void Genetlink_wireguard_codec()
    {
        AssertNoDefects(FuzzDriver.Run("genetlink WireGuard (device dump)", WgSeeds.Length,
            (seed, r, edits) => Mutator.Bytes(WgSeeds[seed], WgSeeds, r, edits, b => Mutator.NetlinkHeaders(b, t => t == Seeds.WireGuardFamily ? 4 : 0)),
            bytes =>
            {
                var reader = new WireGuardNetlinkCodec.DeviceDumpReader();
                foreach (var m in new NetlinkMessageReader(bytes))
                    if (m.Type == Seeds.WireGuardFamily) reader.Add(m.Attributes(GenericNetlinkHeader.Size));
                reader.Build("wg0");
            },
            ex => ex is NetlinkFormatException, Convert.ToHexStringLower, output));
    }

    private static readonly string[] UapiSeeds = Seeds.Uapi();

    [Fact]
    public void Uapi_text_codec()
    {
        AssertNoDefects(FuzzDriver.Run("UAPI text (get and set replies)", UapiSeeds.Length,
            (seed, r, edits) => Encoding.UTF8.GetBytes(Mutator.Text(UapiSeeds[seed], UapiSeeds, r, edits, maxNesting: 4)),
            bytes =>
            {
                UapiCodec.ParseGet("wg0", bytes);
                try { UapiCodec.CheckSetReply("wg0", bytes); } catch (WireGuardException) { }
            },
            ex => ex is WireGuardException, b => FuzzDriver.Escape(Encoding.UTF8.GetString(b)), output));
    }

    public static TheoryData<string> FrrParsers => ["ospf-neighbors", "bgp-summary", "bgp-route", "rib", "bfd-sessions", "static-routes"];

    [Theory]
    [MemberData(nameof(FrrParsers))]
    public void Frr_json(string parser)
    {
        (string[] seeds, Action<string> parse) = parser switch
        {
            "ospf-neighbors" => (Seeds.FrrJson("ospf-"), (Action<string>)(j => ShowParsers.ParseOspfNeighbors(j))),
            "bgp-summary" => (Seeds.FrrJson("bgp-summary"), j => ShowParsers.ParseBgpSummary(j)),
            "bgp-route" => (Seeds.FrrJson("bgp-ipv"), j => ShowParsers.ParseBgpRoute(j)),
            "rib" => (Seeds.FrrJson("zebra-"), j => NorthboundParsers.ParseRib(j)),
            "bfd-sessions" => (Seeds.FrrJson("bfdd-"), j => NorthboundParsers.ParseBfdSessions(j)),
            "static-routes" => (Seeds.FrrJson("staticd-"), j => NorthboundParsers.ParseStaticRoutes(j)),
            _ => throw new ArgumentOutOfRangeException(nameof(parser)),
        };
        Assert.NotEmpty(seeds);
        AssertNoDefects(FuzzDriver.Run("FRR JSON " + parser, seeds.Length,
            (seed, r, edits) => Mutator.Text(seeds[seed], seeds, r, edits, maxNesting: 64),
            parse, ex => ex is FrrParseException, FuzzDriver.Escape, output));
    }

    // The 40-node mesh makes each input ~10x slower (lint is quadratic in links) and adds no new structure.
    private static readonly string[] InventorySeeds = [.. Seeds.Inventories().Where(t => t.Length < 4000)];

    /// <summary>Nesting goes up to 20 000 levels: both YAML readers refuse more than 64 with a located error (INV030), never a stack overflow.</summary>
    [Fact]
    public void Inventory_reader()
    {
        AssertNoDefects(FuzzDriver.Run("inventory YAML reader", InventorySeeds.Length,
            (seed, r, edits) => Mutator.Text(InventorySeeds[seed], InventorySeeds, r, edits, maxNesting: 20_000),
            text => Check(InventoryParser.Parse(text, "fuzz.yaml")), _ => false, FuzzDriver.Escape, output));

        static void Check(InventoryParseResult result)
        {
            if (result.Inventory is null && result.Diagnostics.Count == 0)
                throw new InvalidOperationException("the reader refused the inventory without a diagnostic");
        }
    }

    private static readonly string[] NodeConfigSeeds = Seeds.NodeConfigs();

    [Fact]
    public void Node_config_loader()
    {
        Assert.NotEmpty(NodeConfigSeeds);
        AssertNoDefects(FuzzDriver.Run("overlayd.yaml loader (NodeConfigLoader)", NodeConfigSeeds.Length,
            (seed, r, edits) => Mutator.Text(NodeConfigSeeds[seed], NodeConfigSeeds, r, edits, maxNesting: 20_000),
            text => Check(NodeConfigYaml.Read(text, "overlayd.yaml")), _ => false, FuzzDriver.Escape, output));

        static void Check(NodeConfigLoadResult result)
        {
            if (!result.Ok && result.Errors.Count == 0)
                throw new InvalidOperationException("the loader refused the file without an error");
        }
    }
}
