using System.Diagnostics;
using Overlay.Frr.Northbound;
using Overlay.Lab;

namespace Overlay.Frr.Tests.Live;

[Collection(LiveLabCollection.Name)]
public sealed class LabSelfTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Up_then_down_leaves_no_namespace_process_socket_or_folder_behind()
    {
        LiveLab.SkipUnlessUsable();
        var topo = new LabTopology();
        var a = topo.AddNode("a").WithFrr(FrrDaemon.Staticd, "ip route 198.51.100.0/24 blackhole\n");
        var b = topo.AddNode("b");
        var link = topo.AddLink(a, "192.0.2.1/30", b, "192.0.2.2/30");
        var tunnel = topo.AddTunnel(link, "10.255.0.0/31", "10.255.0.1/31", new TunnelOptions { PersistentKeepalive = TimeSpan.FromSeconds(5) });

        var lab = await RunningLab.StartAsync(topo, LiveLab.Logger(output));
        string[] namespaces = [a.Namespace, b.Namespace];
        string[] sockets = [$"/var/run/wireguard/{tunnel.InterfaceA}.sock", $"/var/run/wireguard/{tunnel.InterfaceB}.sock"];
        string[] folders = [lab.RunDirectory, Path.GetDirectoryName(lab.VtySocketPath(a, FrrDaemon.Zebra))!];
        int[] pids = [.. lab.Processes().Select(p => p.Pid)];
        try
        {
            Assert.Equal(4, pids.Length); // zebra, staticd, two wireguard-go
            Assert.All(namespaces, ns => Assert.True(File.Exists("/var/run/netns/" + ns), ns));
            Assert.All(sockets, s => Assert.True(File.Exists(s), s));
            Assert.All(folders, f => Assert.True(Directory.Exists(f), f));
            Assert.All(pids, p => Assert.True(Directory.Exists($"/proc/{p}"), $"pid {p}"));
            // The FRR pid file names the process the lab tracks: ip netns exec and setsid did not fork.
            Assert.Equal(lab.Daemon(a, FrrDaemon.Zebra).Pid, int.Parse(File.ReadAllText(Path.Combine(folders[1], "zebra.pid")).Trim()));
            Assert.Contains("blackhole 198.51.100.0/24 proto static", (await lab.ExecAsync(a, "ip route")).StdOut);
            Assert.True(await lab.PingAsync(b, tunnel.AddressA.Address));

            // A second lab cannot take over a run id in use (its teardown would remove the first lab).
            var clash = new LabTopology(topo.RunId);
            clash.AddNode("a");
            await Assert.ThrowsAsync<LabException>(() => RunningLab.StartAsync(clash));
            Assert.True(File.Exists("/var/run/netns/" + a.Namespace));

            // A live run is not swept, even by a sweep from the same process.
            var sweep = LabSweeper.Sweep(LiveLab.Logger(output));
            Assert.DoesNotContain(topo.RunId, sweep.RunIds);
            Assert.True(LabSweeper.IsAlive(topo.RunId));
            Assert.True(File.Exists("/var/run/netns/" + a.Namespace));
        }
        finally
        {
            var sw = Stopwatch.StartNew();
            await lab.DisposeAsync();
            output.WriteLine($"teardown {sw.ElapsedMilliseconds} ms, removed: {string.Join(", ", lab.TeardownReport!.Removed)}");
        }

        Assert.True(lab.TeardownReport!.Clean, string.Join("; ", lab.TeardownReport.Failures));
        Assert.All(namespaces, ns => Assert.False(File.Exists("/var/run/netns/" + ns), ns));
        Assert.All(sockets, s => Assert.False(File.Exists(s), s));
        Assert.All(folders, f => Assert.False(Directory.Exists(f), f));
        Assert.All(pids, p => Assert.False(Directory.Exists($"/proc/{p}"), $"pid {p} still exists"));
        Assert.DoesNotContain(topo.RunId, LabSweeper.FindRunIds());
        await lab.DisposeAsync(); // idempotent
    }

    [SkippableFact]
    public async Task Sweep_removes_a_crashed_run_and_spares_it_while_its_owner_lives()
    {
        LiveLab.SkipUnlessUsable(frr: false);
        string runId = LabNames.NewRunId();
        string ns = LabNames.Namespace(runId, "x");
        string wg = LabNames.Interface(runId, 'w', 0, 'a');
        string runDir = LabNames.RunDirectory(runId);
        string frrDir = Path.Combine(LabNames.FrrStateDirectory, ns);
        string socket = Path.Combine(LabNames.WireGuardSocketDirectory, wg + ".sock");

        // What a crashed run leaves: its run directory with an owner, a namespace, a wireguard-go still
        // running in it (with its UAPI socket), a process in the namespace and an FRR pathspace folder.
        using var owner = Process.Start("sleep", "600");
        Directory.CreateDirectory(runDir);
        File.WriteAllText(Path.Combine(runDir, "owner"), $"{owner.Id} {StartTime(owner.Id)}");
        Directory.CreateDirectory(frrDir);
        Exec("ip", "netns", "add", ns);
        var psi = new ProcessStartInfo("ip", ["netns", "exec", ns, "setsid", "wireguard-go", "-f", wg]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1";
        using var wgGo = Process.Start(psi)!;
        using var sleeper = Process.Start("ip", ["netns", "exec", ns, "sleep", "600"]);
        try
        {
            await Poll.UntilAsync("wireguard-go socket", () => File.Exists(socket), TimeSpan.FromSeconds(20));

            var spared = LabSweeper.Sweep(LiveLab.Logger(output));
            Assert.DoesNotContain(runId, spared.RunIds);
            Assert.True(File.Exists("/var/run/netns/" + ns));
            Assert.False(wgGo.HasExited);

            owner.Kill();
            await owner.WaitForExitAsync();
            Assert.False(LabSweeper.IsAlive(runId));

            var report = LabSweeper.Sweep(LiveLab.Logger(output));
            foreach (var r in report.Removed) output.WriteLine("removed " + r);
            Assert.Contains(runId, report.RunIds);
            Assert.True(report.Clean, string.Join("; ", report.Failures));
            Assert.True(wgGo.WaitForExit(10_000), "wireguard-go survived the sweep");
            Assert.True(sleeper.WaitForExit(10_000), "the process in the namespace survived the sweep");
            Assert.False(File.Exists("/var/run/netns/" + ns));
            Assert.False(File.Exists(socket));
            Assert.False(Directory.Exists(frrDir));
            Assert.False(Directory.Exists(runDir));
            Assert.DoesNotContain(runId, LabSweeper.FindRunIds());

            // A second sweep finds nothing of it and does not fail.
            Assert.DoesNotContain(runId, LabSweeper.Sweep().RunIds);
        }
        finally
        {
            foreach (var p in new[] { owner, wgGo, sleeper }) if (!p.HasExited) p.Kill();
            LabSweeper.Sweep();
        }
    }

    [SkippableFact]
    public async Task Daemons_and_wireguard_go_can_be_killed_and_restarted_and_links_taken_down()
    {
        LiveLab.SkipUnlessUsable();
        var topo = new LabTopology();
        var a = topo.AddNode("a").WithFrr(FrrDaemon.Staticd, "ip route 198.51.100.0/24 blackhole\n");
        var b = topo.AddNode("b");
        var link = topo.AddLink(a, "192.0.2.1/30", b, "192.0.2.2/30");
        var tunnel = topo.AddTunnel(link, "10.255.0.0/31", "10.255.0.1/31");
        await using var lab = await RunningLab.StartAsync(topo, LiveLab.Logger(output));

        // SIGTERM ends staticd cleanly; the restarted one reads its config again and answers on vty and gRPC.
        var staticd = lab.Daemon(a, FrrDaemon.Staticd);
        staticd.Signal(LabProcess.SIGTERM);
        Assert.True(await staticd.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var restarted = await lab.RestartAsync(staticd);
        Assert.NotEqual(staticd.Pid, restarted.Pid);
        Assert.Same(restarted, lab.Daemon(a, FrrDaemon.Staticd));
        using (var socket = await lab.ConnectTcpAsync(lab.GrpcEndpoint(a, FrrDaemon.Staticd)))
            Assert.True(socket.Connected);
        Assert.Contains("198.51.100.0/24", (await lab.VtyshAsync(a, FrrDaemon.Staticd, "show running-config")).StdOut);

        // SIGKILL takes wireguard-go's TUN with it; a restart brings interface, keys and peer back.
        var wg = lab.WireGuardProcess(tunnel, b);
        wg.Kill();
        Assert.True(await wg.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        await Poll.UntilAsync("TUN gone", async ct => !(await lab.ExecAsync(b, "ip -br link", ct: ct)).StdOut.Contains(tunnel.InterfaceB), TimeSpan.FromSeconds(10));
        Assert.False(await lab.PingAsync(a, tunnel.AddressB.Address));
        await lab.RestartAsync(wg);
        var back = await lab.WaitForTunnelAsync(tunnel, TimeSpan.FromSeconds(30));
        output.WriteLine($"tunnel answered {back.TotalMilliseconds:0} ms after wireguard-go restarted");

        // A link taken down carries nothing until it is up again.
        await lab.SetLinkStateAsync(link, up: false);
        Assert.False(await lab.PingAsync(a, link.AddressB.Address));
        await lab.SetLinkStateAsync(link, up: true);
        await Poll.UntilAsync("underlay ping after link up", ct => lab.PingAsync(a, link.AddressB.Address, ct), TimeSpan.FromSeconds(30));

        var exec = lab.Exec(a, "ip -o addr show dev " + link.InterfaceA);
        Assert.Contains("192.0.2.1/30", exec.StdOut);
        Assert.Equal(a.Namespace, lab.GrpcEndpoint(a, FrrDaemon.Zebra).Namespace);
        Assert.Equal($"/var/run/frr/{a.Namespace}/zebra.vty", lab.VtySocketPath(a, FrrDaemon.Zebra));
    }

    private static string StartTime(int pid) => File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[19];

    private static void Exec(string file, params string[] args)
    {
        using var p = Process.Start(file, args);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
