using Overlay.Core.Config;

namespace Overlay.Core.Tests.Config;

public class WatchdogConfigTests
{
    private static string With(string watchdog) =>
        NodeConfigLoaderTests.Sample.Replace("    gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]\n",
            "    gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]\n" + watchdog, StringComparison.Ordinal);

    [Fact]
    public void No_watchdog_block_means_no_watchdog()
    {
        var r = NodeConfigYaml.Read(NodeConfigLoaderTests.Sample, "overlayd.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        Assert.Null(r.Config!.Interfaces[0].Watchdog);
    }

    [Fact]
    public void An_empty_block_takes_the_documented_defaults()
    {
        var r = NodeConfigYaml.Read(With("    watchdog: {}\n"), "overlayd.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        Assert.Equal(SessionWatchdogConfig.Standard, r.Config!.Interfaces[0].Watchdog);
        Assert.Equal(new SessionWatchdogConfig(TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30)), SessionWatchdogConfig.Standard);
    }

    [Fact]
    public void Every_field_is_read()
    {
        var r = NodeConfigYaml.Read(With("    watchdog:\n      interval: 200ms\n      misses: 4\n      backoff: 1s\n      maxBackoff: 1m\n"), "overlayd.yaml");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        Assert.Equal(new SessionWatchdogConfig(TimeSpan.FromMilliseconds(200), 4, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), r.Config!.Interfaces[0].Watchdog);
    }

    [Fact]
    public void Bad_values_are_all_reported_at_once_with_their_paths()
    {
        var r = NodeConfigYaml.Read(With("    watchdog:\n      interval: 5ms\n      misses: 0\n      backoff: 1ms\n      maxBackoff: 2h\n      mises: 3\n"), "f.yaml");
        Assert.False(r.Ok);
        var paths = r.Errors.Select(e => e.Path).ToHashSet();
        foreach (var p in new[] { "interval", "misses", "backoff", "maxBackoff", "mises" })
            Assert.Contains("interfaces[0].watchdog." + p, paths);
        Assert.All(r.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Hint)));
    }
}
