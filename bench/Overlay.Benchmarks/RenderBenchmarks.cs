using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Overlay.Core.Lint;
using Overlay.Core.Render;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Benchmarks;

/// <summary>Render and render+lint of the 40-node mesh, with the plain render as the unit (Ratio column).</summary>
[Config(typeof(ShortConfig))]
public class RenderBenchmarks
{
    private string _mesh40Yaml = "";
    private Inventory _mesh40 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _mesh40Yaml = InventoryBenchData.Mesh40Yaml();
        _mesh40 = InventoryBenchData.Parse(_mesh40Yaml, "mesh-40.yaml");
    }

    [Benchmark(Baseline = true, Description = "render mesh-40 (unit)")]
    public int Render40() => Renderer.Render(_mesh40).Count;

    [Benchmark(Description = "render+lint mesh-40")]
    public int RenderAndLint40() => Renderer.Render(_mesh40).Count + Linter.Lint(_mesh40, FileSystemView.Unknown).Count;

    [Benchmark(Description = "parse+render+lint mesh-40")]
    public int ParseRenderLint40()
    {
        var inv = InventoryBenchData.Parse(_mesh40Yaml, "mesh-40.yaml");
        return Renderer.Render(inv).Count + Linter.Lint(inv, FileSystemView.Unknown).Count;
    }
}

/// <summary>
/// All nodes of a 1000-node full mesh (999,000 WireGuard files + 1000 frr.conf + 1000 overlayd.yaml);
/// goal at most 2 s. One warmup and three measured invocations each (a run takes about a minute), with
/// the 40-node render in the same run as the unit.
/// </summary>
[Config(typeof(Render1000Config))]
public class Render1000Benchmarks
{
    private Inventory _mesh40 = null!;
    private Inventory _mesh1000 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _mesh40 = InventoryBenchData.Parse(InventoryBenchData.Mesh40Yaml(), "mesh-40.yaml");
        _mesh1000 = InventoryBenchData.Parse(InventoryBenchData.FullMeshYaml(1000), "mesh-1000.yaml");
    }

    [Benchmark(Baseline = true, Description = "render mesh-40 (unit)")]
    public int Render40() => Renderer.Render(_mesh40).Count;

    [Benchmark(Description = "lint mesh-1000 inventory")]
    public int Lint1000() => Linter.Lint(_mesh1000, FileSystemView.Unknown).Count;

    [Benchmark(Description = "render mesh-1000 (all nodes)")]
    public int Render1000() => Renderer.Render(_mesh1000).Count;
}

public sealed class Render1000Config : ManualConfig
{
    public Render1000Config()
    {
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(10), logOutput: false))
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1).WithId("render1000"));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
