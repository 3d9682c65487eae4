using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests.Lint;

/// <summary>
/// An anycast VIP's client as an operator meets it: the shipped example renders its watchdog and lints clean; the same
/// client without the watchdog and without NAT (so without keepalive) gets OVL018 from lint and from render.
/// </summary>
public sealed class AnycastClientCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlay-anycast-cli-").FullName;
    private static readonly string Example = Path.Combine(RenderCommandTests.FindRoot(), "examples", "anycast-2dc.yaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>client1 with a fixed endpoint instead of NAT, and watchdog: false.</summary>
    private string Unwatched()
    {
        string text = File.ReadAllText(Example).ReplaceLineEndings("\n");
        const string Nat = "    nat: true\n";
        const string Watchdog = "watchdog: { interval: 100ms, misses: 3, backoff: 250ms, maxBackoff: 30s }";
        Assert.Contains(Nat, text);
        Assert.Contains(Watchdog, text);
        string path = Path.Combine(_dir, "unwatched.yaml");
        File.WriteAllText(path, text.Replace(Nat, "    endpoint: 192.0.2.31:51820\n", StringComparison.Ordinal).Replace(Watchdog, "watchdog: false", StringComparison.Ordinal));
        return path;
    }

    [Fact]
    public void The_example_lints_clean_and_renders_the_clients_watchdog()
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, LintCommand.Run(Example, [], null, false, o, e));
        Assert.Equal("", o.ToString());

        string outDir = Path.Combine(_dir, "out");
        Assert.Equal(RenderCommand.Ok, RenderCommand.Run(Example, outDir, null, false, false, new StringWriter(), new StringWriter()));
        string client = File.ReadAllText(Path.Combine(outDir, "client1", "overlayd.yaml"));
        Assert.Equal(2, client.Split("    watchdog:\n").Length - 1); // one per tunnel to a site of VIP web
        Assert.DoesNotContain("watchdog:", File.ReadAllText(Path.Combine(outDir, "dc1-edge1", "overlayd.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_without_watchdog_or_keepalive_gets_OVL018_and_still_renders()
    {
        string inv = Unwatched();
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(1, LintCommand.Run(inv, [], null, false, o, e));
        Assert.Contains("unwatched.yaml:", o.ToString(), StringComparison.Ordinal);
        Assert.Contains(": warning OVL018: 'client1' reaches anycast VIP 'web' through 'dc1-edge1', 'dc2-edge1' with watchdog: false", o.ToString(), StringComparison.Ordinal);

        string outDir = Path.Combine(_dir, "out");
        var (ro, re) = (new StringWriter(), new StringWriter());
        Assert.Equal(RenderCommand.Ok, RenderCommand.Run(inv, outDir, null, false, false, ro, re));
        Assert.Contains(": warning OVL018: ", re.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("watchdog", File.ReadAllText(Path.Combine(outDir, "client1", "overlayd.yaml")), StringComparison.Ordinal);
    }
}
