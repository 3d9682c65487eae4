using Overlay.Core.Fleet;
using Overlay.Core.Inventories;
using Overlay.Core.Render;
using Xunit;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Core.Tests.Fleet;

public sealed class FleetPlannerTests
{
    private const string Inventory = """
        gate: [10.0.0.0/8, 224.0.0.5/32]
        nodes:
          - { name: hub, id: 1, short: h, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU= }
          - { name: s1, id: 2, short: a, overlay: { v4: 10.10.0.2 }, subnets: [10.21.0.0/24], endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= }
        topology:
          type: hubAndSpoke
          primary: { node: hub, cost: 10 }
        """;

    private static Inventory Inv(string text = Inventory) =>
        InventoryParser.Parse(text, "t.yaml").Inventory ?? throw new InvalidOperationException("bad test inventory");

    /// <summary>What a node looks like after a correct apply: FRR as 'show running-config' prints it (sorted, defaults hidden).</summary>
    private static NodeRunningState Converged(Inventory inv, string node)
    {
        var files = Renderer.Render(inv, node);
        string frr = files.Single(f => f.RelativePath.EndsWith("frr.conf", StringComparison.Ordinal)).Content;
        // FRR prints an interface's lines sorted and hides detect-multiplier 3: the plan must see no change.
        string running = Reindent(frr);
        return new NodeRunningState(node, WireGuardState.Desired(inv, node), running,
            files.Single(f => f.RelativePath.EndsWith("overlayd.yaml", StringComparison.Ordinal)).Content, inv.GetNode(node).PublicKey.ToBase64());
    }

    /// <summary>The rendered frr.conf with each stanza's children in reverse order and the default line dropped.</summary>
    private static string Reindent(string frr)
    {
        var outLines = new List<string> { "Building configuration...", "", "Current configuration:", "!", "frr version 8.4.4", "hostname vm" };
        var block = new List<string>();
        foreach (var l in frr.Split('\n'))
        {
            if (l.Trim() is "detect-multiplier 3" or "ip ospf network point-to-point") continue;
            if (l.StartsWith("  ", StringComparison.Ordinal) || (l.StartsWith(' ') && !l.StartsWith(" exit", StringComparison.Ordinal) && !l.StartsWith(" peer", StringComparison.Ordinal) && !l.StartsWith(" profile", StringComparison.Ordinal)))
            {
                block.Add(l);
                continue;
            }
            block.Reverse();
            outLines.AddRange(block);
            block.Clear();
            outLines.Add(l);
        }
        outLines.AddRange(block);
        return string.Join('\n', outLines);
    }

    [Fact]
    public void A_node_that_runs_what_the_inventory_renders_has_no_changes()
    {
        var inv = Inv();
        foreach (var node in new[] { "hub", "s1" })
        {
            var plan = FleetPlanner.Plan(inv, node, Converged(inv, node));
            Assert.False(plan.HasChanges, string.Join("\n", plan.Frr) + string.Join("\n", plan.Overlayd));
            Assert.Empty(plan.Problems);
        }
    }

    [Fact]
    public void A_fresh_node_gets_everything_and_its_key_generated()
    {
        var inv = Inv();
        var plan = FleetPlanner.Plan(inv, "s1", new NodeRunningState("s1", [], "frr version 8.4.4\nhostname x\n", null, null));
        Assert.Equal(KeyStatus.Missing, plan.Key);
        var wg = Assert.Single(plan.WireGuard);
        Assert.Equal((PlanChangeKind.Added, "wg-a-h"), (wg.Kind, wg.Interface));
        Assert.Equal("zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU=", Assert.Single(wg.After!.Peers).PublicKey);
        Assert.True(plan.OverlaydMissing);
        Assert.Contains(plan.Frr, c => c.Kind == FrrChangeKind.Add && c.Line == "interface wg-a-h");
        Assert.DoesNotContain(plan.Frr, c => c.Kind == FrrChangeKind.Remove);
    }

    [Fact]
    public void A_key_file_that_holds_another_key_is_a_problem()
    {
        var inv = Inv();
        var running = Converged(inv, "s1") with { KeyPublicKey = "uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=" };
        var plan = FleetPlanner.Plan(inv, "s1", running);
        Assert.Equal(KeyStatus.Differs, plan.Key);
        Assert.Contains(plan.Problems, p => p.Contains("uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string[]> PeerChanges => new()
    {
        // field changed on the running peer, expected 'what'
        { "allowed", "10.0.0.0/8", ["allowed-ips"] },
        { "endpoint", "192.0.2.99:51822", ["endpoint"] },
        { "keepalive", "25", ["persistent-keepalive"] },
    };

    [Theory]
    [MemberData(nameof(PeerChanges))]
    public void A_changed_peer_is_set_alone_with_wg_set(string field, string value, string[] what)
    {
        var inv = Inv();
        var desired = WireGuardState.Desired(inv, "s1").Single();
        var p = desired.Peers.Single();
        var runningPeer = field switch
        {
            "allowed" => p with { AllowedIps = [value] },
            "endpoint" => p with { Endpoint = value },
            _ => p with { Keepalive = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
        };
        var changes = FleetPlanner.DiffWireGuard([desired with { Peers = [runningPeer] }], [desired], "wg-a-");
        var c = Assert.Single(changes);
        var pc = Assert.Single(c.Peers);
        Assert.Equal(PlanChangeKind.Changed, pc.Kind);
        Assert.Equal(what, pc.What);
        var cmd = Assert.Single(FleetPlanner.WgSetCommands(c));
        Assert.Equal(["wg", "set", "wg-a-h", "peer", p.PublicKey, "allowed-ips", "10.0.0.0/8,224.0.0.5/32", "endpoint", "192.0.2.1:51822", "persistent-keepalive", "off"], cmd);
    }

    [Fact]
    public void Unchanged_peers_are_not_named_and_a_replaced_peer_is_added_before_the_old_one_goes()
    {
        var inv = Inv();
        var desired = WireGuardState.Desired(inv, "s1").Single();
        var old = desired.Peers.Single() with { PublicKey = "uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=" };
        var c = Assert.Single(FleetPlanner.DiffWireGuard([desired with { Peers = [old] }], [desired], "wg-a-"));
        var cmds = FleetPlanner.WgSetCommands(c);
        Assert.Equal(2, cmds.Count);
        Assert.Equal(desired.Peers.Single().PublicKey, cmds[0][4]);
        Assert.Equal(["wg", "set", "wg-a-h", "peer", old.PublicKey, "remove"], cmds[1]);
        Assert.Empty(FleetPlanner.DiffWireGuard([desired], [desired], "wg-a-"));
    }

    [Fact]
    public void Only_managed_interfaces_are_removed()
    {
        var inv = Inv();
        var desired = WireGuardState.Desired(inv, "s1");
        var extraOurs = new WgInterface("wg-a-z", 51899, null, []);
        var foreign = new WgInterface("wg0", 51820, null, []);
        var changes = FleetPlanner.DiffWireGuard([.. desired, extraOurs, foreign], desired, "wg-a-");
        var c = Assert.Single(changes);
        Assert.Equal((PlanChangeKind.Removed, "wg-a-z"), (c.Kind, c.Interface));
    }

    [Theory]
    // running lines, desired lines, expected vtysh lines
    [InlineData("interface wg-a-h\n ip ospf cost 10\n", "interface wg-a-h\n ip ospf cost 20\n", new[] { "interface wg-a-h", "ip ospf cost 20", "exit" })]
    [InlineData("interface wg-a-h\n ip ospf cost 10\n", "interface wg-a-h\n", new[] { "interface wg-a-h", "no ip ospf cost 10", "exit" })]
    [InlineData("", "interface wg-a-h\n ip ospf cost 10\nexit\n", new[] { "interface wg-a-h", "ip ospf cost 10", "exit" })]
    [InlineData("ip prefix-list P seq 5 deny any\n", "ip prefix-list P seq 5 permit 10.0.0.1/32\n", new[] { "ip prefix-list P seq 5 permit 10.0.0.1/32" })]
    [InlineData("route-map M permit 20\n match ip address prefix-list Q\nexit\n", "", new[] { "no route-map M permit 20" })]
    [InlineData("bfd\n peer 10.0.0.1 interface x\n  profile p\n exit\nexit\n", "bfd\n peer 10.0.0.2 interface y\n  profile p\n exit\nexit\n",
        new[] { "bfd", "peer 10.0.0.2 interface y", "profile p", "exit", "no peer 10.0.0.1 interface x", "exit" })]
    [InlineData("router bgp 1\n address-family ipv4 unicast\n  neighbor 192.0.2.9 activate\n exit-address-family\nexit\n",
        "router bgp 1\n address-family ipv4 unicast\n  neighbor 192.0.2.9 activate\n  neighbor 192.0.2.9 route-map X out\n exit-address-family\nexit\n",
        new[] { "router bgp 1", "address-family ipv4 unicast", "neighbor 192.0.2.9 route-map X out", "exit-address-family", "exit" })]
    [InlineData("bfd\n profile overlay\n  detect-multiplier 5\n exit\nexit\n", "bfd\n profile overlay\n  detect-multiplier 3\n exit\nexit\n",
        new[] { "bfd", "profile overlay", "detect-multiplier 3", "exit", "exit" })]
    [InlineData("interface wg-a-h\n ip ospf cost 10\n", "interface wg-a-h\n ip ospf network point-to-point\n ip ospf cost 10\n", new string[0])]
    [InlineData("", "interface wg-a-h\n ip ospf network point-to-point\n", new[] { "interface wg-a-h", "ip ospf network point-to-point", "exit" })]
    [InlineData("frr version 8.4.4\nhostname vm\nlog file /x\nline vty\n", "frr version 8.4\nhostname s1\n", new string[0])]
    public void Frr_changes_become_the_least_vtysh_lines(string running, string desired, string[] expected)
    {
        var changes = FrrDiff.Compute(FrrConfigTree.Parse(running), FrrConfigTree.Parse(desired));
        Assert.Equal(expected, FrrDiff.Commands(changes));
    }

    [Fact]
    public void Removing_a_routing_process_stanza_is_refused()
    {
        var inv = Inv();
        var running = Converged(inv, "s1");
        running = running with { FrrRunningConfig = running.FrrRunningConfig + "\nrouter bgp 65000\n bgp router-id 1.1.1.1\nexit\n" };
        var plan = FleetPlanner.Plan(inv, "s1", running);
        Assert.Contains(plan.Problems, p => p.Contains("'router bgp 65000'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_removed_tunnel_keeps_its_frr_stanza_for_the_break_phase()
    {
        var inv = Inv();
        var running = Converged(inv, "s1");
        running = running with
        {
            WireGuard = [.. running.WireGuard, new WgInterface("wg-a-z", 51899, "10.255.0.9/31", [])],
            FrrRunningConfig = running.FrrRunningConfig + "\ninterface wg-a-z\n ip ospf cost 10\nexit\nbfd\n peer 10.255.0.8 interface wg-a-z\n  profile overlay\n exit\nexit\n",
        };
        var plan = FleetPlanner.Plan(inv, "s1", running);
        Assert.Equal(["wg-a-z"], plan.RemovedInterfaces);
        Assert.Empty(plan.FrrMake);
        Assert.Equal(2, plan.FrrBreak.Count);
        Assert.Equal(["bfd", "no peer 10.255.0.8 interface wg-a-z", "exit", "no interface wg-a-z"], FrrDiff.Commands(plan.FrrBreak));
    }

    [Fact]
    public void Overlayd_yaml_is_diffed_by_line()
    {
        Assert.Empty(FleetPlanner.LineDiff("a\nb\n", "a\nb"));
        Assert.Equal(["- b", "+ c", "+ d"], FleetPlanner.LineDiff("a\nb\n", "a\nc\nd\n"));
    }

    [Fact]
    public void The_wg_dump_is_parsed_without_any_private_field()
    {
        const string dump = "wg-a-h\t-\tPUB\t51821\toff\nwg-a-h\tDTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8=\t-\t192.0.2.1:51822\t224.0.0.5/32,10.0.0.0/8\t0\t0\t0\toff\naddr\twg-a-h\t10.255.0.1/31\n";
        var i = Assert.Single(WireGuardState.ParseDump(dump));
        Assert.Equal(("wg-a-h", 51821, "10.255.0.1/31"), (i.Name, i.ListenPort, i.Address));
        var p = Assert.Single(i.Peers);
        Assert.Equal(["10.0.0.0/8", "224.0.0.5/32"], p.AllowedIps);
        Assert.Equal(("192.0.2.1:51822", 0), (p.Endpoint, p.Keepalive));
    }
}
