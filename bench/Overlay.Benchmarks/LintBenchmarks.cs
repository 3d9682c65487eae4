using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Overlay.Core.Lint;
using Overlay.Core.Prefixes;

namespace Overlay.Benchmarks;

/// <summary>
/// AllowedIPs overlap lint. Baseline: the quadratic pairwise scan on 5,000 entries (what a naive check
/// does); the LPM-based check runs on the same 5,000 and on 1,000,000 entries (goal: at most 1 s).
/// </summary>
[Config(typeof(ShortConfig))]
public class LintBenchmarks
{
    private OwnedPrefix[] _small = [];
    private PeerList _small5k = null!;
    private PeerList _million = null!;

    [GlobalSetup]
    public void Setup()
    {
        _small5k = InventoryBenchData.LegacyPeerList(50, 100);
        _small = Flatten(_small5k);
        _million = InventoryBenchData.LegacyPeerList(1000, 1000);
    }

    private static OwnedPrefix[] Flatten(PeerList list) =>
        [.. list.Peers.SelectMany((p, i) => p.AllowedIps.Select(a => new OwnedPrefix(0, i, a.Prefix)))];

    [Benchmark(Baseline = true, Description = "brute-force overlap, 5k entries")]
    public int BruteForce5k() => OverlapFinder.FindBruteForce(_small).Count;

    [Benchmark(Description = "LPM overlap, 5k entries")]
    public int Lpm5k() => OverlapFinder.Find(_small).Count;

    [Benchmark(Description = "lint peer list, 5k AllowedIPs")]
    public int Lint5k() => Linter.LintPeerLists([_small5k]).Count;

    [Benchmark(Description = "lint peer list, 1M AllowedIPs")]
    public int Lint1M() => Linter.LintPeerLists([_million]).Count;
}

/// <summary>
/// In-process (no generated project to build, which timed out on this shared 2-core machine), a couple of
/// warmups and a few measured iterations: a whole run takes a couple of minutes.
/// </summary>
public sealed class ShortConfig : ManualConfig
{
    public ShortConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5).WithId("short"));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}

/// <summary>For runs of a minute or more: cold start, no warmup, a single measured invocation.</summary>
public sealed class SingleShotConfig : ManualConfig
{
    public SingleShotConfig()
    {
        AddJob(Job.Default.WithStrategy(RunStrategy.ColdStart).WithLaunchCount(1).WithWarmupCount(0).WithIterationCount(1)
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(20), logOutput: false)).WithId("single"));
        AddColumn(StatisticColumn.Median);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
