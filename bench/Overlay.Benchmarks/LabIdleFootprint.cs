using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Benchmarks;

/// <summary>
/// Lab harness for overlayd's idle footprint: one real overlayd on node n watching N point-to-point WireGuard
/// interfaces (one wireguard-go per interface, as the render produces them: one peer each) whose far ends are
/// live peers on one hub wireguard-go in namespace h (N peers on one device), keepalive 25 s both ways, plus two
/// VIPs gated on BFD (bfdd on both sides) and advertised over eBGP to the hub; FRR zebra/staticd/bfdd/bgpd run.
/// For each daemon configuration in turn (0 interfaces, 2 interfaces, N interfaces; the same lab), overlayd
/// is started, left to settle, then sampled every window/samples: VmRSS and RssAnon from /proc/PID/status and
/// utime+stime from /proc/PID/stat; CPU % of one core per sample interval. Prints every sample and the medians.
/// Usage (root): <c>overlay-benchmarks lab-idle [peers=200] [seconds=60] [samples=6] [interface counts=0,2,peers]</c>.
/// </summary>
public static class LabIdleFootprint
{
    private const int HubPort = 51820;
    // Below the ephemeral range: bfdd takes source ports from 49152-65535, the kernel from 32768-60999.
    private const int FirstLocalPort = 20000;
    private const int Asn = 65011;
    private const int HubAsn = 65000;
    /// <summary>Code that runs once a second reaches its final JIT tier only after tens of calls: settle past that.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Keepalive = TimeSpan.FromSeconds(25);

    private sealed record Tunnel(int Index, string Interface, int ListenPort, LabInterfaceAddress Local, LabInterfaceAddress Hub, WireGuardPrivateKey Key)
    {
        public WireGuardKey PublicKey { get; } = WireGuardKeys.PublicKeyOf(Key);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int peers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var window = TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60);
        int samples = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 6;
        var counts = args.Length > 3 ? args[3].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList() : [0, 2, peers];
        if (peers < 2 || peers > 999) throw new ArgumentOutOfRangeException(nameof(args), peers, "peers: 2..999 (interface names carry a 3-digit index)");
        if (LabPreflight.MissingRequirements() is { } why)
        {
            Console.Error.WriteLine("lab-idle: cannot run: " + why);
            return 2;
        }
        // wireguard-go watches its UAPI socket with one inotify instance per device; the default limit (128 per user) stops at ~100 devices.
        int inotify = int.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_user_instances").Trim(), CultureInfo.InvariantCulture);
        if (inotify < peers + 200)
        {
            Console.Error.WriteLine($"lab-idle: fs.inotify.max_user_instances is {inotify}; {peers + 1} wireguard-go need more: sysctl -w fs.inotify.max_user_instances={Math.Max(1024, peers + 200)}");
            return 2;
        }
        string dll = OverlaydBinary.Require();
        // OVERLAYD_BASELINE_DLL: another build of overlayd (say, main's) measured in the same lab, interleaved with this one.
        string? baseline = Environment.GetEnvironmentVariable("OVERLAYD_BASELINE_DLL") is { Length: > 0 } b ? Path.GetFullPath(b) : null;
        if (baseline is not null && !File.Exists(baseline))
        {
            Console.Error.WriteLine($"lab-idle: OVERLAYD_BASELINE_DLL={baseline} does not exist");
            return 2;
        }
        var log = new LineLogger(Console.Error.WriteLine, Microsoft.Extensions.Logging.LogLevel.Warning);

        var topo = new LabTopology();
        string run = topo.RunId;
        var n = topo.AddNode("n");
        var h = topo.AddNode("h");
        var link = topo.AddLink(n, "192.0.2.1/30", h, "192.0.2.2/30");
        string hubInterface = LabNames.Interface(run, 'w', 0, 'b');
        var hubKey = WireGuardPrivateKey.Generate();
        var tunnels = Enumerable.Range(0, peers).Select(i => new Tunnel(i, LabNames.Interface(run, 'w', i + 1, 'a'), FirstLocalPort + i,
            new LabInterfaceAddress(TunnelAddress(i, 0), 31), new LabInterfaceAddress(TunnelAddress(i, 1), 31), WireGuardPrivateKey.Generate())).ToList();
        var vipTunnels = tunnels.Take(2).ToList();

        n.WithFrr(FrrDaemon.Zebra, "hostname n\n");
        n.WithFrr(FrrDaemon.Staticd, "");
        n.WithFrr(FrrDaemon.Bfdd, "bfd\n" + string.Concat(vipTunnels.Select(t => BfdPeer(t.Hub.Address, t.Local.Address, t.Interface))) + "!\n");
        n.WithFrr(FrrDaemon.Bgpd, LabRecipes.VipSpeakerBgp("192.0.2.1", Asn, "192.0.2.2", HubAsn));
        h.WithFrr(FrrDaemon.Zebra, "hostname h\n");
        h.WithFrr(FrrDaemon.Bfdd, "bfd\n" + string.Concat(vipTunnels.Select(t => BfdPeer(t.Local.Address, t.Hub.Address, hubInterface))) + "!\n");
        h.WithFrr(FrrDaemon.Bgpd, LabRecipes.UpstreamBgp("192.0.2.2", HubAsn, "192.0.2.1", Asn));

        var clock = Stopwatch.StartNew();
        await using var lab = await RunningLab.StartAsync(topo, log);
        using var wg = WireGuardClient.CreateUserspace();

        // The hub: one device, one peer per tunnel (its /32 as AllowedIPs), every tunnel's /31 on its interface.
        await StartWireGuardAsync(lab, h, hubInterface);
        await wg.ConfigureDeviceAsync(hubInterface, new WireGuardDeviceConfig
        {
            PrivateKey = hubKey,
            ListenPort = HubPort,
            Peers = [.. tunnels.Select(t => new WireGuardPeerConfig(t.PublicKey)
            {
                Endpoint = new IPEndPoint(link.AddressOf(n), t.ListenPort),
                PersistentKeepalive = Keepalive,
                AllowedIPs = [IpPrefix.Host(t.Local.Address)],
            })],
        });
        await IpBatchAsync(lab, h, tunnels.Select(t => $"addr add {t.Hub} dev {hubInterface}").Append($"link set {hubInterface} up"));

        // Node n: one wireguard-go per tunnel, as overlayctl render lays them out.
        foreach (var t in tunnels) await StartWireGuardAsync(lab, n, t.Interface);
        var hubPublic = WireGuardKeys.PublicKeyOf(hubKey);
        foreach (var t in tunnels)
            await wg.ConfigureDeviceAsync(t.Interface, new WireGuardDeviceConfig
            {
                PrivateKey = t.Key,
                ListenPort = t.ListenPort,
                Peers = [new WireGuardPeerConfig(hubPublic)
                {
                    Endpoint = new IPEndPoint(link.AddressOf(h), HubPort),
                    PersistentKeepalive = Keepalive,
                    AllowedIPs = [IpPrefix.Host(t.Hub.Address)],
                }],
            });
        await IpBatchAsync(lab, n, tunnels.SelectMany(t => new[] { $"addr add {t.Local} dev {t.Interface}", $"link set {t.Interface} up" }));
        await Poll.UntilAsync($"all {peers} tunnels handshake", async c =>
        {
            var hub = await wg.DeviceAsync(hubInterface, c);
            return hub.Peers.Count(p => p.LastHandshake is not null) == peers;
        }, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(500));
        Console.WriteLine($"lab {run}: {peers} tunnels up and handshaken in {clock.Elapsed.TotalSeconds:0} s; overlayd {dll}" + (baseline is null ? "" : $", baseline {baseline}"));

        // The baselines in the same lab: the daemon with nothing to watch, and with only the two VIPs' interfaces.
        var configs = counts.Select(c => c == 0
            ? ("0 interfaces, no VIP", (IReadOnlyList<Tunnel>)[], false)
            : ($"{c} interfaces, 2 VIPs", (IReadOnlyList<Tunnel>)tunnels.Take(Math.Max(c, 2)).ToList(), true))
            .SelectMany(x => baseline is null
                ? [(x.Item1, x.Item2, x.Item3, dll)]
                : new[] { ("baseline: " + x.Item1, x.Item2, x.Item3, baseline), ("this build: " + x.Item1, x.Item2, x.Item3, dll) })
            .ToList();
        var results = new List<string>();
        foreach (var (label, interfaces, vips, binary) in configs)
        {
            string path = Path.Combine(lab.NodeDirectory(n), $"overlayd-{interfaces.Count}.yaml");
            string socket = Path.Combine(lab.NodeDirectory(n), "overlayd.sock");
            File.WriteAllBytes(path, NodeConfigYaml.WriteUtf8(OverlaydConfig(lab, n, run, socket, hubPublic, interfaces, vips ? vipTunnels : [])));
            File.Delete(socket);
            var spec = OverlaydBinary.Spec(path, binary);
            // OVERLAYD_DOTNET_X=V in this process's environment becomes DOTNET_X=V for overlayd (GC/JIT experiments, perf maps).
            var env = new Dictionary<string, string>(spec.Environment);
            foreach (var (k, v) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => ((string)e.Key, (string?)e.Value ?? "")))
                if (k.StartsWith("OVERLAYD_DOTNET_", StringComparison.Ordinal)) env[k["OVERLAYD_".Length..]] = v;
            // Start to ready: from the process start to the first answer of its API (polled every 10 ms).
            var startToReady = System.Diagnostics.Stopwatch.StartNew();
            var d = lab.StartProcess(n, spec with { Environment = env });
            try
            {
                using var api = new OverlaydApi(socket);
                await Poll.UntilAsync($"overlayd ({label}) answers", async c =>
                {
                    if (d.HasExited) throw new LabProcessExitedException(d, d.OutputPath);
                    try { await api.StatusAsync(c); return true; }
                    catch (HttpRequestException) { return false; }
                }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(10));
                double readyMs = startToReady.Elapsed.TotalMilliseconds;
                if (vips)
                    await Poll.UntilAsync($"hub has both VIPs ({label})", async c =>
                        (await lab.KernelRouteAsync(h, "203.0.113.10/32", c)).Length > 0 && (await lab.KernelRouteAsync(h, "203.0.113.11/32", c)).Length > 0,
                        TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
                await Task.Delay(Settle);
                if (d.HasExited) throw new LabProcessExitedException(d, d.OutputPath);
                int pid = ProcessId(d);
                Console.WriteLine($"[{label}] overlayd pid {pid}, sampling");
                results.Add(Sample(label, pid, window, samples) + $"; API answered {readyMs:0} ms after start");
            }
            finally
            {
                await d.StopAsync(TimeSpan.FromSeconds(10));
            }
        }

        // For scale: what the WireGuard implementation itself holds.
        var wgRss = lab.Processes().Where(p => p.Node == n && p.Name.StartsWith(LabNames.Prefix, StringComparison.Ordinal) && !p.HasExited)
            .Select(p => Status(p.Pid).RssKb / 1024.0).Order().ToList();
        var hubRss = lab.Processes().Where(p => p.Name == hubInterface).Select(p => Status(p.Pid).RssKb / 1024.0).FirstOrDefault();

        Console.WriteLine();
        Console.WriteLine($"overlayd idle footprint ({samples} samples over {window.TotalSeconds:0} s after {Settle.TotalSeconds:0} s settle; median, min-max):");
        foreach (var r in results) Console.WriteLine("  " + r);
        Console.WriteLine($"  wireguard-go on n, per process: VmRSS median {Median(wgRss):0.0} MB ({wgRss[0]:0.0}-{wgRss[^1]:0.0}), all {wgRss.Count}: {wgRss.Sum():0} MB; hub wireguard-go ({peers} peers): {hubRss:0.0} MB");
        Console.WriteLine($"machine: nproc {Environment.ProcessorCount}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}, load {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static IPAddress TunnelAddress(int index, int side) =>
        new([10, 201, (byte)(index * 2 / 256), (byte)(index * 2 % 256 + side)]);

    private static string BfdPeer(IPAddress peer, IPAddress local, string ifname) => $"""
         peer {peer} local-address {local} interface {ifname}
          receive-interval 300
          transmit-interval 300
          detect-multiplier 3
         !

        """;

    private static async Task StartWireGuardAsync(RunningLab lab, LabNode node, string ifname)
    {
        string socket = Path.Combine(LabNames.WireGuardSocketDirectory, ifname + ".sock");
        File.Delete(socket);
        var p = lab.StartProcess(node, new LabProcessSpec(ifname, "/usr/bin/wireguard-go", ["-f", ifname])
        {
            Environment = new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1", ["LOG_LEVEL"] = "error" },
        });
        await Poll.UntilAsync($"wireguard-go {ifname} creates {socket}", () =>
        {
            if (p.HasExited) throw new LabException($"wireguard-go {ifname} exited with {p.ExitCode}: {File.ReadAllText(p.OutputPath).Trim()}");
            return File.Exists(socket);
        }, RunningLab.DefaultReadyTimeout);
    }

    private static async Task IpBatchAsync(RunningLab lab, LabNode node, IEnumerable<string> commands) =>
        (await lab.ExecAsync(node, "ip -b - <<'EOF'\n" + string.Join('\n', commands) + "\nEOF", TimeSpan.FromSeconds(60))).EnsureSuccess();

    /// <summary>overlayd.yaml as render writes it (the one writer, NodeConfigYaml), production timers (1 s evaluation).</summary>
    private static NodeConfig OverlaydConfig(RunningLab lab, LabNode node, string run, string socket, WireGuardKey hubPublic,
        IReadOnlyList<Tunnel> interfaces, IReadOnlyList<Tunnel> vipTunnels) =>
        new(node.Name, null, NodeConfigDefaults.Api with { Socket = socket }, new MetricsConfig(NodeConfigDefaults.MetricsListen),
            NodeConfigDefaults.Frr with { Pathspace = node.FrrPathspace, Grpc = new FrrGrpcConfig(NodeConfigDefaults.FrrGrpcHost, FrrDaemon.Zebra.GrpcPort(), FrrDaemon.Staticd.GrpcPort(), FrrDaemon.Bfdd.GrpcPort()) },
            [.. interfaces.Select(t => new WgInterfaceConfig(t.Interface, "h", hubPublic, t.ListenPort, TimeSpan.FromSeconds(25),
                new TunnelAddress(t.Local.Address, t.Local.PrefixLength), t.Hub.Address, Bfd: vipTunnels.Contains(t), [IpPrefix.Host(t.Hub.Address)]))],
            new Dictionary<string, HealthPolicy> { ["default"] = NodeConfigDefaults.Policy("default") },
            [.. vipTunnels.Select((t, i) => new VipConfig($"vip{i}", IpPrefix.Parse($"203.0.113.{10 + i}/32"), "default", LabNames.Interface(run, 'w', 900 + i, 'l'), [t.Interface]))],
            [],
            new DrainConfig(Path.Combine(lab.NodeDirectory(node), "drain"), TimeSpan.FromSeconds(2)));

    /// <summary>The overlayd process behind a lab process ("ip netns exec NS setsid dotnet …" or the native overlayd execs in place; otherwise its only child).</summary>
    private static int ProcessId(LabProcess p)
    {
        if (File.ReadAllText($"/proc/{p.Pid}/comm").Trim() is "dotnet" or "overlayd") return p.Pid;
        string children = File.ReadAllText($"/proc/{p.Pid}/task/{p.Pid}/children").Trim();
        return int.Parse(children.Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static (long RssKb, long AnonKb, long FileKb, long ShmemKb, int Threads) Status(int pid)
    {
        long rss = 0, anon = 0, file = 0, shmem = 0;
        int threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kb(line);
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kb(line);
            else if (line.StartsWith("RssShmem:", StringComparison.Ordinal)) shmem = Kb(line);
            else if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = int.Parse(line[8..].Trim(), CultureInfo.InvariantCulture);
        }
        return (rss, anon, file, shmem, threads);
        static long Kb(string line) => long.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat, counted after the command name).</summary>
    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
    }

    /// <summary>USER_HZ: 100 on every Linux ABI .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    private static string Sample(string label, int pid, TimeSpan window, int samples)
    {
        var interval = window / samples;
        var rss = new List<double>();
        var anon = new List<double>();
        var cpu = new List<double>();
        long ticks = CpuTicks(pid);
        var sw = Stopwatch.StartNew();
        int threads = 0;
        double file = 0, shmem = 0;
        for (int i = 0; i < samples; i++)
        {
            Thread.Sleep(interval);
            long now = CpuTicks(pid);
            double seconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var s = Status(pid);
            (threads, file, shmem) = (s.Threads, s.FileKb / 1024.0, s.ShmemKb / 1024.0);
            rss.Add(s.RssKb / 1024.0);
            anon.Add(s.AnonKb / 1024.0);
            cpu.Add((now - ticks) / TicksPerSecond / seconds * 100);
            ticks = now;
            Console.WriteLine($"  [{label}] sample {i + 1}: VmRSS {rss[^1]:0.0} MB (RssAnon {anon[^1]:0.0}, RssFile {file:0.0}, RssShmem {shmem:0.0}), CPU {cpu[^1]:0.00} % of a core over {seconds:0.0} s");
        }
        var (r, a, c) = (rss.Order().ToList(), anon.Order().ToList(), cpu.Order().ToList());
        return $"{label,-24} VmRSS {Median(r),5:0.0} MB ({r[0]:0.0}-{r[^1]:0.0}), RssAnon {Median(a),5:0.0} MB, CPU {Median(c),5:0.00} % ({c[0]:0.00}-{c[^1]:0.00}; "
            + string.Join(", ", cpu.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture))) + $"), {threads} threads; last sample RssFile {file:0.0} MB, RssShmem {shmem:0.0} MB";
    }

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
