using System.Net.Sockets;
using Overlay.Daemon.Systemd;
using Serilog.Events;

namespace Overlay.Daemon.Tests;

/// <summary>
/// Expected transient failures, through the real host and its Serilog pipeline: one line that names the cause, no stack
/// trace, however many attempts fail (issue #10, item 3). FailureLogTests covers the FRR/WireGuard reads and applies.
/// </summary>
public sealed class TransientFailureLogTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    private List<LogEvent> Lines(string containing) =>
        _d.LogEvents.Where(e => e.RenderMessage().Contains(containing, StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_lease_that_cannot_be_taken_is_one_line_with_the_cause_until_it_can()
    {
        _d.Healthy();
        _d.Platform.LeaseFailure = new IOException("TUNSETIFF ovl-t-web: Device or resource busy");
        await _d.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        for (int i = 0; i < 5; i++) await _d.Vips.RequestEvaluationAsync(cts.Token); // every pass retries the lease

        var line = Assert.Single(Lines("could not acquire lease"));
        Assert.Null(line.Exception);
        Assert.Equal(LogEventLevel.Error, line.Level);
        Assert.Contains("could not acquire lease \"ovl-t-web\": \"TUNSETIFF ovl-t-web: Device or resource busy\"", line.RenderMessage());

        _d.Platform.LeaseFailure = null;
        await DaemonFixture.Until(() => _d.Platform.LeaseHeld("ovl-t-web"), "the lease taken once it can be");
    }

    [Fact]
    public async Task A_lease_failure_that_is_a_bug_keeps_its_stack_once()
    {
        _d.Healthy();
        _d.Platform.LeaseFailure = new InvalidOperationException("a bug");
        await _d.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        for (int i = 0; i < 3; i++) await _d.Vips.RequestEvaluationAsync(cts.Token);
        var line = Assert.Single(Lines("could not acquire lease"));
        Assert.IsType<InvalidOperationException>(line.Exception);
    }

    [Fact]
    public async Task A_notify_socket_that_refuses_is_one_line_with_the_cause_not_one_per_watchdog_ping()
    {
        // NOTIFY_SOCKET names a path nobody listens on (the manager went away): every datagram fails with ECONNREFUSED/ENOENT.
        var path = Path.Combine(_d.Dir, "gone.sock");
        _d.Healthy();
        await _d.StartAsync(new SdNotify(path, watchdog: TimeSpan.FromMilliseconds(200)));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // READY, STATUS and a few watchdog pings, each refused.
        await DaemonFixture.Until(() => _d.LogEvents.Count(e => e.RenderMessage().Contains("systemd watchdog every", StringComparison.Ordinal)) == 1, "watchdog armed");
        for (int i = 0; i < 4; i++) await _d.Vips.RequestEvaluationAsync(cts.Token);

        var lines = Lines("sd_notify to " + path);
        output.WriteLine(string.Join("\n", lines.Select(l => l.RenderMessage())));
        var line = Assert.Single(lines);
        Assert.Null(line.Exception);
        Assert.Contains("failed: ", line.RenderMessage());
        Assert.Contains("retrying (repeats are counted, not logged)", line.RenderMessage());
    }
}
