using System.Diagnostics;
using System.Net;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;

namespace Overlay.Frr.Tests.Support;

/// <summary>
/// A throw-away FRR 8.4 router for live tests: its own network namespace and pathspace, zebra +
/// staticd + bfdd with the gRPC module, a veth pair (ifA 10.99.0.1/30 ↔ ifB 10.99.0.2/30) inside it.
/// Everything is removed in DisposeAsync. (The Lab library will offer a fuller version.)
/// </summary>
internal sealed class FrrTestRouter : IAsyncDisposable
{
    public const string FrrBin = "/usr/lib/frr";
    public const string GrpcModule = "/usr/lib/x86_64-linux-gnu/frr/modules/grpc.so";

    private readonly List<Process> _processes = [];
    private readonly string _dir;

    private FrrTestRouter(string id)
    {
        Id = id;
        Namespace = "ovfrr-" + id;
        InterfaceA = "vf" + id + "a";
        InterfaceB = "vf" + id + "b";
        _dir = Path.Combine(Path.GetTempPath(), "overlay-frr-test-" + id);
        RunDir = "/var/run/frr/" + Namespace;
    }

    public string Id { get; }
    public string Namespace { get; }
    public string InterfaceA { get; }
    public string InterfaceB { get; }
    public string RunDir { get; }

    /// <summary>The vty sockets of this router: /var/run/frr/NAMESPACE/DAEMON.vty (pathspace = namespace name).</summary>
    public Overlay.Frr.Vty.VtyOptions VtyOptions => new() { Pathspace = Namespace };
    public FrrEndpoints Endpoints { get; } = FrrEndpoints.Default.With(FrrDaemon.Ospfd, 50054).With(FrrDaemon.Bgpd, 50055);

    public static string? MissingPrerequisite()
    {
        if (!TestNetns.IsRoot) return "needs root (network namespaces, FRR daemons)";
        if (!File.Exists(Path.Combine(FrrBin, "zebra"))) return "FRR is not installed (/usr/lib/frr/zebra)";
        if (!File.Exists(GrpcModule)) return "FRR's gRPC module is not installed (frr/install.sh builds it)";
        return null;
    }

    public static Task<FrrTestRouter> StartAsync(params string[] daemons) =>
        StartWithConfigAsync((daemons.Length == 0 ? ["zebra", "staticd", "bfdd"] : daemons).ToDictionary(d => d, _ => ""));

    /// <summary>Starts the given daemons (zebra first) with these configuration texts.</summary>
    public static async Task<FrrTestRouter> StartWithConfigAsync(IReadOnlyDictionary<string, string> configs)
    {
        var router = new FrrTestRouter(TestNetns.NewId());
        try
        {
            await router.StartCoreAsync(configs);
            return router;
        }
        catch
        {
            await router.DisposeAsync();
            throw;
        }
    }

    /// <param name="onConnect">Called for every TCP connection the client opens (host:port).</param>
    public NorthboundClientFactory CreateFactory(TimeSpan? timeout = null, Action<string>? onConnect = null) =>
        new(Endpoints, new FrrGrpcOptions
        {
            ConnectCallback = (context, ct) =>
            {
                onConnect?.Invoke($"{context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}");
                return new ValueTask<Stream>(TestNetns.ConnectAsync(Namespace, context.DnsEndPoint, ct));
            },
            DefaultTimeout = timeout ?? TimeSpan.FromSeconds(10),
        });

    public string Ip(params string[] args) => TestNetns.Run("ip", ["-n", Namespace, .. args]);

    public bool IsRunning(string daemon) =>
        _processes.Any(p => !p.HasExited && p.StartInfo.ArgumentList.Contains(Path.Combine(FrrBin, daemon)));

    public string Log(string daemon) => File.Exists(Path.Combine(_dir, daemon + ".log")) ? File.ReadAllText(Path.Combine(_dir, daemon + ".log")) : "";

    private async Task StartCoreAsync(IReadOnlyDictionary<string, string> configs)
    {
        var daemons = configs.Keys.OrderBy(d => d == "zebra" ? 0 : 1).ToArray();
        Directory.CreateDirectory(_dir);
        Directory.CreateDirectory(RunDir);
        TestNetns.Run("chown", "frr:frr", _dir, RunDir);
        TestNetns.Run("ip", "netns", "add", Namespace);
        Ip("link", "set", "lo", "up");
        Ip("link", "add", InterfaceA, "type", "veth", "peer", "name", InterfaceB);
        Ip("addr", "add", "10.99.0.1/30", "dev", InterfaceA);
        Ip("addr", "add", "10.99.0.2/30", "dev", InterfaceB);
        Ip("link", "set", InterfaceA, "up");
        Ip("link", "set", InterfaceB, "up");

        foreach (var daemon in daemons)
        {
            var port = Endpoints.Ports[Enum.Parse<FrrDaemon>(daemon, ignoreCase: true)];
            var config = Path.Combine(_dir, daemon + ".conf");
            File.WriteAllText(config, configs[daemon]);
            TestNetns.Run("chown", "frr:frr", config);
            var info = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = false, RedirectStandardError = false };
            foreach (var arg in (string[])["netns", "exec", Namespace, Path.Combine(FrrBin, daemon), "-N", Namespace, "-f", config,
                         "-i", Path.Combine(RunDir, daemon + ".pid"), "--log", "file:" + Path.Combine(_dir, daemon + ".log"),
                         "-u", "frr", "-g", "frr", "-P", "0", "-M", $"grpc:{port}"])
                info.ArgumentList.Add(arg);
            _processes.Add(Process.Start(info)!);
            if (daemon == "zebra") // the others connect to zebra's zserv socket at start
                await TestNetns.PollAsync(() => Task.FromResult(File.Exists(Path.Combine(RunDir, "zserv.api"))), x => x,
                    TimeSpan.FromSeconds(20), "zebra's zserv.api socket");
        }

        using var factory = CreateFactory(TimeSpan.FromSeconds(2));
        foreach (var daemon in daemons)
        {
            var client = factory.For(Enum.Parse<FrrDaemon>(daemon, ignoreCase: true));
            await TestNetns.PollAsync(async () =>
            {
                try { await client.GetCapabilitiesAsync(); return true; }
                catch (FrrNorthboundException) { return false; }
            }, x => x, TimeSpan.FromSeconds(30), $"{daemon}'s gRPC server in {Namespace}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception) { /* best effort: the namespace sweep below catches stragglers */ }
            process.Dispose();
        }
        // Anything still inside the namespace (daemons re-exec'd by ip netns exec) goes too.
        var (_, pids) = TestNetns.TryRun("ip", "netns", "pids", Namespace);
        foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (int.TryParse(pid, out var p))
                TestNetns.TryRun("kill", "-9", p.ToString());
        TestNetns.TryRun("ip", "netns", "del", Namespace);
        try { Directory.Delete(RunDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
