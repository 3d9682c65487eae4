using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Rotation;
using Overlay.Core.Tests.Render;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Tests.Rotation;

public class RotationPlannerTests
{
    private static Inventory Example(string name)
    {
        var r = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, name)), name);
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        return r.Inventory!;
    }

    private static readonly WireGuardKey NewKey = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void Spoke_rotation_builds_a_parallel_set_on_both_ends()
    {
        var plan = RotationPlanner.Plan(Example("hub-spoke.yaml"), "spoke1", new RotationOptions { NewPublicKey = NewKey }).MakeBeforeBreak;

        Assert.Equal(
        [
            new RotatedTunnel("hub1", "wg-s1-h1", "wr-s1-h1", "wg-h1-s1", "wr-h1-s1", 55917, 55927, "10.255.255.254/31", 10),
            new RotatedTunnel("hub2", "wg-s1-h2", "wr-s1-h2", "wg-h2-s1", "wr-h2-s1", 55918, 55927, "10.255.255.252/31", 100),
            new RotatedTunnel("spoke2", "wg-s1-s2", "wr-s1-s2", "wg-s2-s1", "wr-s2-s1", 55928, 55927, "10.255.255.250/31", 5),
        ], plan.Tunnels);
        Assert.Equal([1, 2, 3, 4, 5], plan.Phases.Select(p => p.Number));

        var p1 = plan.Phases[0];
        var own = p1.Changes.Single(c => c.Node == "spoke1" && c.Kind == RotationChangeKind.WriteInterface && c.Target == "wr-s1-h1");
        Assert.Equal(
        [
            "# spoke1 <-> hub1: parallel tunnel for key rotation",
            "[Interface]",
            "Address = 10.255.255.255/31",
            "ListenPort = 55917",
            "Table = off",
            "PostUp = wg set %i private-key /etc/overlay/wg-private.key.new",
            "",
            "[Peer]",
            "# hub1",
            "PublicKey = zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU=",
            "AllowedIPs = 10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32",
            "Endpoint = 192.0.2.1:55927",
        ], own.Lines);
        var hubSide = p1.Changes.Single(c => c.Node == "hub1" && c.Kind == RotationChangeKind.WriteInterface);
        Assert.Contains($"PublicKey = {NewKey.ToBase64()}", hubSide.Lines);
        Assert.Contains("Endpoint = 198.51.100.11:55917", hubSide.Lines);
        Assert.Contains("Address = 10.255.255.254/31", hubSide.Lines);
        var hubFrr = p1.Changes.Single(c => c.Node == "hub1" && c.Kind == RotationChangeKind.FrrConfig);
        Assert.Contains(" ip ospf cost 65535", hubFrr.Lines);
        Assert.Contains(" peer 10.255.255.255 interface wr-h1-s1", hubFrr.Lines);

        // Phase 3 swaps costs on both ends of each tunnel; its rollback swaps them back.
        var p3 = plan.Phases[2];
        var swap = p3.Changes.Single(c => c.Node == "hub2");
        Assert.Equal(["interface wr-h2-s1", " ip ospf cost 100", "exit", "interface wg-h2-s1", " ip ospf cost 65535", "exit"], swap.Lines);
        Assert.Equal(["interface wg-h2-s1", " ip ospf cost 100", "exit", "interface wr-h2-s1", " ip ospf cost 65535", "exit"], p3.Rollback.Single(c => c.Node == "hub2").Lines);
        Assert.Contains(p3.WaitFor, v => v.Node == "spoke1" && v.Kind == VerificationKind.RouteVia && v.Condition.Contains("10.0.0.2/32") && v.Target == "wr-s1-h2");

        Assert.DoesNotContain(RotationPlanner.Placeholder, RotationPlanText.Format(RotationPlanner.Plan(Example("hub-spoke.yaml"), "spoke1", new RotationOptions { NewPublicKey = NewKey })));
    }

    public static TheoryData<string, string> Nodes()
    {
        var d = new TheoryData<string, string>();
        foreach (var (file, nodes) in new[] { ("hub-spoke.yaml", new[] { "hub1", "hub2", "spoke1", "spoke3" }), ("mesh-40.yaml", ["m01", "m40"]), ("anycast-2dc.yaml", []) })
        {
            var names = nodes.Length > 0 ? nodes : Example(file).Nodes.Select(n => n.Name).ToArray();
            foreach (var n in names) d.Add(file, n);
        }
        return d;
    }

    /// <summary>Invariants every make-before-break plan must keep, whatever the node.</summary>
    [Theory]
    [MemberData(nameof(Nodes))]
    public void Make_before_break_invariants(string file, string node)
    {
        var inv = Example(file);
        var plans = RotationPlanner.Plan(inv, node);
        var plan = plans.MakeBeforeBreak;
        var self = inv.GetNode(node);
        var tunnels = inv.TunnelsOf(node).ToList();
        Assert.Equal(tunnels.Count, plan.Tunnels.Count);

        // New links are free, distinct and inside the gate; new ports never meet regular ports.
        var usedLinks = inv.Tunnels.Select(t => t.Link.ToString()).ToHashSet();
        Assert.All(plan.Tunnels, t => Assert.DoesNotContain(t.NewLink, usedLinks));
        Assert.Equal(plan.Tunnels.Count, plan.Tunnels.Select(t => t.NewLink).Distinct().Count());
        var regular = inv.Nodes.Select(n => self.ListenPort + n.Id).ToHashSet();
        Assert.All(plan.Tunnels, t => Assert.DoesNotContain(t.NewListenPort, regular));
        Assert.Equal(plan.Tunnels.Count, plan.Tunnels.Select(t => t.NewListenPort).Distinct().Count());
        Assert.All(plan.Tunnels, t => Assert.True(t.NewInterface.Length <= 15 && t.PeerNewInterface.Length <= 15));

        // Every interface written in phase 1 comes up in phase 2 with handshake, OSPF and BFD checked on that node.
        var written = plan.Phases[0].Changes.Where(c => c.Kind == RotationChangeKind.WriteInterface).Select(c => (c.Node, c.Target)).ToList();
        Assert.Equal(2 * tunnels.Count, written.Count);
        foreach (var (n, iface) in written)
        {
            Assert.Contains(plan.Phases[1].Changes, c => c.Node == n && c.Target == iface && c.Kind == RotationChangeKind.BringUp);
            foreach (var kind in new[] { VerificationKind.Handshake, VerificationKind.OspfFull, VerificationKind.BfdUp })
                Assert.Contains(plan.Phases[1].WaitFor, v => v.Node == n && v.Target == iface && v.Kind == kind);
        }
        // Every old interface on both ends is costed out in phase 3 and removed in phase 4.
        foreach (var t in plan.Tunnels)
            foreach (var (n, oldIf) in new[] { (node, t.OldInterface), (t.Peer, t.PeerOldInterface) })
            {
                Assert.Contains(plan.Phases[2].Changes, c => c.Node == n && c.Lines.Contains($"interface {oldIf}") && c.Lines.Contains(" ip ospf cost 65535"));
                Assert.Contains(plan.Phases[3].Changes, c => c.Node == n && c.Target == oldIf && c.Kind == RotationChangeKind.TearDown);
                Assert.Contains(plan.Phases[3].WaitFor, v => v.Node == n && v.Target == oldIf && v.Kind == VerificationKind.InterfaceAbsent);
            }
        // Phases 1-4 can be undone; nothing is verified by sleeping.
        Assert.All(plan.Phases.Take(4), p => Assert.NotEmpty(p.Rollback));
        Assert.Empty(plan.LossWindow);

        // The in-place plan names its loss window and switches every interface of the node.
        var inPlace = plans.InPlace;
        Assert.Contains("exactly one", inPlace.LossWindow);
        Assert.Equal(tunnels.Count, inPlace.Phases.Single(p => p.Number == 2).Changes.Count(c => c.Kind == RotationChangeKind.SwitchPrivateKey));
        Assert.Contains(RotationPlanner.Placeholder, RotationPlanText.Format(plans));
    }

    [Fact]
    public void Unknown_node_is_a_clear_error()
    {
        var e = Assert.Throws<RotationPlanException>(() => RotationPlanner.Plan(Example("hub-spoke.yaml"), "spoke9"));
        Assert.Contains("no node 'spoke9'", e.Message);
        Assert.Contains("spoke1", e.Message);
    }

    [Fact]
    public void Ports_beyond_65535_are_refused()
    {
        var inv = Example("hub-spoke.yaml");
        inv = inv with { Nodes = inv.Nodes.Select(n => n.Name == "spoke1" ? n with { ListenPort = 61500 } : n).ToList() };
        var e = Assert.Throws<RotationPlanException>(() => RotationPlanner.Plan(inv, "spoke1"));
        Assert.Contains("port", e.Message);
    }

    [Fact]
    public void A_full_link_pool_is_refused()
    {
        var inv = Example("hub-spoke.yaml");
        // A /29 holds 4 links, one of them taken by hub1–hub2; hub1 has 5 tunnels to twin.
        var pool = IpPrefix.Parse("10.255.0.0/29");
        inv = inv with { Defaults = inv.Defaults with { LinkPool = pool } };
        var e = Assert.Throws<RotationPlanException>(() => RotationPlanner.Plan(inv, "hub1"));
        Assert.Contains("free /31s", e.Message);
    }
}
