using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Daemon.Handoff;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Systemd;
using Overlay.Linux.Interop;

namespace Overlay.Daemon.Tests;

/// <summary>
/// A new overlayd that was handed the previous process's leases (issue #12), through the real host over the fake
/// platform: what it writes to FRR at start, and what it does with leases it no longer needs.
/// </summary>
public sealed class HandoffAdoptionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    private async Task<JsonElement> Vip()
    {
        var body = await _d.Api.GetStringAsync("/v1/vips");
        return JsonDocument.Parse(body).RootElement.GetProperty("vips")[0];
    }

    [Fact]
    public async Task Adopted_lease_keeps_the_route_without_a_write_and_an_unused_handed_over_lease_is_released()
    {
        _d.Healthy();
        _d.Platform.SeedFrrRoute(new VipRoute(DaemonFixture.VipPrefix, "ovl-t-web"));
        _d.Platform.SeedFrrRoute(new VipRoute(IpPrefix.Parse("203.0.113.99/32"), "ovl-t-old")); // a VIP the new config dropped
        _d.Platform.Inherit("ovl-t-web");
        _d.Platform.Inherit("ovl-t-old");
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.Operations.Contains("release-inherited ovl-t-old"), "the unused lease released");
        var ops = _d.Platform.Operations;
        output.WriteLine(string.Join("\n", ops));

        Assert.Contains("adopt ovl-t-web", ops);
        Assert.DoesNotContain(ops, o => o == "withdraw 203.0.113.10/32" || o.StartsWith("advertise 203.0.113.10/32", StringComparison.Ordinal));
        Assert.True(ops.ToList().IndexOf("withdraw 203.0.113.99/32") < ops.ToList().IndexOf("release-inherited ovl-t-old"),
            "the dropped VIP's route is withdrawn before its TUN is closed");
        var vip = await Vip();
        Assert.Equal("Advertised", vip.GetProperty("state").GetString());
        Assert.True(_d.Platform.FrrHas(DaemonFixture.VipPrefix));
    }

    [Fact]
    public async Task VIP_adopted_while_unhealthy_is_withdrawn_after_fall_and_only_then()
    {
        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        _d.Platform.SeedFrrRoute(new VipRoute(DaemonFixture.VipPrefix, "ovl-t-web"));
        _d.Platform.Inherit("ovl-t-web");
        await _d.StartAsync();
        // Health is judged on the first pass after start (fall 1 in the fixture's policy): withdrawn through the writer.
        await DaemonFixture.Until(() => !_d.Platform.FrrHas(DaemonFixture.VipPrefix), "the unhealthy adopted VIP withdrawn");
        var ops = _d.Platform.Operations.ToList();
        output.WriteLine(string.Join("\n", ops));
        Assert.True(ops.IndexOf("adopt ovl-t-web") < ops.IndexOf("withdraw 203.0.113.10/32"), "adopted first (start writes nothing), withdrawn by the first evaluation");
        Assert.Equal("Withdrawn", (await Vip()).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Service_manager_receives_each_lease_fd_with_FDSTORE_and_FDSTOREREMOVE_on_a_drained_stop()
    {
        string path = Path.Combine("/tmp", "ovl-fds-" + Guid.NewGuid().ToString("N")[..10] + ".sock");
        using var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        manager.Bind(new UnixDomainSocketEndPoint(path));
        var received = new List<(string Text, int Fds)>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (payload, fds) = UnixFdPassing.Receive(manager.SafeHandle, 4096, TimeSpan.FromMilliseconds(100), "test manager");
                    lock (received) received.Add((Encoding.UTF8.GetString(payload), fds.Length));
                    foreach (var f in fds) f.Dispose();
                }
                catch (LinuxException e) when (e.Errno == Errno.ETIMEDOUT) { }
            }
        });
        try
        {
            _d.Healthy();
            _d.Platform.HandleForLeases = true;
            await _d.StartAsync(new SdNotify(path));
            await DaemonFixture.Until(() => { lock (received) return received.Any(r => r.Text == "FDSTORE=1\nFDNAME=ovl-t-web" && r.Fds == 1); }, "FDSTORE with the lease fd");
            // The lease is stored as soon as it is taken; the VIP is advertised only after 'rise': stop once it is, so the
            // drain has something to withdraw.
            await DaemonFixture.Until(() => _d.Platform.Operations.Any(o => o.StartsWith("advertise 203.0.113.10/32", StringComparison.Ordinal)), "the VIP advertised");
            await _d.App!.StopAsync();
            await DaemonFixture.Until(() => { lock (received) return received.Any(r => r.Text == "FDSTOREREMOVE=1\nFDNAME=ovl-t-web" && r.Fds == 0); }, "FDSTOREREMOVE on the drained stop");
            List<string> texts;
            lock (received) texts = received.Select(r => r.Text.Replace('\n', ' ')).ToList();
            output.WriteLine(string.Join("\n", texts));
            var ops = _d.Platform.Operations.ToList();
            Assert.Contains("withdraw 203.0.113.10/32", ops); // stop still drains
        }
        finally
        {
            stop.Cancel();
            await reader;
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("4242", "2", "ovl-a:ovl-b", 4242, "3=ovl-a 4=ovl-b", false)]
    [InlineData("4243", "2", "ovl-a:ovl-b", 4242, "", true)]      // meant for another process
    [InlineData(null, "1", "ovl-a", 4242, "", true)]              // LISTEN_PID missing
    [InlineData("4242", "x", "ovl-a", 4242, "", true)]
    [InlineData("4242", "2", "ovl-a", 4242, "3=ovl-a 4=unknown", true)] // fewer names than fds
    [InlineData(null, null, null, 4242, "", false)]               // not started with fds
    public void LISTEN_FDS_are_taken_only_when_LISTEN_PID_is_this_process(string? pid, string? fds, string? names, int own, string expected, bool problem)
    {
        var parsed = InheritedLeases.ParseListenFds(pid, fds, names, own, out var why);
        Assert.Equal(expected, string.Join(' ', parsed.Select(p => $"{p.Fd}={p.Name}")));
        Assert.Equal(problem, why is not null);
    }
}
