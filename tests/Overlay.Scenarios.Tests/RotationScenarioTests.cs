using System.Diagnostics;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Lab;
using Overlay.Lab.Rotation;
using Xunit;
using Xunit.Abstractions;

namespace Overlay.Scenarios.Tests;

/// <summary>
/// The operator's story: a spoke's WireGuard key must be replaced while a client behind the spoke talks to the hub at
/// 100 packets per second. The rotation is executed by <see cref="RotationExecutor"/> against real wireguard-go and FRR
/// in namespaces; every request of the UDP echo carries a sequence number, so each lost packet is counted.
/// </summary>
public sealed class RotationScenarioTests(ITestOutputHelper output)
{
    private const int PacketsPerSecond = 100;

    [SkippableFact]
    public async Task Make_before_break_rotation_of_a_spoke_loses_no_packets()
    {
        var (plan, result, traffic, lab) = await RotateAsync(RotationStrategy.MakeBeforeBreak);
        await using var _ = lab;

        Assert.True(result.Outcome == RotationOutcome.Completed, result.Failure);
        Assert.Equal([1, 2, 3, 4], result.PhasesCompleted);
        Assert.Equal([5], result.PhasesLeftToOperator);
        // The spoke now reaches the hub over the parallel interface, whose peer holds the new key; the old one is gone.
        var tunnel = Assert.Single(plan.Tunnels);
        Assert.Contains($"dev {tunnel.NewInterface}", await lab.Lab.KernelRouteAsync(lab.Spoke, $"{RotationLab.HubOverlay}/32"));
        Assert.False((await lab.Lab.ExecAsync(lab.Spoke, $"ip link show {tunnel.OldInterface}")).Succeeded);
        string hubPeers = (await lab.Lab.ExecAsync(lab.Hub, $"wg show {tunnel.PeerNewInterface} peers")).EnsureSuccess().StdOut.Trim();
        Assert.Equal(plan.NewPublicKey, hubPeers);
        Assert.True(traffic.Sent > 0);
        Assert.True(traffic.Lost == 0, $"make-before-break lost {traffic.Lost} packet(s), sent at {string.Join(", ", traffic.LostAt.Select(t => $"{t.TotalMilliseconds:0} ms"))}");
    }

    /// <param name="stepLatencyMs">
    /// Added before every change, as when each step is a command on another machine (an SSH round trip): 0 is the
    /// executor on one host, the best case for in-place.
    /// </param>
    [SkippableTheory]
    [InlineData(0)]
    [InlineData(500)]
    public async Task In_place_rotation_of_a_spoke_is_measured_for_comparison(int stepLatencyMs)
    {
        var latency = TimeSpan.FromMilliseconds(stepLatencyMs);
        var (plan, result, traffic, lab) = await RotateAsync(RotationStrategy.InPlace,
            wrapAgent: stepLatencyMs == 0 ? null : agent => new RemoteSteps(agent, latency));
        await using var _ = lab;

        Assert.True(result.Outcome == RotationOutcome.Completed, result.Failure);
        Assert.Equal([1, 2, 3, 4], result.PhasesCompleted);
        // Same interface, one peer entry left: the new key.
        string iface = plan.Phases[0].Changes.Single().Target;
        string hubPeers = (await lab.Lab.ExecAsync(lab.Hub, $"wg show {iface} peers")).EnsureSuccess().StdOut.Trim();
        Assert.Equal(plan.NewPublicKey, hubPeers);
        Assert.True(traffic.Sent > 0);
        // No bound on the loss: this test records it (docs/rotation.md explains the window); it must converge afterwards.
    }

    [SkippableFact]
    public async Task A_rotation_whose_routes_never_move_is_rolled_back_on_the_real_nodes_without_loss()
    {
        // The probe is made not to see the routes move in phase 3 (it sees again once the rollback starts, when the
        // executor waits for the routes to move back); the executor must undo phases 3, 2 and 1 for real.
        BlindToRoutes? blind = null;
        var (plan, result, traffic, lab) = await RotateAsync(RotationStrategy.MakeBeforeBreak,
            probe => blind = new BlindToRoutes(probe), TimeSpan.FromSeconds(5),
            onEvent: e => { if (e.Kind == RotationEventKind.RollbackStarted) blind!.Blind = false; });
        await using var _ = lab;

        Assert.Equal(RotationOutcome.RolledBack, result.Outcome);
        Assert.Equal([1, 2], result.PhasesCompleted);
        Assert.StartsWith("phase 3: 2 verification(s) not met within 5 s", result.Failure);
        Assert.Equal(new[] { 3, 2, 1 }, result.Events.Where(e => e.Kind == RotationEventKind.RollbackStarted).Select(e => e.Phase));
        var tunnel = Assert.Single(plan.Tunnels);
        // Back where it started: the old tunnel carries the traffic, the parallel interfaces and their FRR blocks are gone.
        Assert.Contains($"dev {tunnel.OldInterface}", await lab.Lab.KernelRouteAsync(lab.Spoke, $"{RotationLab.HubOverlay}/32"));
        Assert.False((await lab.Lab.ExecAsync(lab.Spoke, $"ip link show {tunnel.NewInterface}")).Succeeded);
        Assert.False((await lab.Lab.ExecAsync(lab.Hub, $"ip link show {tunnel.PeerNewInterface}")).Succeeded);
        string hubConfig = (await lab.Lab.VtyshAsync(lab.Hub, "show running-config")).EnsureSuccess().StdOut;
        Assert.DoesNotContain($"interface {tunnel.PeerNewInterface}", hubConfig);
        Assert.True(traffic.Lost == 0, $"rollback lost {traffic.Lost} packet(s)");
    }

    /// <summary>
    /// The operator's command, as a process: 'overlayctl rotate apply' reaches the lab's nodes with
    /// '--via ip netns exec NS-{node}' (the same host agent and probe that would use ssh), while the client's echo runs.
    /// </summary>
    [SkippableFact]
    public async Task Overlayctl_rotate_apply_rotates_a_spoke_through_the_node_shell_without_loss()
    {
        Skip.If(!File.Exists(OverlayctlDll), $"overlayctl not built next to the tests ({OverlayctlDll})");
        var lab = await StartLabAsync();
        await using var _ = lab;
        var newKey = await lab.GenerateNewKeyAsync(RotationLab.SpokeName);
        var plan = RotationPlanner.Plan(lab.Inventory, RotationLab.SpokeName, new RotationOptions { NewPublicKey = newKey }).MakeBeforeBreak;
        string inventory = lab.WriteInventory();

        await using var traffic = lab.StartTraffic(PacketsPerSecond);
        await Poll.UntilAsync("one second of answered echoes before the rotation", () => traffic.AllAnswered(0, PacketsPerSecond), TimeSpan.FromSeconds(30));
        int startSeq = traffic.Sent;

        var cli = await RunCliAsync(["rotate", "apply", inventory, RotationLab.SpokeName, "--new-public-key", newKey.ToBase64(), .. LabTransport(lab),
            "--phase-timeout", "60s"], TimeSpan.FromMinutes(5));
        output.WriteLine($"overlayctl rotate apply: exit {cli.Code} in {cli.Took.TotalMilliseconds:0} ms\n{cli.StdOut}{cli.StdErr}");
        int after = traffic.Sent;
        var counted = await FinishTrafficAsync(lab, traffic, after);
        output.WriteLine($"ROTATION-RESULT strategy=MakeBeforeBreak+overlayctl-process exit={cli.Code} executed_ms={(long)cli.Took.TotalMilliseconds} sent={counted.Traffic.Sent} "
            + $"lost={counted.Traffic.Lost} converged_after_ms={(long)counted.Converged.TotalMilliseconds} (process start and pre-flight included)");
        if (counted.Traffic.Lost > 0)
            output.WriteLine($"lost packets were sent at (ms from the rotation's start): {string.Join(", ", counted.Traffic.LostAt.Select(t => (long)t.TotalMilliseconds - startSeq * 1000 / PacketsPerSecond))}");

        Assert.True(cli.Code == 0, $"overlayctl exited {cli.Code}: {cli.StdErr}");
        Assert.Contains("pre-flight  [spoke] ok", cli.StdOut);
        Assert.Contains("pre-flight  [hub] ok", cli.StdOut);
        Assert.Contains("phase 4  PhaseCompleted", cli.StdOut);
        Assert.Contains("phase 5  PhaseLeftToOperator", cli.StdOut);
        var tunnel = Assert.Single(plan.Tunnels);
        Assert.Contains($"dev {tunnel.NewInterface}", await lab.Lab.KernelRouteAsync(lab.Spoke, $"{RotationLab.HubOverlay}/32"));
        Assert.False((await lab.Lab.ExecAsync(lab.Spoke, $"ip link show {tunnel.OldInterface}")).Succeeded);
        string hubPeers = (await lab.Lab.ExecAsync(lab.Hub, $"wg show {tunnel.PeerNewInterface} peers")).EnsureSuccess().StdOut.Trim();
        Assert.Equal(plan.NewPublicKey, hubPeers);
        // The parallel interface files were written 0600 by the agent, in the folder --wg-dir named.
        string file = Path.Combine(lab.Lab.RunDirectory, RotationLab.SpokeName, "wireguard", tunnel.NewInterface + ".conf");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        // The CLI never shows a private key: the only key material it prints is public.
        string privateKey = File.ReadAllText(lab.Inventory.GetNode(RotationLab.SpokeName).KeyFile + ".new").Trim();
        Assert.DoesNotContain(privateKey, cli.StdOut + cli.StdErr);
        Assert.True(counted.Traffic.Sent > 0);
        Assert.True(counted.Traffic.Lost == 0, $"overlayctl rotate apply lost {counted.Traffic.Lost} packet(s)");
    }

    /// <summary>
    /// Pre-flight refusals change nothing: first a new key file that does not match --new-public-key (both nodes reached),
    /// then the hub unreachable: overlayctl runs inside the spoke's namespace with '--local-node spoke' (sh) and reaches the
    /// hub over the real ssh, pointed at a closed port of the spoke's own loopback.
    /// </summary>
    [SkippableFact]
    public async Task Overlayctl_rotate_apply_refuses_before_any_change_when_a_node_is_unreachable_or_the_key_does_not_match()
    {
        Skip.If(!File.Exists(OverlayctlDll), $"overlayctl not built next to the tests ({OverlayctlDll})");
        var lab = await StartLabAsync();
        await using var _ = lab;
        var newKey = await lab.GenerateNewKeyAsync(RotationLab.SpokeName);
        var plan = RotationPlanner.Plan(lab.Inventory, RotationLab.SpokeName, new RotationOptions { NewPublicKey = newKey }).MakeBeforeBreak;
        string inventory = lab.WriteInventory();
        string before = await StateAsync(lab);
        output.WriteLine($"route before: {await lab.Lab.KernelRouteAsync(lab.Spoke, $"{RotationLab.HubOverlay}/32")}");

        const string OtherKey = "uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=";
        var mismatch = await RunCliAsync(["rotate", "apply", inventory, RotationLab.SpokeName, "--new-public-key", OtherKey, .. LabTransport(lab)], TimeSpan.FromMinutes(2));
        output.WriteLine($"wrong key: exit {mismatch.Code}\n{mismatch.StdOut}{mismatch.StdErr}");
        Assert.Equal(3, mismatch.Code);
        Assert.Contains("[spoke] NOT READY", mismatch.StdOut);
        Assert.Contains("does not hold the private key of --new-public-key", mismatch.StdOut);
        Assert.Contains("pre-flight  [hub] ok", mismatch.StdOut);
        Assert.Contains("refused: nothing was changed", mismatch.StdErr);

        Skip.If(!File.Exists("/usr/bin/ssh"), "ssh (openssh-client) is not installed: the unreachable-node half needs the real ssh");
        var unreachable = await RunCliAsync(["rotate", "apply", inventory, RotationLab.SpokeName, "--new-public-key", newKey.ToBase64(),
            "--local-node", RotationLab.SpokeName, "--ssh-host", $"{RotationLab.HubName}=127.0.0.1", "--ssh-option", "Port=1",
            "--vtysh", lab.HostOptions.Vtysh, "--wg-dir", lab.HostOptions.WireGuardDirectory], TimeSpan.FromMinutes(2), inNamespace: lab.Spoke.Namespace);
        output.WriteLine($"hub unreachable: exit {unreachable.Code}\n{unreachable.StdOut}{unreachable.StdErr}");
        Assert.Equal(3, unreachable.Code);
        Assert.Contains("pre-flight  [hub] UNREACHABLE (ssh 127.0.0.1)", unreachable.StdOut);
        Assert.Contains("pre-flight  [spoke] ok (this machine)", unreachable.StdOut);
        Assert.Contains("unreachable: hub", unreachable.StdErr);

        output.WriteLine($"route after: {await lab.Lab.KernelRouteAsync(lab.Spoke, $"{RotationLab.HubOverlay}/32")}");
        Assert.Equal(before, await StateAsync(lab));
        var tunnel = Assert.Single(plan.Tunnels);
        // The route is routing state, not configuration: on this loaded 2-core machine a BFD session (300 ms detect)
        // can flap while a second dotnet process starts; it must still (or again) leave via the old tunnel.
        await Poll.UntilAsync("the spoke's route to the hub leaves via the old tunnel", async c =>
            (await lab.Lab.KernelRouteAsync(lab.Spoke, $"{RotationLab.HubOverlay}/32", c)).Contains($"dev {tunnel.OldInterface}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(tunnel.NewInterface, before);
        Assert.DoesNotContain(tunnel.PeerNewInterface, before);
    }

    /// <summary>Everything a rotation would change: links, FRR interfaces and wg-quick files on both nodes.</summary>
    private static async Task<string> StateAsync(RotationLab lab)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var node in new[] { lab.Spoke, lab.Hub })
        {
            sb.AppendLine((await lab.Lab.ExecAsync(node, "ip -br link | cut -d' ' -f1 | sort")).EnsureSuccess().StdOut);
            sb.AppendLine(string.Join("\n", (await lab.Lab.VtyshAsync(node, "show running-config")).EnsureSuccess().StdOut.Split('\n').Where(l => l.StartsWith("interface ", StringComparison.Ordinal))));
            sb.AppendLine(string.Join("\n", Directory.GetFiles(Path.Combine(lab.Lab.RunDirectory, node.Name, "wireguard")).Select(Path.GetFileName).Order()));
        }
        return sb.ToString();
    }

    /// <summary>The lab's node shell for overlayctl: its namespaces, FRR pathspaces and per-node wg-quick folders.</summary>
    private static string[] LabTransport(RotationLab lab) =>
        ["--via", lab.Via, "--vtysh", lab.HostOptions.Vtysh, "--wg-dir", lab.HostOptions.WireGuardDirectory];

    // The build the lab finds: overlayctl.dll beside the tests, or $OVERLAYCTL_DLL (the NativeAOT overlayctl in CI).
    private static string OverlayctlDll => Overlay.Lab.Scenarios.Overlayctl.Find() ?? Path.Combine(AppContext.BaseDirectory, "overlayctl.dll");

    private static async Task<(int Code, string StdOut, string StdErr, TimeSpan Took)> RunCliAsync(string[] args, TimeSpan timeout, string? inNamespace = null)
    {
        var (file, arguments) = Overlay.Lab.Scenarios.BuiltDll.Command(OverlayctlDll, args);
        var psi = new ProcessStartInfo(inNamespace is null ? file : "ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (inNamespace is not null) foreach (var a in new[] { "netns", "exec", inNamespace, file }) psi.ArgumentList.Add(a);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"overlayctl {string.Join(' ', args)} did not finish within {timeout}: {await so}{await se}");
        }
        return (p.ExitCode, await so, await se, sw.Elapsed);
    }

    private async Task<RotationLab> StartLabAsync()
    {
        string? missing = LabPreflight.MissingRequirements();
        Skip.If(missing is not null, missing);
        var setup = Stopwatch.StartNew();
        var lab = await RotationLab.StartAsync();
        output.WriteLine($"lab {lab.Lab.RunId} up in {setup.ElapsedMilliseconds} ms");
        return lab;
    }

    /// <summary>Waits for two clean seconds of echoes after <paramref name="after"/> (printing state if they never come), then counts.</summary>
    private async Task<(TrafficResult Traffic, TimeSpan Converged)> FinishTrafficAsync(RotationLab lab, UdpEchoTraffic traffic, int after)
    {
        TimeSpan converged;
        try
        {
            // A sliding window: the last two seconds of requests, except the last 200 ms still in flight, all answered.
            converged = await Poll.UntilAsync("two seconds of answered echoes after the rotation", () =>
            {
                int end = traffic.Sent - PacketsPerSecond / 5;
                return end - 2 * PacketsPerSecond >= after && traffic.AllAnswered(end - 2 * PacketsPerSecond, end);
            }, TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            output.WriteLine($"traffic: {traffic.Sent} sent, {traffic.Answered} answered");
            foreach (var (node, command) in new[] { (lab.Spoke, "ip route; ip -br link"), (lab.Hub, "ip route; ip -br link"), (lab.Client, "ip route") })
                output.WriteLine($"--- {node.Name}: {command}\n{(await lab.Lab.ExecAsync(node, command)).StdOut}");
            foreach (var node in new[] { lab.Spoke, lab.Hub })
                output.WriteLine($"--- {node.Name}: ospf/bfd\n{(await lab.Lab.VtyshAsync(node, "show ip ospf neighbor")).StdOut}{(await lab.Lab.VtyshAsync(node, "show bfd peers brief")).StdOut}");
            throw;
        }
        return (await traffic.StopAsync(), converged);
    }

    /// <summary>Each change starts <paramref name="latency"/> later, like a command sent to another machine.</summary>
    private sealed class RemoteSteps(IRotationNodeAgent inner, TimeSpan latency) : IRotationNodeAgent
    {
        private async Task Later(Func<Task> step)
        {
            await Task.Delay(latency);   // modelled transport latency, not a wait for state
            await step();
        }

        public Task WriteInterfaceAsync(string node, string iface, IReadOnlyList<string> wgQuickFile, CancellationToken ct) => Later(() => inner.WriteInterfaceAsync(node, iface, wgQuickFile, ct));
        public Task BringUpAsync(string node, string iface, CancellationToken ct) => Later(() => inner.BringUpAsync(node, iface, ct));
        public Task TearDownAsync(string node, string iface, CancellationToken ct) => Later(() => inner.TearDownAsync(node, iface, ct));
        public Task DeleteInterfaceAsync(string node, string iface, CancellationToken ct) => Later(() => inner.DeleteInterfaceAsync(node, iface, ct));
        public Task ApplyFrrAsync(string node, IReadOnlyList<string> lines, CancellationToken ct) => Later(() => inner.ApplyFrrAsync(node, lines, ct));
        public Task RunCommandsAsync(string node, IReadOnlyList<string> commands, CancellationToken ct) => Later(() => inner.RunCommandsAsync(node, commands, ct));
    }

    private sealed class BlindToRoutes(IRotationProbe inner) : IRotationProbe
    {
        public volatile bool Blind = true;

        public Task<ProbeResult> CheckAsync(Verification v, DateTimeOffset phaseStarted, CancellationToken ct) =>
            Blind && v.Kind == VerificationKind.RouteVia ? Task.FromResult(ProbeResult.No("hidden by the test")) : inner.CheckAsync(v, phaseStarted, ct);
    }

    private async Task<(RotationPlan Plan, RotationExecutionResult Result, TrafficResult Traffic, RotationLab Lab)> RotateAsync(RotationStrategy strategy,
        Func<IRotationProbe, IRotationProbe>? wrapProbe = null, TimeSpan? phaseTimeout = null, Func<IRotationNodeAgent, IRotationNodeAgent>? wrapAgent = null, Action<RotationEvent>? onEvent = null)
    {
        var lab = await StartLabAsync();
        try
        {
            var newKey = await lab.GenerateNewKeyAsync(RotationLab.SpokeName);
            var plans = RotationPlanner.Plan(lab.Inventory, RotationLab.SpokeName, new RotationOptions { NewPublicKey = newKey });
            var plan = strategy == RotationStrategy.MakeBeforeBreak ? plans.MakeBeforeBreak : plans.InPlace;

            await using var traffic = lab.StartTraffic(PacketsPerSecond);
            // Traffic flows before the rotation starts: one clean second.
            await Poll.UntilAsync("one second of answered echoes before the rotation", () => traffic.AllAnswered(0, PacketsPerSecond), TimeSpan.FromSeconds(30));
            int startSeq = traffic.Sent;

            var started = DateTimeOffset.UtcNow;
            IRotationProbe probe = lab.Probe(plan, started);
            var executor = new RotationExecutor(wrapAgent?.Invoke(lab.Agent) ?? lab.Agent, wrapProbe?.Invoke(probe) ?? probe, TimeProvider.System, new RotationExecutionOptions
            {
                PhaseTimeout = phaseTimeout ?? TimeSpan.FromSeconds(60),
                PollInterval = TimeSpan.FromMilliseconds(100),
                OnEvent = e => { output.WriteLine(e.ToString()); onEvent?.Invoke(e); },
            });
            var result = await executor.ExecuteAsync(plan);
            long executedMs = (long)(DateTimeOffset.UtcNow - started).TotalMilliseconds;

            // Converged = two clean seconds after the executor returned (in-place can still be re-forming OSPF then).
            var (counted, converged) = await FinishTrafficAsync(lab, traffic, traffic.Sent);

            int offsetMs = startSeq * 1000 / PacketsPerSecond;
            output.WriteLine($"ROTATION-RESULT strategy={strategy}{(wrapAgent is null ? "" : "+latency")} outcome={result.Outcome} executed_ms={executedMs} sent={counted.Sent} lost={counted.Lost} "
                + $"converged_after_ms={(long)converged.TotalMilliseconds}");
            if (counted.Lost > 0)
                output.WriteLine($"lost packets were sent at (ms from the rotation's start): {string.Join(", ", counted.LostAt.Select(t => (long)t.TotalMilliseconds - offsetMs))}");
            return (plan, result, counted, lab);
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }
}
