using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

public class WireGuardSyncPlannerTests
{
    private static readonly WireGuardPrivateKey Priv = WireGuardPrivateKey.FromHex(new string('2', 64));
    private static readonly WireGuardKey A = Key('a'), B = Key('b'), C = Key('c');
    private static readonly WireGuardPresharedKey Psk = WireGuardPresharedKey.FromHex(new string('9', 64));

    private static WireGuardKey Key(char c) => WireGuardKey.FromHex(new string(c, 64));
    private static IReadOnlyList<IpPrefix> Ips(params string[] p) => p.Select(IpPrefix.Parse).ToArray();

    private static WireGuardPeer Running(WireGuardKey key, IReadOnlyList<IpPrefix> ips, WireGuardPresharedKey? psk = null,
                                         string? endpoint = null, int keepalive = 0) =>
        new(key, psk, endpoint is null ? null : IPEndPoint.Parse(endpoint), ips, TimeSpan.FromSeconds(keepalive),
            DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), 100, 200, 1);

    private static WireGuardDevice Device(params WireGuardPeer[] peers) =>
        new("wg0", WireGuardDeviceType.Userspace, Priv, default, 51820, 0, peers);

    private static WireGuardDeviceSpec Spec(params WireGuardPeerSpec[] peers) => new(Priv, 51820, 0, peers);

    [Fact]
    public void Matching_device_needs_nothing()
    {
        var current = Device(Running(A, Ips("10.0.0.1/32", "10.1.0.0/16"), Psk, "192.0.2.1:51820", 25));
        // Same allowed IPs in another order; no endpoint in the spec leaves the learned one alone.
        var plan = WireGuardSyncPlanner.Plan(
            Spec(new WireGuardPeerSpec(A, Ips("10.1.0.0/16", "10.0.0.1/32"), Psk, null, TimeSpan.FromSeconds(25))), current);
        Assert.True(plan.IsEmpty);
        Assert.Equal(1, plan.Unchanged);
        Assert.Empty(plan.Added);
        Assert.Empty(plan.Updated);
        Assert.Empty(plan.Removed);
    }

    [Fact]
    public void Only_changed_peer_is_touched_and_only_in_the_changed_field()
    {
        var current = Device(Running(A, Ips("10.0.0.1/32")), Running(B, Ips("10.0.0.2/32"), endpoint: "192.0.2.2:51820"));
        var plan = WireGuardSyncPlanner.Plan(
            Spec(new WireGuardPeerSpec(A, Ips("10.0.0.1/32")),
                 new WireGuardPeerSpec(B, Ips("10.0.0.2/32", "10.2.0.0/16"), Endpoint: IPEndPoint.Parse("192.0.2.2:51820"))),
            current);
        Assert.Equal([B], plan.Updated);
        Assert.Equal(1, plan.Unchanged);
        var op = Assert.Single(plan.Config.Peers);
        Assert.Equal(B, op.PublicKey);
        Assert.True(op.UpdateOnly);
        Assert.True(op.ReplaceAllowedIPs);
        Assert.Equal(Ips("10.0.0.2/32", "10.2.0.0/16"), op.AllowedIPs);
        Assert.Null(op.Endpoint);
        Assert.Null(op.PresharedKey);
        Assert.Null(op.PersistentKeepalive);
        Assert.Null(plan.Config.PrivateKey);
        Assert.Null(plan.Config.ListenPort);
        Assert.Null(plan.Config.FirewallMark);
        Assert.False(plan.Config.ReplacePeers);
    }

    public static TheoryData<string, WireGuardPeerSpec, Func<WireGuardPeerConfig, bool>> FieldChanges => new()
    {
        { "endpoint", new WireGuardPeerSpec(A, Ips("10.0.0.1/32"), Psk, IPEndPoint.Parse("192.0.2.9:1"), TimeSpan.FromSeconds(25)),
            op => op.Endpoint!.Equals(IPEndPoint.Parse("192.0.2.9:1")) && op.PresharedKey is null && op.PersistentKeepalive is null && !op.ReplaceAllowedIPs },
        { "keepalive off", new WireGuardPeerSpec(A, Ips("10.0.0.1/32"), Psk, null, TimeSpan.Zero),
            op => op.PersistentKeepalive == TimeSpan.Zero && op.Endpoint is null && op.PresharedKey is null && !op.ReplaceAllowedIPs },
        { "psk removed", new WireGuardPeerSpec(A, Ips("10.0.0.1/32"), null, null, TimeSpan.FromSeconds(25)),
            op => op.PresharedKey!.IsNone && op.PersistentKeepalive is null && !op.ReplaceAllowedIPs },
        { "psk rotated", new WireGuardPeerSpec(A, Ips("10.0.0.1/32"), WireGuardPresharedKey.FromHex(new string('8', 64)), null, TimeSpan.FromSeconds(25)),
            op => op.PresharedKey!.RevealHex() == new string('8', 64) && !op.ReplaceAllowedIPs },
        { "allowed ips emptied", new WireGuardPeerSpec(A, Ips(), Psk, null, TimeSpan.FromSeconds(25)),
            op => op.ReplaceAllowedIPs && op.AllowedIPs.Count == 0 && op.PresharedKey is null },
    };

    [Theory]
    [MemberData(nameof(FieldChanges))]
    public void Each_peer_field_change_is_sent_alone(string _, WireGuardPeerSpec want, Func<WireGuardPeerConfig, bool> expected)
    {
        var current = Device(Running(A, Ips("10.0.0.1/32"), Psk, "192.0.2.1:51820", 25));
        var plan = WireGuardSyncPlanner.Plan(Spec(want), current);
        var op = Assert.Single(plan.Config.Peers);
        Assert.True(op.UpdateOnly);
        Assert.False(op.Remove);
        Assert.True(expected(op));
    }

    [Fact]
    public void New_peers_are_added_whole_and_missing_ones_removed_first()
    {
        var current = Device(Running(A, Ips("10.0.0.1/32")), Running(B, Ips("10.0.0.2/32")));
        var plan = WireGuardSyncPlanner.Plan(
            Spec(new WireGuardPeerSpec(A, Ips("10.0.0.1/32")),
                 // C takes over B's address: B must be removed before C is added.
                 new WireGuardPeerSpec(C, Ips("10.0.0.2/32"), Psk, IPEndPoint.Parse("[2001:db8::1]:51820"), TimeSpan.FromSeconds(10))),
            current);
        Assert.Equal([C], plan.Added);
        Assert.Equal([B], plan.Removed);
        Assert.Equal(1, plan.Unchanged);
        Assert.Collection(plan.Config.Peers,
            op => { Assert.Equal(B, op.PublicKey); Assert.True(op.Remove); },
            op =>
            {
                Assert.Equal(C, op.PublicKey);
                Assert.False(op.UpdateOnly);
                Assert.True(op.ReplaceAllowedIPs);
                Assert.Equal(Ips("10.0.0.2/32"), op.AllowedIPs);
                Assert.Equal(Psk, op.PresharedKey);
                Assert.Equal(IPEndPoint.Parse("[2001:db8::1]:51820"), op.Endpoint);
                Assert.Equal(TimeSpan.FromSeconds(10), op.PersistentKeepalive);
            });
    }

    [Fact]
    public void Device_fields_are_sent_only_when_they_differ()
    {
        var current = Device(Running(A, Ips("10.0.0.1/32"))) with { PrivateKey = null, ListenPort = 40000, FirewallMark = 7 };
        var plan = WireGuardSyncPlanner.Plan(new WireGuardDeviceSpec(Priv, 51820, 0, [new WireGuardPeerSpec(A, Ips("10.0.0.1/32"))]), current);
        Assert.Equal(Priv, plan.Config.PrivateKey);
        Assert.Equal(51820, plan.Config.ListenPort);
        Assert.Equal(0u, plan.Config.FirewallMark);
        Assert.Empty(plan.Config.Peers);

        var samePort = WireGuardSyncPlanner.Plan(new WireGuardDeviceSpec(Priv, null, 7, [new WireGuardPeerSpec(A, Ips("10.0.0.1/32"))]),
                                                 current with { PrivateKey = Priv });
        Assert.True(samePort.IsEmpty); // a null port leaves the device's choice alone
    }

    [Fact]
    public void Invalid_spec_reports_every_problem_at_once()
    {
        var spec = new WireGuardDeviceSpec(Priv, 70000, 0,
        [
            new WireGuardPeerSpec(A, Ips("10.0.0.1/32")),
            new WireGuardPeerSpec(A, Ips("10.0.0.5/32")),
            new WireGuardPeerSpec(B, Ips("10.0.0.1/32"), PersistentKeepalive: TimeSpan.FromMilliseconds(1500)),
        ]);
        var errors = WireGuardSyncPlanner.Check(spec);
        Assert.Equal(4, errors.Count);
        var e = Assert.Throws<ArgumentException>(() => WireGuardSyncPlanner.Plan(spec, Device()));
        Assert.Contains("'wg0'", e.Message);
        Assert.Contains("listen port 70000", e.Message);
        Assert.Contains("more than once", e.Message);
        Assert.Contains("10.0.0.1/32 is given to both", e.Message);
        Assert.Contains("whole seconds", e.Message);
    }

    [Fact]
    public void Empty_desired_removes_every_peer()
    {
        var plan = WireGuardSyncPlanner.Plan(Spec(), Device(Running(A, Ips()), Running(B, Ips())));
        Assert.Equal([A, B], plan.Removed);
        Assert.All(plan.Config.Peers, op => Assert.True(op.Remove));
        Assert.False(plan.Config.ReplacePeers);
    }
}
