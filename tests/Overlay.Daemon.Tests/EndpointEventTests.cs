using System.Text.Json;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;
using System.Net;

namespace Overlay.Daemon.Tests;

/// <summary>A peer that roams (its NAT mapping got a new public port) shows up on the timeline and in peers, not as a flap.</summary>
public sealed class EndpointEventTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    private async Task<JsonElement> Get(string path)
    {
        var r = await _d.Api.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{path}: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<string?> Endpoint() => (await Get("/v1/peers")).GetProperty("peers")[0].GetProperty("endpoint").GetString();

    [Fact]
    public async Task A_roaming_peer_puts_old_and_new_endpoint_on_the_timeline_without_a_health_event()
    {
        _d.Healthy();
        await _d.StartAsync();
        await DaemonFixture.Until(async () => await Endpoint() == "192.0.2.1:51820", "peers shows the first endpoint");
        long last = (await Get("/v1/events?since=0")).GetProperty("lastSeq").GetInt64();

        _d.Platform.SetPeer("wg-t1", new WireGuardPeer(WireGuardKey.Parse(DaemonFixture.PeerKey), null, IPEndPoint.Parse("192.0.2.1:40001"), [IpPrefix.Parse("10.0.0.0/8")], TimeSpan.Zero, DateTimeOffset.UtcNow.AddSeconds(-5), 8192, 4096, 1));
        _d.Platform.SetLink("wg-t1", LinkOperState.Up); // a link event: the next pass reads WireGuard again
        await DaemonFixture.Until(async () => await Endpoint() == "192.0.2.1:40001", "peers shows the new endpoint");

        var events = (await Get($"/v1/events?since={last}")).GetProperty("events").EnumerateArray().ToList();
        var roam = Assert.Single(events, e => e.GetProperty("what").GetString() == "endpoint");
        Assert.Equal("WireGuard", roam.GetProperty("source").GetString());
        Assert.Equal("wg-t1", roam.GetProperty("subject").GetString());
        Assert.Equal("192.0.2.1:51820", roam.GetProperty("old").GetString());
        Assert.Equal("192.0.2.1:40001", roam.GetProperty("new").GetString());
        Assert.Contains("roamed", roam.GetProperty("reason").GetString());
        Assert.DoesNotContain(events, e => e.GetProperty("what").GetString() == "health");
    }
}
