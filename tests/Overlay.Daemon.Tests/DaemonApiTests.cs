using Overlay.Core.Net;
using System.Net;
using System.Text.Json;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Tests;

public sealed class DaemonApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    private async Task<JsonElement> Get(string path)
    {
        var r = await _d.Api.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{path}: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private async Task<JsonElement> Vip() => (await Get("/v1/vips")).GetProperty("vips")[0];

    [Fact]
    public async Task Start_withdraws_an_unhealthy_vip_before_creating_its_lease()
    {
        _d.Platform.SeedFrrRoute(new VipRoute(DaemonFixture.VipPrefix, "ovl-t-web"));
        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        await _d.StartAsync();
        var ops = _d.Platform.Operations;
        output.WriteLine(string.Join("\n", ops));
        int withdraw = ops.ToList().IndexOf("withdraw 203.0.113.10/32");
        int lease = ops.ToList().IndexOf("lease ovl-t-web");
        Assert.True(withdraw >= 0 && lease > withdraw, "the route must be gone before the TUN lease exists");
        Assert.False(_d.Platform.FrrHas(DaemonFixture.VipPrefix));
        var vip = await Vip();
        Assert.Equal("Withdrawn", vip.GetProperty("state").GetString());
        Assert.Equal("withdrawn", vip.GetProperty("running").GetString());
    }

    [Fact]
    public async Task Start_adopts_a_healthy_advertised_vip_without_a_flap()
    {
        _d.Healthy();
        _d.Platform.SeedFrrRoute(new VipRoute(DaemonFixture.VipPrefix, "ovl-t-web"));
        await _d.StartAsync();
        var first = (await Get("/v1/status")).GetProperty("lastEvaluation").GetDateTimeOffset();
        await DaemonFixture.Until(async () => (await Get("/v1/status")).GetProperty("lastEvaluation").GetDateTimeOffset() > first.AddMilliseconds(300), "several evaluations");
        Assert.DoesNotContain(_d.Platform.Operations, o => o.StartsWith("withdraw") || o.StartsWith("advertise"));
        var vip = await Vip();
        Assert.Equal("Advertised", vip.GetProperty("state").GetString());
        Assert.Equal("advertised", vip.GetProperty("desired").GetString());
        Assert.Equal("advertised", vip.GetProperty("running").GetString());
        Assert.True(_d.Platform.LeaseHeld("ovl-t-web"));
    }

    [Fact]
    public async Task Healthy_vip_rises_and_is_advertised_then_withdrawn_when_the_link_fails()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "VIP advertised after rise");
        Assert.Contains("advertise 203.0.113.10/32 via ovl-t-web", _d.Platform.Operations);
        await DaemonFixture.Until(async () => (await Vip()).GetProperty("running").GetString() == "advertised", "status shows running");
        var vip = await Vip();
        Assert.True(vip.GetProperty("lastApply").GetProperty("ok").GetBoolean());
        Assert.Equal("Advertise", vip.GetProperty("lastApply").GetProperty("operation").GetString());

        var sw = System.Diagnostics.Stopwatch.StartNew();
        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        await DaemonFixture.Until(() => !_d.Platform.FrrHas(DaemonFixture.VipPrefix), "VIP withdrawn after link down");
        output.WriteLine($"link down -> withdraw applied: {sw.ElapsedMilliseconds} ms");
        vip = await Vip();
        Assert.Contains("link is Down", vip.GetProperty("reason").GetString());

        var events = await Get("/v1/events?since=0");
        var vipEvents = events.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("source").GetString() == "Vip")
            .Select(e => e.GetProperty("new").GetString()).ToList();
        Assert.Equal(["PendingAdvertise", "Advertised", "Withdrawn"], vipEvents);
        long last = events.GetProperty("lastSeq").GetInt64();
        Assert.Empty((await Get($"/v1/events?since={last}")).GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task Drain_and_undrain_through_the_api()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised");

        var r = await _d.Api.PostAsync("/v1/drain?vip=web", null);
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var vip = body.GetProperty("vips")[0];
        Assert.Equal("Drained", vip.GetProperty("state").GetString());
        Assert.Equal("withdrawn", vip.GetProperty("running").GetString()); // the answer comes after the writer applied it
        Assert.False(_d.Platform.FrrHas(DaemonFixture.VipPrefix));
        Assert.Equal(["web"], body.GetProperty("drain").GetProperty("vips").EnumerateArray().Select(x => x.GetString()));

        var missing = await _d.Api.PostAsync("/v1/drain?vip=nope", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("web", JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("fix").GetString());

        (await _d.Api.PostAsync("/v1/undrain", null)).EnsureSuccessStatusCode();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "re-advertised after undrain");
    }

    [Fact]
    public async Task Drain_file_withdraws_all_vips_while_present()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised");
        File.WriteAllText(_d.DrainFile, "");
        await DaemonFixture.Until(() => !_d.Platform.FrrHas(DaemonFixture.VipPrefix), "withdrawn by drain file");
        Assert.True((await Get("/v1/status")).GetProperty("drain").GetProperty("file").GetBoolean());
        File.Delete(_d.DrainFile);
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "re-advertised after the file is removed");
    }

    [Fact]
    public async Task Stop_withdraws_waits_for_the_upstream_then_releases_leases()
    {
        _d.Healthy();
        _d.Platform.SeedFrrRoute(new VipRoute(DaemonFixture.VipPrefix, "ovl-t-web"));
        _d.Platform.UpstreamLagProbes = 3;
        await _d.StartAsync();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await _d.App!.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        output.WriteLine($"stop took {sw.ElapsedMilliseconds} ms");
        var ops = _d.Platform.Operations.ToList();
        output.WriteLine(string.Join("\n", ops));
        int withdraw = ops.IndexOf("withdraw 203.0.113.10/32");
        int lastProbe = ops.LastIndexOf("probe 203.0.113.10/32");
        int release = ops.IndexOf("release ovl-t-web");
        Assert.True(withdraw >= 0 && lastProbe > withdraw && release > lastProbe, "withdraw, then wait for upstream, then release");
        Assert.Equal(4, ops.Count(o => o == "probe 203.0.113.10/32")); // 3 lagging answers, then clear
    }

    [Fact]
    public async Task Status_peers_and_kernel_routes_show_desired_running_and_last_apply()
    {
        _d.Healthy();
        _d.Platform.SeedKernelRoute(new OwnedRoute(Overlay.Core.Net.IpPrefix.Parse("10.99.0.0/16"), "wg-t1", 5)); // stale: not configured
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised");
        var s = await Get("/v1/status");
        output.WriteLine(JsonSerializer.Serialize(s, new JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal("test-node", s.GetProperty("node").GetString());
        var peer = s.GetProperty("peers")[0];
        Assert.Equal("wg-t1", peer.GetProperty("interface").GetString());
        Assert.Equal("Up", peer.GetProperty("link").GetString());
        Assert.True(peer.GetProperty("healthy").GetBoolean());
        Assert.InRange(peer.GetProperty("handshakeAgeSeconds").GetDouble(), 4, 60);
        var routes = s.GetProperty("routes").EnumerateArray().ToDictionary(r => r.GetProperty("subject").GetString()!);
        Assert.Equal("present", routes["route:10.20.0.0/16"].GetProperty("running").GetString());
        Assert.Equal("absent", routes["route:10.99.0.0/16"].GetProperty("desired").GetString());
        Assert.DoesNotContain(_d.Platform.KernelRoutes, r => r.Prefix.ToString() == "10.99.0.0/16");

        var peers = await Get("/v1/peers");
        Assert.Equal(1, peers.GetProperty("peers").GetArrayLength());
    }

    [Fact]
    public async Task Kernel_routes_lost_with_a_link_are_restored_after_the_link_event()
    {
        _d.Healthy();
        await _d.StartAsync();
        Assert.Contains(_d.Platform.KernelRoutes, r => r.Prefix.ToString() == "10.20.0.0/16");
        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        _d.Platform.DropKernelRoutesVia("wg-t1");
        _d.Platform.SetLink("wg-t1", LinkOperState.Up);
        await DaemonFixture.Until(() => _d.Platform.KernelRoutes.Any(r => r.Prefix.ToString() == "10.20.0.0/16"), "route restored");
    }

    [Fact]
    public async Task Vip_route_lost_by_a_restarted_frr_is_re_applied()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "VIP advertised after rise");
        int advertisements = _d.Platform.Operations.Count(o => o.StartsWith("advertise ", StringComparison.Ordinal));

        var sw = System.Diagnostics.Stopwatch.StartNew();
        _d.Platform.ForgetFrrRoutes();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "VIP route re-applied");
        output.WriteLine($"FRR lost the route -> re-applied: {sw.ElapsedMilliseconds} ms");
        Assert.Equal(advertisements + 1, _d.Platform.Operations.Count(o => o.StartsWith("advertise ", StringComparison.Ordinal)));
        var drift = (await Get("/v1/events?since=0")).GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("what").GetString() == "frr-route");
        Assert.Equal("present", drift.GetProperty("old").GetString());
        Assert.Equal("absent", drift.GetProperty("new").GetString());
        Assert.Equal("Advertised", (await Vip()).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Owned_kernel_route_deleted_by_someone_else_is_restored_on_the_route_event()
    {
        _d.Healthy();
        await _d.StartAsync();
        _d.Platform.RemoveKernelRouteExternally(IpPrefix.Parse("10.20.0.0/16"));
        await DaemonFixture.Until(() => _d.Platform.KernelRoutes.Any(r => r.Prefix.ToString() == "10.20.0.0/16"), "route restored");
    }

    [Fact]
    public async Task Required_bfd_session_gates_the_vip()
    {
        _d.Bfd = true;
        _d.Healthy();
        _d.Platform.SetBfd(new BfdSession(IPAddress.Parse("10.255.1.0"), "wg-t1", BfdSessionState.Down));
        await _d.StartAsync();
        var vip = await Vip();
        Assert.Contains("BFD to 10.255.1.0 is Down", vip.GetProperty("reason").GetString());
        Assert.False(_d.Platform.FrrHas(DaemonFixture.VipPrefix));

        _d.Platform.SetBfd(new BfdSession(IPAddress.Parse("10.255.1.0"), "wg-t1", BfdSessionState.Up));
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised once BFD is up");
        var events = (await Get("/v1/events?since=0")).GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("source").GetString() == "Bfd").Select(e => e.GetProperty("new").GetString()).ToList();
        Assert.Equal(["Down", "Up"], events);
    }

    [Fact]
    public async Task Bfd_session_that_disappears_is_on_the_timeline_as_absent()
    {
        _d.Bfd = true;
        _d.Healthy();
        _d.Platform.SetBfd(new BfdSession(IPAddress.Parse("10.255.1.0"), "wg-t1", BfdSessionState.Up));
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised with BFD up");

        // OSPF deletes a dead neighbor's BFD session: bfdd stops listing it instead of reporting Down.
        _d.Platform.SetBfd();
        async Task<List<string?>> BfdEvents() => (await Get("/v1/events?since=0")).GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("source").GetString() == "Bfd").Select(e => e.GetProperty("new").GetString()).ToList();
        await DaemonFixture.Until(async () => (await BfdEvents()).Contains("absent"), "BFD session absent on the timeline");
        Assert.Equal(["Up", "absent"], await BfdEvents());
        await DaemonFixture.Until(() => !_d.Platform.FrrHas(DaemonFixture.VipPrefix), "withdrawn without its BFD session");
    }

    [Fact]
    public async Task Settled_vip_reuses_wireguard_reads_until_a_link_event()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(async () => (await Vip()).GetProperty("state").GetString() == "Advertised", "advertised");

        // Settled: handshake age and rx progress are judged against minutes, so ten passes (~1 s at 100 ms) need about
        // one read (re-read every 5 s at most); reading on every pass would be ten. The bound leaves room for a slow machine.
        async Task<string?> LastEvaluation() => (await Get("/v1/status")).GetProperty("lastEvaluation").GetString();
        int before = _d.Platform.WireGuardReads;
        var passes = new HashSet<string?> { await LastEvaluation() };
        await DaemonFixture.Until(async () => passes.Add(await LastEvaluation()) && passes.Count > 10, "ten more passes");
        Assert.InRange(_d.Platform.WireGuardReads - before, 0, 3);

        // A link event makes the next pass read the device again.
        before = _d.Platform.WireGuardReads;
        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        await DaemonFixture.Until(() => _d.Platform.WireGuardReads > before, "device read again after the link event");
    }

    [Fact]
    public async Task Flapping_link_gets_the_vip_suppressed()
    {
        _d.PolicyExtra = "    dampening: {halfLife: 10m, penaltyPerFlap: 1000, suppressAbove: 1500, reuseBelow: 500, maxPenalty: 3000}";
        _d.Healthy();
        await _d.StartAsync();
        for (int flap = 1; flap <= 2; flap++)
        {
            await DaemonFixture.Until(async () => (await Vip()).GetProperty("state").GetString() == "Advertised", $"advertised before flap {flap}");
            _d.Platform.SetLink("wg-t1", LinkOperState.Down);
            var expected = flap == 1 ? "Withdrawn" : "Suppressed";
            await DaemonFixture.Until(async () => (await Vip()).GetProperty("state").GetString() == expected, $"{expected} after flap {flap}");
            _d.Platform.SetLink("wg-t1", LinkOperState.Up);
        }
        // Healthy again, but suppressed until the penalty decays (half-life 10 minutes).
        var first = (await Get("/v1/status")).GetProperty("lastEvaluation").GetDateTimeOffset();
        await DaemonFixture.Until(async () => (await Get("/v1/status")).GetProperty("lastEvaluation").GetDateTimeOffset() > first.AddMilliseconds(500), "healthy evaluations");
        var vip = await Vip();
        Assert.Equal("Suppressed", vip.GetProperty("state").GetString());
        Assert.True(vip.GetProperty("healthy").GetBoolean());
        Assert.InRange(vip.GetProperty("penalty").GetDouble(), 1500, 2000);
        Assert.False(_d.Platform.FrrHas(DaemonFixture.VipPrefix));
    }

    [Fact]
    public async Task Explain_joins_the_sources_and_rejects_bad_input()
    {
        _d.Healthy();
        await _d.StartAsync();
        var e = await Get("/v1/explain?dest=10.20.1.1");
        output.WriteLine(JsonSerializer.Serialize(e, new JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal("wg-t1", e.GetProperty("kernel").GetProperty("dev").GetString());
        Assert.Equal("10.0.0.0/8", e.GetProperty("peer").GetProperty("allowedIp").GetString());
        Assert.Equal("hub1", e.GetProperty("owner").GetProperty("node").GetString());
        Assert.Equal(DaemonFixture.PeerKey, e.GetProperty("peer").GetProperty("publicKey").GetString());

        var bad = await _d.Api.GetAsync("/v1/explain?dest=10.20.1.0/24");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Metrics_only_on_loopback_api_only_on_the_socket_and_socket_mode_0660()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised");
        var r = await _d.Metrics.GetAsync("/metrics");
        r.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain; version=0.0.4", r.Content.Headers.ContentType!.ToString());
        var text = await r.Content.ReadAsStringAsync();
        var age = text.Split('\n').Single(l => l.StartsWith("overlay_wireguard_peer_last_handshake_age_seconds{"));
        Assert.StartsWith("overlay_wireguard_peer_last_handshake_age_seconds{interface=\"wg-t1\",peer=\"up1\"} ", age);
        Assert.InRange(double.Parse(age.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 4, 60);
        Assert.Contains("overlay_vip_state{vip=\"web\",state=\"Advertised\"} 1", text);
        Assert.Contains("overlay_vip_transitions_total{vip=\"web\",to=\"Advertised\"} 1", text);
        Assert.Contains("overlay_apply_duration_seconds_bucket{operation=\"Advertise\",le=\"+Inf\"} 1", text);

        Assert.Equal(HttpStatusCode.NotFound, (await _d.Metrics.GetAsync("/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _d.Api.GetAsync("/metrics")).StatusCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(_d.SocketPath));
    }

    [SkippableFact]
    public async Task Socket_group_is_set_after_bind()
    {
        Skip.If(Environment.UserName != "root", "changing a file's group to one we are not in needs root");
        Skip.If(!File.ReadAllText("/etc/group").Contains("\ndaemon:"), "the test uses the standard 'daemon' group, absent here");
        _d.Group = "daemon";
        _d.Healthy();
        await _d.StartAsync();
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%G %a", _d.SocketPath]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        Assert.Equal("daemon 660", (await p.StandardOutput.ReadToEndAsync()).Trim());
    }

    [Fact]
    public async Task Failed_apply_is_recorded_counted_and_retried()
    {
        _d.Healthy();
        _d.Platform.AdvertiseFailure = new InvalidOperationException("commit failed: UNAVAILABLE (configuration locked)");
        await _d.StartAsync();
        await DaemonFixture.Until(async () => (await Vip()).GetProperty("lastApply").ValueKind == JsonValueKind.Object, "an apply was attempted");
        var vip = await Vip();
        Assert.False(vip.GetProperty("lastApply").GetProperty("ok").GetBoolean());
        Assert.Contains("UNAVAILABLE", vip.GetProperty("lastApply").GetProperty("error").GetString());
        Assert.Equal("advertised", vip.GetProperty("desired").GetString());
        Assert.NotEqual("advertised", vip.GetProperty("running").GetString());
        var metrics = await _d.Metrics.GetStringAsync("/metrics");
        Assert.Contains("overlay_frr_errors_total{operation=\"Advertise\"}", metrics);

        _d.Platform.AdvertiseFailure = null;
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "retried after the failure cleared");
    }

    [Fact]
    public async Task Reload_keeps_the_last_good_config_and_applies_a_good_one()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "advertised");
        var before = _d.Store.Current;

        File.WriteAllText(_d.ConfigPath, _d.ConfigText().Replace("rise: 2", "rise: 0"));
        var bad = _d.Store.Reload();
        Assert.False(bad.Ok);
        Assert.Same(before, _d.Store.Current);
        var events = await Get("/v1/events?since=0");
        Assert.Contains(events.GetProperty("events").EnumerateArray(), e => e.GetProperty("what").GetString() == "reload rejected");

        File.WriteAllText(_d.ConfigPath, _d.ConfigText(withVip: false));
        Assert.True(_d.Store.Reload().Ok);
        await DaemonFixture.Until(() => !_d.Platform.FrrHas(DaemonFixture.VipPrefix) && !_d.Platform.LeaseHeld("ovl-t-web"), "removed VIP withdrawn and its lease released");
        Assert.Equal(2, (await Get("/v1/status")).GetProperty("configGeneration").GetInt32());

        int mark = _d.Platform.Operations.Count;
        File.WriteAllText(_d.ConfigPath, _d.ConfigText());
        Assert.True(_d.Store.Reload().Ok);
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "re-added VIP advertised");
        var ops = _d.Platform.Operations.Skip(mark).Where(o => !o.StartsWith("route")).ToList();
        output.WriteLine(string.Join("\n", ops));
        Assert.Equal(["withdraw 203.0.113.10/32", "lease ovl-t-web", "advertise 203.0.113.10/32 via ovl-t-web"], ops);
    }
}
