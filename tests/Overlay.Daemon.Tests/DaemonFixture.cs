using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Overlay.Core.Health;
using Overlay.Core.Net;
using Overlay.Core.Config;
using Overlay.Core.Model;
using Overlay.Daemon.Config;
using Overlay.Daemon.Hosting;
using Overlay.Daemon.Systemd;
using Overlay.Daemon.Anycast;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Overlay.Daemon.Tests;

/// <summary>A real overlayd host (Kestrel on a temp Unix socket + loopback metrics) over a <see cref="FakePlatform"/>.</summary>
public sealed class DaemonFixture : IAsyncDisposable
{
    public const string PeerKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    public static readonly IpPrefix VipPrefix = IpPrefix.Parse("203.0.113.10/32");

    public FakePlatform Platform { get; } = new();
    public string Dir { get; } = Path.Combine("/tmp", "ovl-dt-" + Guid.NewGuid().ToString("N")[..10]);
    /// <summary>Where api.socket points; a test may move it (e.g. into a directory overlayd must create).</summary>
    public string SocketPath { get; set; }
    public string ConfigPath => Path.Combine(Dir, "overlayd.yaml");
    public string DrainFile => Path.Combine(Dir, "drain");
    public int MetricsPort { get; } = FreePort();
    public WebApplication? App { get; private set; }
    public HttpClient Api { get; }
    public HttpClient Metrics { get; }
    private readonly ITestOutputHelper _output;

    public DaemonFixture(ITestOutputHelper output)
    {
        _output = output;
        SocketPath = Path.Combine(Dir, "overlayd.sock");
        Directory.CreateDirectory(Dir);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        Api = new HttpClient(handler) { BaseAddress = new Uri("http://overlayd"), Timeout = TimeSpan.FromSeconds(20) };
        Metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{MetricsPort}"), Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>Extra policy lines (indented 4) and the interface's bfd flag vary per test.</summary>
    public string PolicyExtra { get; set; } = "";
    public bool Bfd { get; set; }
    public string? Group { get; set; }
    public bool Transit { get; set; }
    /// <summary>The kernel's forwarding switches as the daemon reads them (null: the real /proc/sys).</summary>
    public Overlay.Daemon.Transit.IForwardingSource? Forwarding { get; set; }

    public string ConfigText(bool withVip = true) => $$"""
        node: test-node
        transit: {{(Transit ? "true" : "false")}}
        api:
          socket: {{SocketPath}}
          mode: "0660"
        {{(Group is null ? "" : "  group: " + Group)}}
        metrics:
          listen: 127.0.0.1:{{MetricsPort}}
        interfaces:
          - name: wg-t1
            peer: up1
            peerPublicKey: "{{PeerKey}}"
            keepalive: 0s
            localAddress: 10.255.1.1/31
            peerAddress: 10.255.1.0
            gate: [10.0.0.0/8]
            bfd: {{(Bfd ? "true" : "false")}}
        policies:
          fast:
            interval: 100ms
            fastInterval: 50ms
            rise: 2
            fall: 1
            holdDown: {advertise: 0s, withdraw: 0s}
        {{PolicyExtra}}
        vips:
        {{(withVip ? "  - {name: web, prefix: 203.0.113.10/32, policy: fast, lease: ovl-t-web, interfaces: [wg-t1]}" : "  []")}}
        routes:
          - {prefix: 10.20.0.0/16, dev: wg-t1, metric: 100}
        drain:
          file: {{DrainFile}}
          shutdownTimeout: 2s
        """;

    public void Healthy()
    {
        Platform.SetLink("wg-t1", LinkOperState.Up);
        Platform.SetPeer("wg-t1", new WireGuardPeer(WireGuardKey.Parse(PeerKey), null, IPEndPoint.Parse("192.0.2.1:51820"), [IpPrefix.Parse("10.0.0.0/8")], TimeSpan.Zero, DateTimeOffset.UtcNow.AddSeconds(-5), 4096, 2048, 1));
    }

    public async Task StartAsync(SdNotify? notify = null)
    {
        File.WriteAllText(ConfigPath, ConfigText());
        var load = ConfigStore.LoadFile(ConfigPath);
        Assert.True(load.Ok, string.Join("\n", load.Errors));
        var logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(new OutputSink(_output, LogEvents)).CreateLogger();
        notify ??= new SdNotify(null);
        App = DaemonHost.Build(new DaemonOptions(ConfigPath, load.Config!, Platform.Ports, TimeProvider.System, logger, notify)
        {
            Forwarding = Forwarding,
            Systemd = new TestSystemdNotifier(notify),
        });
        await App.StartAsync();
        await Vips.Started.WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Every event the daemon logged (through Serilog, as in production).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<LogEvent> LogEvents { get; } = new();

    public VipService Vips => App!.Services.GetRequiredService<VipService>();
    public ConfigStore Store => App!.Services.GetRequiredService<ConfigStore>();

    /// <summary>Polls until the condition holds (never a fixed sleep); fails with the message after the deadline.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not converged after {seconds}s: {what}");
            await Task.Delay(20);
        }
    }

    public static Task Until(Func<bool> condition, string what, int seconds = 20) => Until(() => Task.FromResult(condition()), what, seconds);

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            try { using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20)); await App.StopAsync(cts.Token); } catch (Exception ex) { _output.WriteLine("stop: " + ex.Message); }
            await App.DisposeAsync();
        }
        Api.Dispose();
        Metrics.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// The package's notifier interface, sending to the test's socket: Microsoft.Extensions.Hosting.Systemd's
    /// SystemdNotifier takes its socket only from NOTIFY_SOCKET (SdNotifyTests checks that one on its own).
    /// </summary>
    private sealed class TestSystemdNotifier(SdNotify sd) : Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier
    {
        public bool IsEnabled => sd.Enabled;
        public void Notify(Microsoft.Extensions.Hosting.Systemd.ServiceState state) => sd.Notify(state.ToString());
    }

    private sealed class OutputSink(ITestOutputHelper output, System.Collections.Concurrent.ConcurrentQueue<LogEvent> events) : ILogEventSink
    {
        public void Emit(LogEvent e)
        {
            events.Enqueue(e);
            try { output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.RenderMessage()}{(e.Exception is null ? "" : " " + e.Exception.Message)}"); }
            catch (InvalidOperationException) { } // the test already finished
        }
    }
}
