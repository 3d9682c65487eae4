using BenchmarkDotNet.Attributes;
using Overlay.Core.Lint;
using Overlay.Core.Render;
using InventoryModel = Overlay.Core.Inventory.Inventory;

namespace Overlay.Benchmarks;

/// <summary>Render and render+lint of the 40-node mesh, with the plain render as the unit (Ratio column).</summary>
[Config(typeof(ShortConfig))]
public class RenderBenchmarks
{
    private string _mesh40Yaml = "";
    private InventoryModel _mesh40 = null!;

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
/// goal at most 2 s. One cold invocation each (the render takes far longer than the goal today), with
/// the 40-node render in the same run as the unit.
/// </summary>
[Config(typeof(SingleShotConfig))]
public class Render1000Benchmarks
{
    private InventoryModel _mesh40 = null!;
    private InventoryModel _mesh1000 = null!;

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
