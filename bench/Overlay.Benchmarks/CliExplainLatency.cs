using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Overlay.Lab;
using Overlay.Lab.Scenarios;

namespace Overlay.Benchmarks;

/// <summary>
/// End-to-end latency of <c>overlayctl explain</c> as an operator runs it: a process, fork to exit, against a real
/// overlayd (site 1 of the anycast lab: real FRR with its gRPC module, wireguard-go). In the same run and
/// interleaved (so load on the shared machine hits every variant alike): the installed, ReadyToRun-published
/// apphost; the framework-dependent <c>dotnet overlayctl.dll</c> of a plain build (the baseline); each one's
/// <c>--version</c> (process start, no request); and the control API alone from an already running process.
/// Besides wall time it records each process's CPU time (user + system, from getrusage of the reaped children):
/// on a shared, loaded machine wall time mostly measures the run queue, CPU time what the process itself costs.
/// Usage (root): <c>overlay-benchmarks cli-explain [runs=20] [published=/usr/bin/overlayctl] [baseline ...]</c>; the
/// baselines default to the overlayctl.dll of a plain build in this checkout (several: e.g. an older build too, or the
/// ReadyToRun apphost; a baseline that is not a .dll runs as itself).
/// </summary>
public static partial class CliExplainLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        string published = args.Length > 1 ? args[1] : "/usr/bin/overlayctl";
        string?[] baselines = args.Length > 2 ? (string?[])args[2..] : [FindBuiltDll()];
        if (LabPreflight.MissingRequirements() is { } why)
            return Fail("cannot run: " + why);
        if (!File.Exists(published))
            return Fail($"{published} not found: install it first (scripts/publish.sh --install) or pass its path");
        foreach (string? b in baselines)
            if (b is null || !File.Exists(b))
                return Fail($"overlayctl.dll of a plain build not found ({b ?? "none in this checkout"}): dotnet build src/Overlay.Cli -c Release, or pass its path");

        var log = new LineLogger(Console.Error.WriteLine, Microsoft.Extensions.Logging.LogLevel.Warning);
        var topo = AnycastTopology.Declare();
        await using var any = await AnycastLab.StartAsync(topo, log);
        string socket = any.OverlaydSocketPath(topo.Site1);
        // The client's tunnel address on site 1: a kernel route, a WireGuard peer and FRR's connected entry.
        string dest = AnycastTopology.ClientTunnelAddress.Address.ToString();
        Console.WriteLine($"lab {any.Lab.RunId} up in {any.Now.TotalMilliseconds:0} ms; overlayd socket {socket}; {runs} runs of explain {dest}");

        // overlayd answers on the socket once started; the first answers also warm its own caches.
        await Poll.UntilAsync("overlayd API answers", async c => await ApiGetAsync(socket, "/v1/status", c) is not null, TimeSpan.FromSeconds(30));
        var first = await RunAsync(published, ["explain", dest, "--socket", socket]);
        Console.WriteLine($"{published} explain {dest} (exit {first.Code}):\n{first.StdOut}{first.StdErr}");
        if (first.Code is not (0 or 1)) return Fail("the published overlayctl failed; see above");

        string[][] tails = [["explain", dest, "--socket", socket], ["explain", dest, "--socket", socket, "-o", "json"], ["--version"]];
        var variants = new List<(string What, string File, string[] Prefix)>();
        // A baseline .dll runs under dotnet; any other baseline (a ReadyToRun apphost, a NativeAOT build) runs as itself.
        foreach (var (what, file, prefix) in baselines.Select(b => b!.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? ($"baseline: dotnet {b}", "dotnet", new[] { b }) : ($"baseline: {b}", b, Array.Empty<string>()))
            .Prepend(($"published: {published}", published, Array.Empty<string>())))
            variants.AddRange(tails.Select(t => ($"{what} {(t[0] == "explain" ? string.Join(' ', t.Where(a => a is "explain" or "-o" or "json")) : t[0])}", file, prefix)));
        var samples = variants.Select(_ => new List<double>()).ToArray();
        var cpu = variants.Select(_ => new List<double>()).ToArray();
        var api = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            for (int v = 0; v < variants.Count; v++)
            {
                var r = await RunAsync(variants[v].File, [.. variants[v].Prefix, .. tails[v % tails.Length]]);
                if (r.Code is not (0 or 1)) return Fail($"{variants[v].What} exited {r.Code}: {r.StdErr}");
                samples[v].Add(r.Took.TotalMilliseconds);
                cpu[v].Add(r.Cpu.TotalMilliseconds);
            }
            var sw = Stopwatch.StartNew();
            if (await ApiGetAsync(socket, "/v1/explain?dest=" + dest, default) is null) return Fail("the API did not answer");
            api.Add(sw.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine();
        Console.WriteLine($"overlayctl explain latency, {runs} runs each, interleaved (median, min-max), wall | CPU user+sys:");
        for (int v = 0; v < variants.Count; v++) Print(variants[v].What, samples[v], cpu[v]);
        Print("control API alone: GET /v1/explain over the Unix socket (running process)", api);
        Console.WriteLine($"machine: nproc {Environment.ProcessorCount}, load average {File.ReadAllText("/proc/loadavg").Trim()}, .NET {Environment.Version}");
        return 0;
    }

    private static void Print(string what, List<double> wall, List<double>? cpu = null) =>
        Console.WriteLine($"  {what}: {Summary(wall)}{(cpu is null ? "" : " | CPU " + Summary(cpu))}");

    private static string Summary(List<double> values)
    {
        var sorted = values.Order().ToList();
        double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        return $"median {median:0} ms ({sorted[0]:0}-{sorted[^1]:0})";
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("cli-explain: " + message);
        return 2;
    }

    /// <summary>overlayctl.dll of a plain (not published) build in this checkout, Release preferred.</summary>
    private static string? FindBuiltDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (string config in new[] { "Release", "Debug" })
            {
                string candidate = Path.Combine(dir.FullName, "src", "Overlay.Cli", "bin", config, "net10.0", "overlayctl.dll");
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>One process, fork to exit, output drained as a terminal-less operator's pipe would.</summary>
    private static async Task<(int Code, string StdOut, string StdErr, TimeSpan Took, TimeSpan Cpu)> RunAsync(string file, string[] args)
    {
        var cpuBefore = ChildrenCpu();
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        var took = sw.Elapsed;
        // One child at a time, reaped by WaitForExit: the children's total grew by exactly this process's CPU.
        return (p.ExitCode, await stdout, await stderr, took, ChildrenCpu() - cpuBefore);
    }

    private static TimeSpan ChildrenCpu() => Overlay.Linux.Interop.Libc.ChildrenCpuTime();

    /// <summary>One GET on a fresh connection from this (warm) process; null when nothing answers.</summary>
    private static async Task<string?> ApiGetAsync(string socket, string path, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, c) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), c);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        }) { BaseAddress = new Uri("http://overlayd"), Timeout = TimeSpan.FromSeconds(10) };
        try { return await http.GetStringAsync(path, ct); }
        catch (HttpRequestException) { return null; }
    }
}
