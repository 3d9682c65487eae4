using System.Diagnostics;
using Overlay.Core.Lint;
using Overlay.Core.Render;

namespace Overlay.Benchmarks;

/// <summary>
/// <c>render-1000 [N] [RUNS] [ONLY]</c>: times what <c>overlayctl render</c> does with an N-node full mesh after
/// parsing and before writing (lint, then render every node), then render and lint alone, RUNS times each
/// after one warmup, and prints wall time, process CPU time and allocations per run and their medians.
/// CPU time is the figure to compare on a shared machine: it does not grow when other processes take the cores.
/// </summary>
internal static class RenderTiming
{
    private static string s_only = "";

    public static int Run(string[] args)
    {
        int nodes = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        int runs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
        string only = args.Length > 2 ? args[2] : ""; // run only the measurements whose name contains this
        var mesh40 = InventoryBenchData.Parse(InventoryBenchData.Mesh40Yaml(), "mesh-40.yaml");
        s_only = only;
        var parse = Stopwatch.StartNew();
        var mesh = InventoryBenchData.Parse(InventoryBenchData.FullMeshYaml(nodes), $"mesh-{nodes}.yaml");
        Console.WriteLine($"mesh-{nodes}: {mesh.Nodes.Count} nodes, {mesh.Tunnels.Count} tunnels, parsed in {parse.ElapsedMilliseconds} ms (not timed below)");
        Measure($"lint + render mesh-{nodes}", runs, () => Linter.Lint(mesh, FileSystemView.Unknown).Count + Renderer.Render(mesh).Count);
        Measure($"render mesh-{nodes}", runs, () => Renderer.Render(mesh).Count);
        Measure($"lint mesh-{nodes}", runs, () => Linter.Lint(mesh, FileSystemView.Unknown).Count);
        Measure("render mesh-40 x25 (unit)", runs, () => { int n = 0; for (int i = 0; i < 25; i++) n += Renderer.Render(mesh40).Count; return n; });
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"peak working set {self.PeakWorkingSet64 / 1048576} MB");
        return 0;
    }

    private static void Measure(string name, int runs, Func<int> body)
    {
        if (!name.Contains(s_only, StringComparison.Ordinal)) return;
        body(); // warmup: JIT and first-use indexes
        var wall = new List<double>();
        var cpus = new List<double>();
        var allocs = new List<double>();
        for (int r = 1; r <= runs; r++)
        {
            GC.Collect();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            var pause0 = GC.GetTotalPauseDuration();
            int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
            var sw = Stopwatch.StartNew();
            int count = body();
            sw.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            long alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
            wall.Add(sw.Elapsed.TotalMilliseconds);
            cpus.Add(cpu.TotalMilliseconds);
            allocs.Add(alloc / 1048576.0);
            var pause = GC.GetTotalPauseDuration() - pause0;
            Console.WriteLine($"{name} run {r}: {count} results, wall {wall[^1]:F0} ms, cpu {cpus[^1]:F0} ms, allocated {allocs[^1]:F0} MB, " +
                $"GC pauses {pause.TotalMilliseconds:F0} ms (gen0/1/2 collections {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2})");
        }
        Console.WriteLine($"{name} MEDIAN of {runs}: wall {Median(wall):F0} ms, cpu {Median(cpus):F0} ms, allocated {Median(allocs):F0} MB; load average {LoadAverage()}");
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
