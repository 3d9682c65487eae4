using Overlay.Core.Fleet;
using Overlay.Core.Inventories;
using Overlay.Remote.Fleet;
using Overlay.Remote.Shell;
using Xunit;

namespace Overlay.Remote.Tests;

public sealed class FleetTests
{
    private const string Yaml = """
        gate: [10.0.0.0/8]
        nodes:
          - { name: hub, id: 1, short: h, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU=, keyFile: /etc/overlay/hub.key }
          - { name: s1, id: 2, short: a, overlay: { v4: 10.10.0.2 }, endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= }
        topology:
          type: hubAndSpoke
          primary: { node: hub, cost: 10 }
        """;

    private const string HostileKeyFile = "/etc/o v/k'ey";

    /// <summary>
    /// The reader refuses a key path like <see cref="HostileKeyFile"/> (issue #13), but an inventory built in code can
    /// still hold one: the read must keep it out of the script whatever it is.
    /// </summary>
    private static Inventory Inv() =>
        InventoryParser.Parse(Yaml, "t.yaml").Inventory ?? throw new InvalidOperationException("the test inventory does not parse");

    private static Inventory HostileInv()
    {
        var inv = InventoryParser.Parse(Yaml, "t.yaml").Inventory ?? throw new InvalidOperationException("the test inventory does not parse");
        return inv with { Nodes = [.. inv.Nodes.Select(n => n.Name == "hub" ? n with { KeyFile = HostileKeyFile } : n)] };
    }

    [Fact]
    public void The_read_script_quotes_hostile_paths_and_keeps_the_key_path_on_stdin()
    {
        var o = new FleetOptions { OverlaydConfig = "/etc/x'; rm -rf / #/{node}.yaml" };
        string script = FleetNodeReader.Script(o, "hub", "n0nce");
        Assert.Contains("'/etc/x'\\''; rm -rf / #/hub.yaml'", script);
        Assert.DoesNotContain("k'ey", script);
        // The private key column is replaced on the node: the dump's second field never leaves it.
        Assert.Contains("print i, \"-\", $2, $3, $4", script);
        Assert.Contains("$2 = \"-\"", script);
    }

    [Fact]
    public async Task The_read_sends_the_key_file_path_as_data_and_parses_every_section()
    {
        var shell = new FakeNodeShell((node, script, stdin) =>
        {
            string m = script.Split('\n')[0]["echo ".Length..];   // "@@NONCE-wg"
            string nonce = m[..^"-wg".Length];
            return FakeNodeShell.Ok(string.Join('\n',
                $"{nonce}-wg",
                "wg-h-a\t-\tPUB\t51822\toff",
                "wg-h-a\tDTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8=\t-\t192.0.2.2:51821\t10.0.0.0/8\t0\t0\t0\toff",
                "addr\twg-h-a\t10.255.0.0/31",
                $"{nonce}-frr", "Building configuration...", "frr version 8.4.4", "interface wg-h-a", " ip ospf cost 10", "exit",
                $"{nonce}-overlayd", $"{nonce}-missing",
                $"{nonce}-key", "zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU=",
                $"{nonce}-end", ""));
        });
        var state = await FleetNodeReader.ReadAsync(shell, new FleetOptions(), HostileInv(), "hub", default);
        Assert.Equal("/etc/o v/k'ey\n", shell.Calls.Single().Stdin);
        var i = Assert.Single(state.WireGuard);
        Assert.Equal(("wg-h-a", 51822, "10.255.0.0/31"), (i.Name, i.ListenPort, i.Address));
        Assert.Null(state.OverlaydYaml);
        Assert.Equal("zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU=", state.KeyPublicKey);
        Assert.Contains("ip ospf cost 10", state.FrrRunningConfig);
    }

    [Fact]
    public async Task A_node_whose_frr_cannot_be_read_is_an_error_not_an_empty_config()
    {
        var shell = new FakeNodeShell((node, script, stdin) =>
        {
            string nonce = script.Split('\n')[0]["echo ".Length..][..^"-wg".Length];
            return FakeNodeShell.Ok($"{nonce}-wg\n{nonce}-frr\n{nonce}-frr-failed\n{nonce}-overlayd\n{nonce}-missing\n{nonce}-key\n{nonce}-end\n");
        });
        var e = await Assert.ThrowsAsync<Rotation.HostAgentException>(() => FleetNodeReader.ReadAsync(shell, new FleetOptions(), Inv(), "hub", default));
        Assert.Contains("FRR's running configuration could not be read", e.Message);
    }

    [Fact]
    public async Task Apply_stops_at_the_first_failing_node_and_names_the_nodes_it_changed()
    {
        var inv = Inv();
        var empty = new NodeRunningState("x", [], "frr version 8.4.4\n", null, null);
        var plans = new[]
        {
            FleetPlanner.Plan(inv, "hub", empty with { Node = "hub", KeyPublicKey = inv.GetNode("hub").PublicKey.ToBase64() }),
            FleetPlanner.Plan(inv, "s1", empty with { Node = "s1", KeyPublicKey = inv.GetNode("s1").PublicKey.ToBase64() }),
        };
        // vtysh on s1 fails: hub is fully made, s1 has its tunnel up but no FRR; nothing was removed anywhere.
        var shell = new FakeNodeShell((node, script, stdin) =>
            node == "s1" && script.Contains("vtysh", StringComparison.Ordinal) ? new ShellResult(1, "", "vtysh: connection refused") : FakeNodeShell.Ok());
        var steps = new List<FleetStep>();
        var result = await new FleetApplier(shell, new FleetOptions(), steps.Add).ApplyAsync(inv, plans, default);
        Assert.Equal(FleetApplyOutcome.Failed, result.Outcome);
        Assert.Equal(["hub", "s1"], result.ChangedNodes);
        Assert.StartsWith("FRR:", result.Failure);
        Assert.DoesNotContain(shell.Calls, c => c.Script.Contains("ip link delete", StringComparison.Ordinal) || c.Script.Contains("wg-quick down", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Node == "hub" && s.What.StartsWith("FRR:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_key_is_generated_on_the_node_and_apply_stops_for_the_inventory()
    {
        var inv = Inv();
        var plan = FleetPlanner.Plan(inv, "s1", new NodeRunningState("s1", [], "frr version 8.4.4\n", null, null));
        var shell = new FakeNodeShell((node, script, stdin) =>
            script.Contains("wg genkey", StringComparison.Ordinal) ? FakeNodeShell.Ok("uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=\n") : FakeNodeShell.Ok());
        var result = await new FleetApplier(shell, new FleetOptions()).ApplyAsync(inv, [plan], default);
        Assert.Equal(FleetApplyOutcome.KeysToRecord, result.Outcome);
        Assert.Equal("uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=", result.GeneratedKeys["s1"]);
        var call = Assert.Single(shell.Calls);   // nothing but the key
        Assert.Equal(inv.GetNode("s1").KeyFile + "\n", call.Stdin);
        Assert.Contains("umask 077", call.Script);
    }
}
