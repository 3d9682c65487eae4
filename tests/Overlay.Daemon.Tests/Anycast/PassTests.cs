using System.Text.Json;

namespace Overlay.Daemon.Tests.Anycast;

/// <summary>The VIP loop as a whole, through the real host over the fake platform.</summary>
public sealed class PassTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    [Fact]
    public async Task Health_is_evaluated_once_per_pass()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(() => _d.Platform.FrrHas(DaemonFixture.VipPrefix), "VIP advertised after rise");
        _d.Platform.SetLink("wg-t1", Overlay.Core.Model.LinkOperState.Down); // event-driven passes too
        await DaemonFixture.Until(() => !_d.Platform.FrrHas(DaemonFixture.VipPrefix), "VIP withdrawn");
        await _d.App!.StopAsync(); // the drain pass completes; nothing runs after it

        var (passes, evaluations) = _d.Vips.Counts;
        output.WriteLine($"{passes} passes, {evaluations} evaluations");
        Assert.True(passes > 3, $"only {passes} passes");
        Assert.Equal(passes, evaluations);
    }

    [Fact]
    public async Task Status_shows_the_verdict_the_decision_acted_on()
    {
        _d.Platform.SetLink("wg-t1", Overlay.Core.Model.LinkOperState.Down);
        await _d.StartAsync();
        var status = JsonDocument.Parse(await _d.Api.GetStringAsync("/v1/status")).RootElement;
        var vip = status.GetProperty("vips")[0];
        var peer = status.GetProperty("peers")[0];
        Assert.False(vip.GetProperty("healthy").GetBoolean());
        Assert.False(peer.GetProperty("healthy").GetBoolean());
        Assert.Contains("link is Down", vip.GetProperty("reason").GetString());
        Assert.Contains("link is Down", peer.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
    }
}
