using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting.Systemd;
using Overlay.Core.Anycast;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Systemd;

namespace Overlay.Daemon.Tests;

public class SdNotifyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sends_one_datagram_to_the_notify_socket(bool @abstract)
    {
        string name = "ovl-sd-" + Guid.NewGuid().ToString("N")[..10];
        string path = @abstract ? "\0" + name : Path.Combine("/tmp", name + ".sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            new SdNotify(@abstract ? "@" + name : path).Notify("READY=1");
            var buf = new byte[256];
            server.ReceiveTimeout = 5000;
            int n = server.Receive(buf);
            Assert.Equal("READY=1", Encoding.UTF8.GetString(buf, 0, n));
        }
        finally
        {
            if (!@abstract) File.Delete(path);
        }
    }

    [Fact]
    public void Status_line_counts_vips_by_state()
    {
        var now = DateTimeOffset.UnixEpoch;
        VipStatus Vip(string name, VipState st) => new(name, "203.0.113.10/32", "ovl-" + name, true, st, true, "x", 0, 0, 0, 0, now, now);
        Assert.Equal("ready: no VIP configured", SystemdService.Status(new DaemonState.Snapshot([], [], RoutingSnapshot.Empty, [], now)));
        Assert.Equal("ready: 3 VIP(s): 1 withdrawn, 2 advertised", SystemdService.Status(new DaemonState.Snapshot(
            [Vip("a", VipState.Advertised), Vip("b", VipState.Withdrawn), Vip("c", VipState.Advertised)], [], RoutingSnapshot.Empty, [], now)));
    }

    [Fact]
    public void Without_notify_socket_nothing_happens()
    {
        var n = new SdNotify(null);
        Assert.False(n.Enabled);
        n.Notify("READY=1");
    }

    [Theory]
    [InlineData("30000000", null, 30_000)]
    [InlineData("30000000", "4242", 30_000)]
    [InlineData("30000000", "1", null)]
    [InlineData("0", null, null)]
    [InlineData(null, null, null)]
    [InlineData("abc", null, null)]
    public void Watchdog_interval_is_for_this_process_only(string? usec, string? pid, int? expectedMs)
    {
        var t = SdNotify.WatchdogInterval(usec, pid, ownPid: 4242);
        Assert.Equal(expectedMs, t is null ? null : (int)t.Value.TotalMilliseconds);
    }
}

public sealed class SystemdLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    [Fact]
    public async Task Ready_after_startup_decisions_and_stopping_on_shutdown()
    {
        var path = Path.Combine(_d.Dir, "notify.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        _d.Platform.SeedFrrRoute(new Overlay.Daemon.Ports.VipRoute(DaemonFixture.VipPrefix, "ovl-t-web"));
        await _d.StartAsync(new SdNotify(path));

        var buf = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int n = await server.ReceiveAsync(buf, SocketFlags.None, cts.Token);
        Assert.Equal("READY=1", Encoding.UTF8.GetString(buf, 0, n));
        // READY means the unhealthy VIP's route was already withdrawn.
        Assert.False(_d.Platform.FrrHas(DaemonFixture.VipPrefix));
        // Then one line for systemctl status.
        n = await server.ReceiveAsync(buf, SocketFlags.None, cts.Token);
        Assert.Equal("STATUS=ready: 1 VIP(s): 1 withdrawn", Encoding.UTF8.GetString(buf, 0, n));

        await _d.App!.StopAsync(cts.Token);
        n = await server.ReceiveAsync(buf, SocketFlags.None, cts.Token);
        Assert.Equal("STOPPING=1", Encoding.UTF8.GetString(buf, 0, n));
        n = await server.ReceiveAsync(buf, SocketFlags.None, cts.Token);
        Assert.Equal("STATUS=stopping: draining VIPs", Encoding.UTF8.GetString(buf, 0, n));
    }
}

public sealed class WatchdogTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    [Fact]
    public async Task Watchdog_is_fed_at_half_the_period_while_the_loop_runs()
    {
        var path = Path.Combine(_d.Dir, "notify.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        _d.Healthy();
        await _d.StartAsync(new SdNotify(path, watchdog: TimeSpan.FromMilliseconds(600)));
        var buf = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<string>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (seen.Count(s => s == "WATCHDOG=1") < 3)
        {
            int n = await server.ReceiveAsync(buf, SocketFlags.None, cts.Token);
            seen.Add(Encoding.UTF8.GetString(buf, 0, n));
        }
        output.WriteLine($"3 watchdog pings in {sw.ElapsedMilliseconds} ms: {string.Join(", ", seen)}");
        Assert.Contains("READY=1", seen);
    }
}

/// <summary>NOTIFY_SOCKET is process-wide: nothing else in this assembly may run while a test sets it.</summary>
[CollectionDefinition(nameof(NotifySocketEnvironment), DisableParallelization = true)]
public sealed class NotifySocketEnvironment;

[Collection(nameof(NotifySocketEnvironment))]
public sealed class PackageNotifierTests
{
    /// <summary>What production uses for READY/STOPPING/STATUS/WATCHDOG: Microsoft.Extensions.Hosting.Systemd's SystemdNotifier.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SystemdNotifier_sends_our_messages_to_NOTIFY_SOCKET(bool @abstract)
    {
        string name = "ovl-sdn-" + Guid.NewGuid().ToString("N")[..10];
        string path = @abstract ? "\0" + name : Path.Combine("/tmp", name + ".sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        string? before = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        SystemdNotifier notifier;
        try
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", @abstract ? "@" + name : path);
            notifier = new SystemdNotifier();
        }
        finally { Environment.SetEnvironmentVariable("NOTIFY_SOCKET", before); }
        try
        {
            Assert.True(notifier.IsEnabled);
            server.ReceiveTimeout = 5000;
            var buf = new byte[256];
            foreach (var state in new[] { ServiceState.Ready, new ServiceState("STATUS=ready: 1 VIP(s): 1 advertised"), new ServiceState("WATCHDOG=1"), ServiceState.Stopping })
            {
                notifier.Notify(state);
                int n = server.Receive(buf);
                Assert.Equal(state.ToString(), Encoding.UTF8.GetString(buf, 0, n));
            }
        }
        finally
        {
            if (!@abstract) File.Delete(path);
        }
    }
}
