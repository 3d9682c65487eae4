using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Overlay.Core.Model;

namespace Overlay.Daemon.Tests.Live;

/// <summary>
/// The real overlayd (the built overlayd.dll under dotnet) inside node A's namespace, against real FRR,
/// wireguard-go and an eBGP upstream U: advertise, withdraw on a dead tunnel peer, re-advertise, the TUN
/// lease guarantee on SIGKILL, and a restart that adopts what is already right.
/// </summary>
[Collection(LiveDaemonCollection.Name)]
public sealed class OverlaydEndToEndTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(10);

    [SkippableFact]
    public async Task Overlayd_advertises_withdraws_on_peer_loss_and_its_VIP_dies_with_the_process()
    {
        string? missing = NodeLab.Missing();
        Skip.If(missing is not null, missing);
        string dll = OverlaydDll();
        var n = new NodeLab();
        var dir = Directory.CreateTempSubdirectory("overlayd-live-");
        await using var lab = await RunningLab.StartAsync(n.Topology, new LineLogger(output.WriteLine));
        try
        {
            await n.WaitConvergedAsync(lab, output);
            string socket = Path.Combine(dir.FullName, "overlayd.sock");
            string configPath = Path.Combine(dir.FullName, "overlayd.yaml");
            string lease = n.LeaseName("v");
            string config = Config(n, lab, socket, lease);
            await File.WriteAllTextAsync(configPath, config);
            output.WriteLine("overlayd.yaml:\n" + config);
            var spec = OverlaydBinary.Spec(configPath, dll);
            using var api = ApiClient(socket);
            Func<CancellationToken, Task<bool>> atU = ct => NodeLab.UpstreamHasVipAsync(lab, n.U, NodeLab.Vip, ct);
            Func<CancellationToken, Task<bool>> goneAtU = async ct => !await atU(ct);
            var timings = new List<string>();

            // 1. Start: the VIP reaches U.
            var sw = Stopwatch.StartNew();
            var daemon = lab.StartProcess(n.A, spec);
            var advertised = await PollAsync("VIP at U after overlayd start", atU, daemon);
            timings.Add($"start -> VIP at U: {advertised.TotalMilliseconds:0} ms (includes dotnet start-up)");
            var status = await StatusAsync(api);
            var vip = status.GetProperty("vips")[0];
            Assert.Equal("advertised", vip.GetProperty("desired").GetString());
            Assert.Equal(vip.GetProperty("desired").GetString(), vip.GetProperty("running").GetString());
            Assert.True(vip.GetProperty("leaseHeld").GetBoolean());
            Assert.Contains($"dev {lease}", (await lab.ExecAsync(n.A, $"ip route show {NodeLab.Vip}")).StdOut);

            // An owned kernel route deleted by someone else is put back on the route event, not at the next periodic pass.
            Func<CancellationToken, Task<bool>> routeBack = async ct => (await lab.ExecAsync(n.A, "ip route show 10.20.0.0/16", ct: ct)).StdOut.Contains("dev " + n.Tunnel.InterfaceA);
            await PollAsync("owned route installed", routeBack, daemon);
            var repairs = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                await lab.ExecAsync(n.A, "ip route del 10.20.0.0/16");
                sw.Restart();
                repairs.Add((await PollAsync("owned route repaired", routeBack, daemon)).TotalMilliseconds);
            }
            timings.Add($"foreign delete of an owned kernel route -> repaired: {string.Join(", ", repairs.Select(r => r.ToString("0")))} ms (from 'ip route del' returning, polled with ip every ~10 ms)");

            // 2. The tunnel peer dies (SIGKILL wireguard-go on P): BFD goes down, overlayd withdraws.
            var wgP = lab.WireGuardProcess(n.Tunnel, n.P);
            sw.Restart();
            wgP.Kill();
            var withdrawn = await PollAsync("VIP withdrawn at U after the peer died", goneAtU, daemon);
            timings.Add($"peer SIGKILL -> VIP gone at U: {withdrawn.TotalMilliseconds:0} ms (BFD 3x100 ms + fall 2 x fastInterval + commit + BGP)");
            status = await StatusAsync(api);
            vip = status.GetProperty("vips")[0];
            Assert.Equal("withdrawn", vip.GetProperty("desired").GetString());
            Assert.Equal("withdrawn", vip.GetProperty("running").GetString());

            // 3. Restore the peer: re-advertised after rise.
            sw.Restart();
            await lab.RestartAsync(wgP);
            var restarted = sw.Elapsed;
            var readvertised = await PollAsync("VIP re-advertised at U", atU, daemon);
            timings.Add($"peer restarted in {restarted.TotalMilliseconds:0} ms; then VIP back at U: {readvertised.TotalMilliseconds:0} ms (handshake + BFD up + rise 3 x interval + hold-down)");

            // 4. kill -9 overlayd: the kernel deletes the TUN lease, zebra drops the static route, BGP withdraws.
            sw.Restart();
            daemon.Kill();
            var lost = await PollAsync("VIP gone at U after overlayd SIGKILL", goneAtU, null);
            timings.Add($"overlayd SIGKILL -> VIP gone at U: {lost.TotalMilliseconds:0} ms (TUN-lease guarantee)");
            Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            Assert.DoesNotContain(lease, (await lab.ExecAsync(n.A, "ip -o link show")).StdOut);

            // 5. Start again: the still-configured route is adopted (no write to FRR), the lease re-activates it.
            var uptimeBefore = await UpstreamSessionUptimeAsync(lab, n);
            sw.Restart();
            daemon = lab.StartProcess(n.A, spec);
            var back = await PollAsync("VIP at U after overlayd restart", atU, daemon);
            timings.Add($"restart -> VIP at U: {back.TotalMilliseconds:0} ms (includes dotnet start-up)");
            var events = await GetJsonAsync(api, "/v1/events");
            var writes = events.GetProperty("events").EnumerateArray()
                .Where(e => e.GetProperty("source").GetString() == "Writer" && e.GetProperty("subject").GetString() == "vip:web").ToList();
            Assert.Empty(writes); // adopted: nothing was withdrawn and re-added
            status = await StatusAsync(api);
            vip = status.GetProperty("vips")[0];
            Assert.Equal("advertised", vip.GetProperty("desired").GetString());
            Assert.Equal("advertised", vip.GetProperty("running").GetString());
            var uptimeAfter = await UpstreamSessionUptimeAsync(lab, n);
            // vty reports uptime in whole seconds: a reset starts it again from 0 (smaller); an untouched session may
            // still read the same second when the restart is quick.
            Assert.True(uptimeAfter >= uptimeBefore, $"the A-U BGP session must not reset (uptime {uptimeBefore} then {uptimeAfter})");

            // 6. SIGTERM drains: withdraw through the writer, wait until bgpd no longer sends our path upstream, exit 0.
            sw.Restart();
            daemon.Signal(LabProcess.SIGTERM);
            var drained = await PollAsync("VIP gone at U after SIGTERM", goneAtU, null);
            Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            timings.Add($"overlayd SIGTERM -> VIP gone at U: {drained.TotalMilliseconds:0} ms; process exited after {sw.Elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(0, daemon.ExitCode);
            Assert.Contains("upstream lost all VIP paths", File.ReadAllText(daemon.OutputPath));
            Assert.DoesNotContain(lease, (await lab.ExecAsync(n.A, "ip -o link show")).StdOut);
            Assert.DoesNotContain(await lab.Router(n.A).Routing.ListVipRoutesAsync(), r => r.Prefix == NodeLab.Vip);

            foreach (var t in timings) output.WriteLine(t);
        }
        catch
        {
            foreach (var p in lab.Processes().Where(p => p.Name == "overlayd"))
                output.WriteLine($"{p} output:\n" + Tail(p.OutputPath));
            throw;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    internal static async Task<TimeSpan> PollAsync(string what, Func<CancellationToken, Task<bool>> probe, LabProcess? daemon)
    {
        // A daemon that dies while awaited fails the poll at once with its exit code.
        return await Poll.UntilAsync(what, async ct =>
        {
            if (daemon is { HasExited: true }) throw new InvalidOperationException($"overlayd exited with {daemon.ExitCode} while waiting for: {what}");
            return await probe(ct);
        }, NodeLab.Converge, Fast);
    }

    /// <summary>overlayd.yaml for node A (VIP "web" on <paramref name="lease"/>), as the one writer writes it.</summary>
    internal static string Config(NodeLab n, RunningLab lab, string socket, string lease) => NodeConfigYaml.Write(ConfigOf(n, lab, socket, lease));

    /// <summary>Node A's config: its tunnel to P (BFD required), the "fast" policy, VIP "web" on <paramref name="lease"/>, one owned route, metrics on a free loopback port.</summary>
    internal static NodeConfig ConfigOf(NodeLab n, RunningLab lab, string socket, string lease)
    {
        int metricsPort;
        using (var s = lab.CreateSocket(n.A, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            s.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            metricsPort = ((System.Net.IPEndPoint)s.LocalEndPoint!).Port;
        }
        var fast = NodeConfigDefaults.Policy("fast") with
        {
            Interval = TimeSpan.FromMilliseconds(500), FastInterval = TimeSpan.FromMilliseconds(100), Rise = 3, Fall = 2,
            HoldDown = new HoldDown(TimeSpan.Zero, TimeSpan.FromSeconds(1)),
        };
        var tunnel = new WgInterfaceConfig(n.Tunnel.InterfaceA, "p", WireGuardKey.Parse(n.Tunnel.PublicKeyB!), n.Tunnel.Options.ListenPortA, TimeSpan.FromSeconds(1),
            new TunnelAddress(System.Net.IPAddress.Parse("10.255.0.0"), 31), System.Net.IPAddress.Parse("10.255.0.1"), Bfd: true, [IpPrefix.Parse("0.0.0.0/0")]);
        return new NodeConfig("a", null, NodeConfigDefaults.Api with { Socket = socket }, new MetricsConfig(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, metricsPort)),
            NodeConfigDefaults.Frr with { Pathspace = n.A.FrrPathspace },
            [tunnel], new Dictionary<string, HealthPolicy> { ["fast"] = fast },
            [new VipConfig("web", NodeLab.Vip, "fast", lease, [n.Tunnel.InterfaceA])],
            [new OwnedRoute(IpPrefix.Parse("10.20.0.0/16"), n.Tunnel.InterfaceA, 100)],
            NodeConfigDefaults.Drain with { ShutdownTimeout = TimeSpan.FromSeconds(3) });
    }

    private static async Task<TimeSpan> UpstreamSessionUptimeAsync(RunningLab lab, NodeLab n) =>
        (await lab.Router(n.U).Show.GetBgpSummaryAsync()).AllPeers.First(p => p.Neighbor == "192.0.2.1").Uptime ?? TimeSpan.Zero;

    internal static HttpClient ApiClient(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri("http://overlayd"), Timeout = TimeSpan.FromSeconds(10) };

    internal static Task<JsonElement> StatusAsync(HttpClient api) => GetJsonAsync(api, "/v1/status");

    internal static async Task<JsonElement> GetJsonAsync(HttpClient api, string path)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync(path));
        return doc.RootElement.Clone();
    }

    internal static string Tail(string path) =>
        File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(60)) : "(no output file)";

    internal static string OverlaydDll()
    {
        var dll = OverlaydBinary.Find();
        Skip.If(dll is null, $"overlayd.dll not found: build src/Overlay.Daemon or set {OverlaydBinary.EnvironmentVariable}");
        return dll!;
    }
}
