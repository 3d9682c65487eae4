using Overlay.Core.Lint;
using Overlay.Core.Net;
using static Overlay.Core.Tests.Lint.LintFixtures;

namespace Overlay.Core.Tests.Lint;

public class PeerListTests
{
    // hub1 (key 1) with a legacy multi-peer interface toward spoke1 (key 3) and edge1 (key 4).
    private static string HubConf(string spokeIps, string edgeIps) => $"""
        [Interface]
        PrivateKey = {Key(99).ToBase64()}
        ListenPort = 51820

        [Peer] # spoke1
        PublicKey = {Key(3).ToBase64()}
        AllowedIPs = {spokeIps}
        PersistentKeepalive = 25

        [Peer] # edge1
        PublicKey = {Key(4).ToBase64()}
        Endpoint = 192.0.2.4:51820
        AllowedIPs = {edgeIps}
        """;

    private static string BackTo(int key) => $"""
        [Interface]
        ListenPort = 51821
        [Peer]
        PublicKey = {Key(key).ToBase64()}
        AllowedIPs = 10.0.0.0/8
        """;

    private static PeerList Read(string text, string file, string node, string iface = "wg0")
    {
        var r = WgQuickReader.Read(text, file, node, iface);
        Assert.Empty(r.Diagnostics);
        return r.PeerList!;
    }

    [Fact]
    public void Reader_keeps_positions_of_every_prefix()
    {
        var list = Read(HubConf("10.3.0.0/16,  10.33.0.0/16", "10.4.0.0/16"), "hub1.conf", "hub1");
        Assert.Equal(51820, list.ListenPort);
        Assert.Equal(2, list.Peers.Count);
        Assert.Equal([new AllowedIp(IpPrefix.Parse("10.3.0.0/16"), 7, 14), new AllowedIp(IpPrefix.Parse("10.33.0.0/16"), 7, 28)], list.Peers[0].AllowedIps);
        Assert.Equal(TimeSpan.FromSeconds(25), list.Peers[0].Keepalive);
        Assert.Equal("192.0.2.4:51820", list.Peers[1].Endpoint);
    }

    [Fact]
    public void Reader_reports_bad_lines_with_positions()
    {
        var r = WgQuickReader.Read("[Peer]\nPublicKey = nope\nAllowedIPs = 10.0.0.0/8, 10.0.0/8\n", "x.conf", "n", "wg0");
        Assert.Null(r.PeerList);
        Assert.Equal(["x.conf:2:13", "x.conf:3:26", "x.conf:1:1"], r.Diagnostics.Select(d => d.Location.ToString()));
    }

    [Fact]
    public void Clean_peer_lists_have_no_findings()
    {
        var lists = new[] { Read(HubConf("10.3.0.0/16", "10.4.0.0/16"), "hub1.conf", "hub1"), Read(BackTo(1), "spoke1.conf", "spoke1"), Read(BackTo(1), "edge1.conf", "edge1") };
        Assert.Empty(Linter.LintPeerLists(lists, Clean()));
        Assert.Empty(Linter.Lint(Clean(), new Files(), lists));
    }

    [Fact]
    public void Overlapping_AllowedIPs_on_one_interface_is_OVL001()
    {
        var lists = new[] { Read(HubConf("10.3.0.0/16", "10.0.0.0/8"), "hub1.conf", "hub1") };
        var d = Assert.Single(Linter.LintPeerLists(lists));
        Assert.Equal("OVL001", d.Code);
        Assert.Equal("hub1.conf:7:14", d.Location.ToString());
        Assert.Contains("inside 10.0.0.0/8", d.Message);
    }

    [Fact]
    public void Same_prefix_toward_two_peers_is_OVL001()
    {
        var lists = new[] { Read(HubConf("10.3.0.0/16", "10.4.0.0/16, 10.3.0.0/16"), "hub1.conf", "hub1") };
        var d = Assert.Single(Linter.LintPeerLists(lists));
        Assert.Equal(("OVL001", 13), (d.Code, d.Line));
    }

    [Fact]
    public void Peer_that_does_not_list_us_back_is_OVL012()
    {
        // edge1's file lists hub2 (key 2) instead of hub1.
        var lists = new[] { Read(HubConf("10.3.0.0/16", "10.4.0.0/16"), "hub1.conf", "hub1"), Read(BackTo(1), "spoke1.conf", "spoke1"), Read(BackTo(2), "edge1.conf", "edge1") };
        var d = Assert.Single(Linter.LintPeerLists(lists, Clean()));
        Assert.Equal(("OVL012", "hub1.conf", 10), (d.Code, d.File, d.Line));
    }

    [Fact]
    public void Large_peer_lists_are_checked_in_one_pass()
    {
        // 200 peers x 500 host routes, one of them duplicated onto another peer.
        var baseBits = IpPrefix.Parse("10.0.0.0/8").Bits;
        var peers = Enumerable.Range(0, 200).Select(p => new PeerEntry(Key(p + 1),
            Enumerable.Range(0, 500).Select(h => new AllowedIp(IpPrefix.Host(IpPrefix.ToAddress(baseBits + (UInt128)(p * 512 + h), false)), 1, 1)).ToList(),
            null, TimeSpan.Zero, At(p))).ToList();
        var dup = peers[7].AllowedIps.ToList();
        dup.Add(peers[150].AllowedIps[3]);
        peers[7] = peers[7] with { AllowedIps = dup };
        var d = Assert.Single(Linter.LintPeerLists([new PeerList("hub1", "wg0", 51820, peers, At(1))]));
        Assert.Equal("OVL001", d.Code);
    }
}
