using System.Diagnostics;
using Overlay.Core.Render;

namespace Overlay.Benchmarks;

/// <summary>
/// <c>render-1000 [N] [RUNS]</c>: renders every node of an N-node full mesh RUNS times (after one warmup)
/// and prints wall time, process CPU time and allocations per run. CPU time is the figure to compare on
/// a shared machine: it does not grow when other processes take the cores.
/// </summary>
internal static class RenderTiming
{
    public static int Run(string[] args)
    {
        int nodes = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        int runs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var mesh40 = InventoryBenchData.Parse(InventoryBenchData.Mesh40Yaml(), "mesh-40.yaml");
        var mesh = InventoryBenchData.Parse(InventoryBenchData.FullMeshYaml(nodes), $"mesh-{nodes}.yaml");
        Console.WriteLine($"mesh-{nodes}: {mesh.Nodes.Count} nodes, {mesh.Tunnels.Count} tunnels");
        Measure("render mesh-40 (unit, x25)", 1, () => { int n = 0; for (int i = 0; i < 25; i++) n += Renderer.Render(mesh40).Count; return n; });
        Measure($"render mesh-{nodes}", runs, () => Renderer.Render(mesh).Count);
        Measure("render mesh-40 (unit, x25)", runs, () => { int n = 0; for (int i = 0; i < 25; i++) n += Renderer.Render(mesh40).Count; return n; });
        return 0;
    }

    private static void Measure(string name, int runs, Func<int> body)
    {
        body(); // warmup: JIT and first-use indexes
        for (int r = 1; r <= runs; r++)
        {
            GC.Collect();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            int files = body();
            sw.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            long alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
            Console.WriteLine($"{name} run {r}: {files} files, wall {sw.Elapsed.TotalMilliseconds:F0} ms, cpu {cpu.TotalMilliseconds:F0} ms, allocated {alloc / 1048576.0:F0} MB");
        }
    }
}
