using System.Text.Json;
using Overlay.Cli.Commands;
using Overlay.Remote.Tests;
using Overlay.Remote.Shell;

namespace Overlay.Cli.Tests;

public sealed class RotateApplyCommandTests
{
    private static readonly string Example = Path.Combine(RemoteTestSupport.Root(), "examples", "hub-spoke.yaml");
    private const string NewKey = RemoteTestSupport.NewKey;

    private static async Task<(int Code, string Out, string Err)> Run(RotateApplyRequest request, INodeShell? shell = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await RotateApplyCommand.ApplyAsync(request, stdout, stderr, shell, default);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static RotateApplyRequest Request(string node = "spoke1", string? key = NewKey) => new(Example, node, key);

    [Fact]
    public async Task An_unreachable_node_refuses_the_rotation_before_any_change()
    {
        var shell = new FakeNodeShell((_, script, stdin) => RemoteTestSupport.HealthyPreflight(script, stdin, NewKey));
        shell.Unreachable.Add("hub1");
        var (code, stdout, stderr) = await Run(Request(), shell);

        Assert.Equal(RotateApplyCommand.Refused, code);
        Assert.Contains("pre-flight  [hub1] UNREACHABLE (fake hub1)", stdout);
        Assert.Contains("Connection refused", stdout);
        Assert.Contains("pre-flight  [spoke1] ok", stdout);
        Assert.Contains("refused: nothing was changed. Pre-flight failed (unreachable: hub1)", stderr);
        // Only the pre-flight ran anywhere.
        Assert.All(shell.Calls, c => Assert.Contains("overlay-preflight", c.Script));
    }

    [Fact]
    public async Task A_dry_run_checks_every_node_and_changes_nothing()
    {
        var shell = new FakeNodeShell((_, script, stdin) => RemoteTestSupport.HealthyPreflight(script, stdin, NewKey));
        var (code, stdout, _) = await Run(Request() with { DryRun = true }, shell);
        Assert.Equal(RotateApplyCommand.Ok, code);
        Assert.Contains("phase 4: Remove the old tunnels", stdout);
        Assert.Contains("dry run: pre-flight passed on every node; nothing was changed", stdout);
        Assert.All(shell.Calls, c => Assert.Contains("overlay-preflight", c.Script));
        Assert.Equal(shell.Calls.Select(c => c.Node).Distinct().Count(), shell.Calls.Count);
    }

    [Fact]
    public async Task A_failing_step_rolls_back_and_exits_4_with_what_failed()
    {
        var shell = new FakeNodeShell((node, script, stdin) =>
            script.Contains("overlay-preflight") ? RemoteTestSupport.HealthyPreflight(script, stdin, NewKey)
            : script.Contains("show running-config") ? FakeNodeShell.Ok(string.Concat(new[] { "wr-s1-h1", "wr-s1-h2", "wr-h1-s1", "wr-h2-s1", "wr-s1-s2", "wr-s2-s1" }.Select(i => $"interface {i}\n")))
            : node == "hub1" && script.Contains("wg-quick up") ? new ShellResult(1, "", "RTNETLINK answers: Address already in use\n")
            : FakeNodeShell.Ok());
        var (code, stdout, stderr) = await Run(Request() with { PhaseTimeout = "5s" }, shell);

        Assert.Equal(RotateApplyCommand.RolledBack, code);
        Assert.Contains("phase 2  ChangeFailed", stdout);
        Assert.Contains("RTNETLINK answers: Address already in use", stderr);
        Assert.Contains("rotate apply: rolled back: phase 2: BringUp wr-h1-s1 on hub1 failed", stderr);
        Assert.Contains("phase 1  RollbackCompleted", stdout);
        // Phase 1's rollback removed what phase 1 wrote, on the nodes it wrote it.
        Assert.Contains(shell.Calls, c => c.Node == "hub1" && c.Script == "rm -f /etc/wireguard/wr-h1-s1.conf");
        Assert.Contains(shell.Calls, c => c.Node == "spoke1" && c.Stdin is { } s && s.Contains("no interface wr-s1-h1"));
    }

    [Fact]
    public async Task Json_output_is_one_object_per_line()
    {
        var shell = new FakeNodeShell((_, script, stdin) => RemoteTestSupport.HealthyPreflight(script, stdin, NewKey));
        var (code, stdout, _) = await Run(Request() with { DryRun = true, Json = true }, shell);
        Assert.Equal(0, code);
        var objects = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(objects, o => o.GetProperty("type").GetString() == "preflight" && o.GetProperty("node").GetString() == "hub1" && o.GetProperty("ready").GetBoolean());
        Assert.Equal("dryRun", objects[^1].GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Transport_options_are_checked_all_at_once_before_any_node_is_contacted()
    {
        var (code, _, stderr) = await Run(Request("spoke3") with
        {
            SshHosts = ["hub1=bad;host", "nosuch=192.0.2.9", "hub2"],
            SshOptions = ["-oProxyCommand=x"],
            PhaseTimeout = "soon",
            WireGuardDirectory = "relative",
        });
        Assert.Equal(RotateApplyCommand.BadInput, code);
        Assert.Contains("--ssh-host 'hub1=bad;host': 'bad;host' is not a host name or address", stderr);
        Assert.Contains("--ssh-host 'nosuch=192.0.2.9': no node 'nosuch'", stderr);
        Assert.Contains("--ssh-host 'hub2': use NODE=HOST", stderr);
        Assert.Contains("node 'spoke3' has no endpoint", stderr);
        Assert.Contains("--ssh-option '-oProxyCommand=x'", stderr);
        Assert.Contains("--phase-timeout 'soon' is not a duration", stderr);
        Assert.Contains("--wg-dir 'relative' must be an absolute path", stderr);

        var mixed = await Run(Request() with { Via = "ip netns exec lab-{node}", SshUser = "root" });
        Assert.Equal(RotateApplyCommand.BadInput, mixed.Code);
        Assert.Contains("--via replaces ssh", mixed.Err);

        var badVia = await Run(Request() with { Via = "ip netns exec $NS" });
        Assert.Contains("--via: template", badVia.Err);
    }

    [Fact]
    public void Ssh_is_the_default_transport_to_each_nodes_endpoint_host_and_the_local_node_runs_sh()
    {
        var inv = RemoteTestSupport.Example();
        var errors = new List<string>();
        var shell = RotateApplyCommand.BuildShell(Request() with { SshUser = "ops", SshHosts = ["hub2=hub2.example.net"], LocalNode = "spoke1" },
            inv, ["spoke1", "hub1", "hub2"], errors);
        Assert.Empty(errors);
        Assert.Equal("ssh ops@192.0.2.1", shell!.Describe("hub1"));
        Assert.Equal("ssh ops@hub2.example.net", shell.Describe("hub2"));
        Assert.Equal("this machine", shell.Describe("spoke1"));
        Assert.Equal("ip netns exec lab-hub1", RotateApplyCommand.BuildShell(Request() with { Via = "ip netns exec lab-{node}" }, inv, ["hub1"], errors)!.Describe("hub1"));
    }

    [Theory]
    [InlineData("60s", 60_000)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("90", 90_000)]
    [InlineData("1.5s", 1_500)]
    public void Phase_timeouts_read_common_units(string text, int ms)
    {
        Assert.True(RotateApplyCommand.TryParseDuration(text, out var d));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), d);
    }

    [Fact]
    public async Task Bad_input_exits_2_before_any_node_is_contacted()
    {
        var shell = new FakeNodeShell();
        var missing = await Run(Request(key: null), shell);
        Assert.Equal(RotateApplyCommand.BadInput, missing.Code);
        Assert.Contains("--new-public-key is required", missing.Err);

        var malformed = await Run(Request(key: "not-a-key"), shell);
        Assert.Equal(RotateApplyCommand.BadInput, malformed.Code);
        Assert.StartsWith("--new-public-key: error:", malformed.Err);

        var unknown = await Run(Request("spoke9"), shell);
        Assert.Equal(RotateApplyCommand.BadInput, unknown.Code);
        Assert.Contains("no node 'spoke9'", unknown.Err);
        Assert.Empty(shell.Calls);
    }
}
