using System.Runtime.Versioning;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Tests;

/// <summary>The host agent, probe and pre-flight against recorded scripts and canned outputs (and sh where it is cheap).</summary>
public sealed class HostRotationTests : IDisposable
{
    private const string NewKey = RemoteTestSupport.NewKey;

    private static Inventory Example() => RemoteTestSupport.Example();

    private static RotationPlan Plan(Inventory inv, string node = "spoke1") => RemoteTestSupport.Plan(inv, node);

    private static ShellResult HealthyPreflight(string script, string? stdin, string derived) => RemoteTestSupport.HealthyPreflight(script, stdin, derived);

    private readonly string _temp = Directory.CreateTempSubdirectory("overlay-host-rotation-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact, SupportedOSPlatform("linux")]   // runs sh and reads the file mode
    public async Task Interface_files_travel_on_stdin_and_land_0600_in_the_node_folder()
    {
        var fake = new FakeNodeShell();
        string[] file = ["[Interface]", "PostUp = wg set %i private-key /etc/wireguard/private.key.new", "[Peer]", "PublicKey = " + NewKey];
        await new HostRotationAgent(fake).WriteInterfaceAsync("hub1", "wr-h1-s1", file, default);
        var call = Assert.Single(fake.Calls);
        Assert.Equal("hub1", call.Node);
        Assert.Equal(string.Join('\n', file) + "\n", call.Stdin);
        Assert.Contains("umask 077", call.Script);
        Assert.Contains("/etc/wireguard/wr-h1-s1.conf", call.Script);
        Assert.DoesNotContain("PublicKey", call.Script);

        // The same script for real, with a per-node folder.
        var local = new HostRotationAgent(new LocalNodeShell(), new HostRotationOptions { WireGuardDirectory = Path.Combine(_temp, "{node}", "wg") });
        await local.WriteInterfaceAsync("hub1", "wr-h1-s1", file, default);
        string path = Path.Combine(_temp, "hub1", "wg", "wr-h1-s1.conf");
        Assert.Equal(string.Join('\n', file) + "\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        await local.DeleteInterfaceAsync("hub1", "wr-h1-s1", default);
        Assert.False(File.Exists(path));
    }

    [Fact, SupportedOSPlatform("linux")]   // a stand-in vtysh shell script
    public async Task Frr_lines_become_vtysh_arguments_read_from_stdin_and_percent_lines_are_rejections()
    {
        // A stand-in vtysh that prints each argument it got; "% ..." when told to, like FRR rejecting a line.
        string vtysh = Path.Combine(_temp, "vtysh");
        File.WriteAllText(vtysh, "#!/bin/sh\necho '% Can'\\''t open configuration file /etc/frr/x/vtysh.conf due to No such file'\nfor a in \"$@\"; do echo \"[$a]\"; case \"$a\" in *bogus*) echo '% Unknown command: bogus';; esac; done\n");
        File.SetUnixFileMode(vtysh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var seen = new List<string>();
        var shell = new RecordingLocalShell(seen);
        var agent = new HostRotationAgent(shell, new HostRotationOptions { Vtysh = vtysh + " -N 'lab {node}'" });
        string[] lines = ["interface wr-s1-h1", " ip ospf cost 65535", " description it's $(not run)", "exit"];
        await agent.ApplyFrrAsync("spoke1", lines, default);
        Assert.Equal("[-N]\n[lab spoke1]\n[-c]\n[configure terminal]\n[-c]\n[interface wr-s1-h1]\n[-c]\n[ ip ospf cost 65535]\n[-c]\n[ description it's $(not run)]\n[-c]\n[exit]",
            string.Join('\n', seen.Single().Split('\n').Where(l => l.StartsWith('['))));

        var e = await Assert.ThrowsAsync<HostAgentException>(() => agent.ApplyFrrAsync("spoke1", ["bogus line"], default));
        Assert.Contains("spoke1: FRR rejected configuration (% Unknown command: bogus)", e.Message);
        Assert.DoesNotContain("vtysh.conf", e.Message);
    }

    [Fact]
    public async Task Bring_up_and_tear_down_are_idempotent_wg_quick_or_systemd_calls()
    {
        var fake = new FakeNodeShell();
        await new HostRotationAgent(fake).BringUpAsync("hub1", "wr-h1-s1", default);
        await new HostRotationAgent(fake).TearDownAsync("hub1", "wr-h1-s1", default);
        await new HostRotationAgent(fake, new HostRotationOptions { Systemd = true }).BringUpAsync("hub1", "wr-h1-s1", default);
        await new HostRotationAgent(fake, new HostRotationOptions { Systemd = true }).TearDownAsync("hub1", "wr-h1-s1", default);
        var s = fake.Calls.Select(c => c.Script).ToList();
        Assert.Equal("if ip link show dev wr-h1-s1 >/dev/null 2>&1; then exit 0; fi; wg-quick up /etc/wireguard/wr-h1-s1.conf", s[0]);
        Assert.Contains("if [ -f /etc/wireguard/wr-h1-s1.conf ]; then wg-quick down /etc/wireguard/wr-h1-s1.conf; else ip link delete dev wr-h1-s1; fi", s[1]);
        Assert.StartsWith("if ! ip link show dev wr-h1-s1 >/dev/null 2>&1; then exit 0; fi", s[1]);
        Assert.EndsWith("systemctl start wg-quick@wr-h1-s1", s[2]);
        Assert.Contains("systemctl stop wg-quick@wr-h1-s1", s[3]);
    }

    [Fact]
    public async Task A_failing_step_throws_with_node_step_and_stderr_and_later_commands_do_not_run()
    {
        var fake = new FakeNodeShell((_, script, _) => script.StartsWith("wg set", StringComparison.Ordinal)
            ? new ShellResult(1, "", "Unable to modify interface: No such device\n") : FakeNodeShell.Ok());
        var e = await Assert.ThrowsAsync<HostAgentException>(() =>
            new HostRotationAgent(fake).RunCommandsAsync("hub1", ["test -s /k", "wg set wg-h1-s1 peer X remove", "echo never"], default));
        Assert.Equal("hub1: wg set wg-h1-s1 peer X remove failed (exit 1): Unable to modify interface: No such device", e.Message);
        Assert.Equal(2, fake.Calls.Count);
        var up = await Assert.ThrowsAsync<HostAgentException>(() =>
            new HostRotationAgent(new FakeNodeShell((_, _, _) => new ShellResult(1, "", "wg-quick: `/etc/wireguard/wr-h1-s1.conf' does not exist\n"))).BringUpAsync("hub1", "wr-h1-s1", default));
        Assert.Contains("hub1: bring up wr-h1-s1 failed (exit 1): wg-quick:", up.Message);
    }

    [Theory]
    [InlineData("wr x;reboot")]
    [InlineData("../../etc/passwd")]
    [InlineData("a-name-longer-than-15")]
    public async Task Interface_names_are_checked_before_anything_runs(string iface)
    {
        var fake = new FakeNodeShell();
        await Assert.ThrowsAsync<ArgumentException>(() => new HostRotationAgent(fake).WriteInterfaceAsync("hub1", iface, ["x"], default));
        await Assert.ThrowsAsync<ArgumentException>(() => new HostRotationAgent(fake).BringUpAsync("hub1", iface, default));
        Assert.Empty(fake.Calls);
    }

    [Fact]
    public async Task The_probe_reads_each_verification_from_the_standard_tools()
    {
        var inv = Example();
        var plan = Plan(inv);
        var tunnel = plan.Tunnels.First(t => t.Peer == "hub1");
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var fake = new FakeNodeShell((node, script, _) => script switch
        {
            _ when script.Contains("show running-config") => FakeNodeShell.Ok($"frr version 8.4.4\n!\ninterface {tunnel.NewInterface}\n ip ospf cost 65535\nexit\n"),
            _ when script.Contains("latest-handshakes") => FakeNodeShell.Ok($"{inv.GetNode("hub1").PublicKey.ToBase64()}\t{now}\n"),
            _ when script.Contains("show ip ospf neighbor json") => FakeNodeShell.Ok(
                $$$"""{"neighbors":{"10.0.0.1":[{"nbrState":"Full/-","ifaceName":"{{{tunnel.NewInterface}}}:10.0.255.254","ifaceAddress":"10.0.255.255"}],"10.0.0.2":[{"nbrState":"Init/-","ifaceName":"{{{plan.Tunnels[1].NewInterface}}}:10.0.255.252"}]}}"""),
            _ when script.Contains("show bfd peers json") => FakeNodeShell.Ok($$"""[{"peer":"10.0.255.255","interface":"{{tunnel.NewInterface}}","status":"up"},{"peer":"10.0.255.253","interface":"{{plan.Tunnels[1].NewInterface}}","status":"down"}]"""),
            _ when script.Contains("ip route show exact 10.0.0.1/32") => FakeNodeShell.Ok($"10.0.0.1 nhid 21 via 10.0.255.255 dev {tunnel.NewInterface} proto ospf metric 20\n"),
            _ when script.Contains("ip link show") => FakeNodeShell.Ok("present\n"),
            _ => new ShellResult(127, "", "unexpected"),
        });
        var probe = new HostRotationProbe(fake, inv, plan, DateTimeOffset.UtcNow.AddSeconds(-5), new HostRotationOptions { Vtysh = "vtysh -N {node}" });
        async Task<ProbeResult> Check(VerificationKind kind, string target) =>
            await probe.CheckAsync(new Verification("spoke1", kind, target, "", ""), DateTimeOffset.UtcNow, default);

        Assert.Equal(ProbeResult.Yes("in running-config"), await Check(VerificationKind.Configured, tunnel.NewInterface));
        Assert.Equal(ProbeResult.No("not in running-config"), await Check(VerificationKind.Configured, tunnel.OldInterface));
        Assert.Equal(ProbeResult.Yes($"handshake at {now}"), await Check(VerificationKind.Handshake, tunnel.NewInterface));
        Assert.Equal(ProbeResult.Yes("Full"), await Check(VerificationKind.OspfFull, tunnel.NewInterface));
        Assert.Equal(ProbeResult.No("Init/-"), await Check(VerificationKind.OspfFull, plan.Tunnels[1].NewInterface));
        Assert.Equal(ProbeResult.Yes("up"), await Check(VerificationKind.BfdUp, tunnel.NewInterface));
        Assert.Equal(ProbeResult.No("down"), await Check(VerificationKind.BfdUp, plan.Tunnels[1].NewInterface));
        Assert.Equal(ProbeResult.No("no BFD peer"), await Check(VerificationKind.BfdUp, tunnel.OldInterface));
        Assert.Equal(ProbeResult.Yes($"10.0.0.1/32 dev {tunnel.NewInterface}"), await Check(VerificationKind.RouteVia, tunnel.NewInterface));
        Assert.Equal(ProbeResult.No("link exists"), await Check(VerificationKind.InterfaceAbsent, tunnel.OldInterface));
        Assert.Contains(fake.Calls, c => c.Script == "vtysh -N spoke1 -c 'show ip ospf neighbor json'");
        Assert.Contains(fake.Calls, c => c.Script == $"wg show {tunnel.NewInterface} latest-handshakes");
    }

    [Fact]
    public void Handshakes_count_only_since_the_rotation_started_and_prefer_the_new_key_entry()
    {
        var started = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        Assert.Equal(ProbeResult.No("no handshake"), HostRotationProbe.Handshake("KEYA\t0\n", NewKey, started));
        Assert.Equal(ProbeResult.No("last handshake 1799999999 < 1800000000"), HostRotationProbe.Handshake("KEYA\t1799999999\n", NewKey, started));
        Assert.True(HostRotationProbe.Handshake("KEYA\t1800000003\n", NewKey, started).Satisfied);
        // In-place: the old entry handshook, the new one has not; only the new key's entry counts.
        Assert.False(HostRotationProbe.Handshake($"KEYA\t1800000003\n{NewKey}\t0\n", NewKey, started).Satisfied);
    }

    [Fact]
    public async Task A_probe_that_cannot_read_throws_so_the_executor_counts_not_yet()
    {
        var inv = Example();
        var plan = Plan(inv);
        var probe = new HostRotationProbe(new FakeNodeShell((_, _, _) => new ShellResult(1, "", "Exiting: failed to connect to any daemons.\n")), inv, plan, DateTimeOffset.UtcNow);
        var e = await Assert.ThrowsAsync<HostAgentException>(() => probe.CheckAsync(new Verification("spoke1", VerificationKind.OspfFull, "wr-s1-h1", "", ""), DateTimeOffset.UtcNow, default));
        Assert.Contains("failed to connect to any daemons", e.Message);
    }

    [Fact]
    public async Task Preflight_reaches_every_node_and_names_the_unreachable_and_the_unready()
    {
        var inv = Example();
        var plan = Plan(inv);
        var involved = RotationPreflight.NodesInvolved(plan);
        Assert.Equal("spoke1", involved[0]);
        Assert.Contains("hub1", involved);
        Assert.DoesNotContain("inventory", involved);

        var fake = new FakeNodeShell((node, script, stdin) => node == "hub2"
            ? FakeNodeShell.Ok("overlay-preflight\nproblem: wg-quick is not installed\n")
            : HealthyPreflight(script, stdin, NewKey));
        fake.Unreachable.Add("hub1");
        var result = await RotationPreflight.CheckAsync(fake, new HostRotationOptions(), inv, plan);

        Assert.Equal(involved, result.Select(r => r.Node));
        Assert.True(result.Single(r => r.Node == "spoke1").Ready);
        var hub1 = result.Single(r => r.Node == "hub1");
        Assert.False(hub1.Reachable);
        Assert.Contains("Connection refused", Assert.Single(hub1.Problems));
        Assert.Equal(["wg-quick is not installed"], result.Single(r => r.Node == "hub2").Problems);
        // Key file paths go on stdin, never into the script; only the rotating node is asked for the new key.
        var spokeCall = fake.Calls.Single(c => c.Node == "spoke1");
        string keyFile = inv.GetNode("spoke1").KeyFile;
        Assert.Equal($"{keyFile}\n{keyFile}.new\n", spokeCall.Stdin);
        Assert.DoesNotContain(keyFile, spokeCall.Script);
        Assert.EndsWith("\n\n", fake.Calls.Single(c => c.Node == "hub2").Stdin);
    }

    [Fact]
    public async Task Preflight_compares_the_derived_public_key_and_treats_a_silent_transport_as_unreachable()
    {
        var inv = Example();
        var plan = Plan(inv);
        var wrongKey = new FakeNodeShell((_, script, stdin) => HealthyPreflight(script, stdin, "LWuSTXwiLXih8cOVSH6DO3T7QwGcBViRGMgoAa8+tUc="));
        var spoke = (await RotationPreflight.CheckAsync(wrongKey, new HostRotationOptions(), inv, plan)).Single(r => r.Node == "spoke1");
        Assert.True(spoke.Reachable);
        Assert.Contains("does not hold the private key of --new-public-key", Assert.Single(spoke.Problems));
        Assert.DoesNotContain("LWuSTX", Assert.Single(spoke.Problems));

        var noNamespace = new FakeNodeShell((_, _, _) => new ShellResult(1, "", "Cannot open network namespace \"lab-hub1\": No such file or directory\n"));
        var all = await RotationPreflight.CheckAsync(noNamespace, new HostRotationOptions(), inv, plan);
        Assert.All(all, r => Assert.False(r.Reachable));
        Assert.Contains("Cannot open network namespace", all[0].Problems[0]);
    }

    [Fact]
    public void Host_options_report_every_problem_at_once()
    {
        var errors = new HostRotationOptions { WireGuardDirectory = "wg", Systemd = true, Vtysh = "vtysh; reboot" }.Validate();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("absolute path"));
        Assert.Contains(errors, e => e.Contains("--systemd"));
        Assert.Contains(errors, e => e.StartsWith("--vtysh", StringComparison.Ordinal));
        Assert.Empty(new HostRotationOptions().Validate());
    }

    /// <summary>sh on this machine, keeping each script's stdout.</summary>
    private sealed class RecordingLocalShell(List<string> outputs) : INodeShell
    {
        private readonly LocalNodeShell _inner = new();
        public string Describe(string node) => "local";
        public async Task<ShellResult> RunAsync(string node, string script, string? stdin, TimeSpan timeout, CancellationToken ct)
        {
            var r = await _inner.RunAsync(node, script, stdin, timeout, ct);
            outputs.Add(r.StdOut);
            return r;
        }
    }
}
