using Overlay.Remote.Shell;

namespace Overlay.Remote.Tests;

public sealed class NodeShellTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("/etc/wireguard/wr-s1-h1.conf", "/etc/wireguard/wr-s1-h1.conf")]
    [InlineData("", "''")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$(reboot)", "'$(reboot)'")]
    [InlineData("a;b|c&d`e`", "'a;b|c&d`e`'")]
    public void Quote_makes_one_literal_word(string word, string quoted) => Assert.Equal(quoted, ShellWords.Quote(word));

    [Theory]
    [InlineData("it's")]
    [InlineData("$(touch /tmp/overlay-quote-test-must-not-exist) `id` ; echo no")]
    [InlineData("line\nbreak and \\ backslash \"double\"")]
    [InlineData(" leading and trailing ")]
    public async Task A_quoted_word_reaches_the_shell_unchanged(string word)
    {
        var r = await new LocalNodeShell().RunAsync("n1", "printf %s " + ShellWords.Quote(word), null, Timeout, default);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(word, r.StdOut);
        Assert.False(File.Exists("/tmp/overlay-quote-test-must-not-exist"));
    }

    [Fact]
    public void Templates_split_like_sh_and_take_the_node_name()
    {
        Assert.Equal(["ip", "netns", "exec", "lab-hub"], ShellWords.Expand("ip netns exec lab-{node}", "hub"));
        Assert.Equal(["vtysh", "-N", "x y-hub"], ShellWords.Expand("vtysh  -N 'x y-{node}'", "hub"));
        Assert.Equal(["env", "A=\"1\""], ShellWords.Expand("env 'A=\"1\"'", "hub"));
        Assert.Equal(["a{node}b"], ShellWords.Split("a{node}b"));
    }

    [Theory]
    [InlineData("ip netns exec $NS")]
    [InlineData("ssh host; reboot")]
    [InlineData("a | b")]
    [InlineData("echo `id`")]
    [InlineData("'unterminated")]
    [InlineData("   ")]
    public void Templates_with_shell_syntax_are_refused(string template) =>
        Assert.Throws<ArgumentException>(() => new TemplateNodeShell(template));

    [Theory]
    [InlineData("-oProxyCommand=x")]
    [InlineData("hub; reboot")]
    [InlineData("$(id)")]
    [InlineData("")]
    [InlineData("a b")]
    public void Node_names_that_are_not_plain_never_reach_a_command_line(string node)
    {
        Assert.Throws<ArgumentException>(() => new TemplateNodeShell("ip netns exec lab-{node}").CommandLine(node, "true"));
        Assert.Throws<ArgumentException>(() => new SshNodeShell(_ => "192.0.2.1").CommandLine(node, "true"));
    }

    [Fact]
    public void Ssh_command_line_is_batch_mode_with_options_then_destination_then_one_quoted_command()
    {
        var ssh = new SshNodeShell(n => n == "hub1" ? "192.0.2.1" : "2001:db8::2", "root", ["Port=2222", "StrictHostKeyChecking=accept-new"]);
        Assert.Equal(
            ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "Port=2222", "-o", "StrictHostKeyChecking=accept-new",
             "--", "root@192.0.2.1", "sh -c 'wg show '\\''wr-s1-h1'\\'' latest-handshakes'"],
            ssh.CommandLine("hub1", "wg show 'wr-s1-h1' latest-handshakes"));
        Assert.Equal(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "--", "2001:db8::2", "sh -c true"],
            new SshNodeShell(_ => "2001:db8::2").CommandLine("hub2", "true"));
        Assert.Equal("ssh root@192.0.2.1", ssh.Describe("hub1"));
    }

    [Theory]
    [InlineData("-oProxyCommand=touch /tmp/x")]
    [InlineData("host name")]
    [InlineData("host;id")]
    [InlineData("[2001:db8::1]")]
    public void Ssh_refuses_hosts_it_could_misread(string host) =>
        Assert.Throws<ArgumentException>(() => new SshNodeShell(_ => host).CommandLine("hub1", "true"));

    [Theory]
    [InlineData("-l")]
    [InlineData("root@evil")]
    [InlineData("a b")]
    public void Ssh_refuses_bad_user_names(string user) => Assert.Throws<ArgumentException>(() => new SshNodeShell(_ => "h", user));

    [Fact]
    public async Task The_remote_command_ssh_sends_is_parsed_back_by_a_login_shell_into_the_exact_script()
    {
        // sshd hands the command word to the user's shell as 'SHELL -c WORD'; sh does the same here, with stdin intact.
        string script = "read -r x; printf '%s|%s' \"$x\" 'it'\\''s $(not run)'";
        string word = new SshNodeShell(_ => "192.0.2.1").CommandLine("hub1", script)[^1];
        var r = await new LocalNodeShell().RunAsync("n1", word, "data from stdin\n", Timeout, default);
        Assert.Equal("data from stdin|it's $(not run)", r.StdOut);
    }

    [Fact]
    public async Task Template_and_local_shells_run_the_script_with_stdin_and_report_exit_codes()
    {
        var template = new TemplateNodeShell("env OVERLAY_TEST_NODE={node}");
        Assert.Equal(["env", "OVERLAY_TEST_NODE=hub", "sh", "-c", "exit 3"], template.CommandLine("hub", "exit 3"));
        var r = await template.RunAsync("hub", "cat; echo \" $OVERLAY_TEST_NODE\"; exit 3", "in", Timeout, default);
        Assert.Equal((3, "in hub\n"), (r.ExitCode, r.StdOut));
    }

    [Fact]
    public async Task A_prefix_that_cannot_start_or_a_script_past_its_deadline_is_a_node_shell_error()
    {
        var missing = await Assert.ThrowsAsync<NodeShellException>(() => new TemplateNodeShell("/nonexistent/overlay-prefix {node}").RunAsync("hub", "true", null, Timeout, default));
        Assert.Contains("could not start", missing.Message);
        var slow = await Assert.ThrowsAsync<NodeShellException>(() => new LocalNodeShell().RunAsync("n1", "sleep 30", null, TimeSpan.FromMilliseconds(200), default));
        Assert.Contains("no answer within", slow.Message);
    }

    [Fact]
    public async Task The_router_sends_each_node_to_its_backend()
    {
        var local = new FakeNodeShell(); var remote = new FakeNodeShell();
        var router = new NodeShellRouter(remote, new Dictionary<string, INodeShell> { ["spoke1"] = local });
        await router.RunAsync("spoke1", "a", null, Timeout, default);
        await router.RunAsync("hub1", "b", null, Timeout, default);
        Assert.Equal("spoke1", Assert.Single(local.Calls).Node);
        Assert.Equal("hub1", Assert.Single(remote.Calls).Node);
    }
}
