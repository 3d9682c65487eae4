using System.Net.Sockets;
using System.Text.Json;
using Overlay.Cli.Commands;
using Overlay.Core.Model;
using Overlay.Daemon.Tests;

namespace Overlay.Cli.Tests.LiveApi;

/// <summary>The live nouns against a real overlayd control API (Kestrel on a Unix socket, in-memory platform).</summary>
public sealed class LiveCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private Live.Io Io => new(_out, _err, Color: false);

    public async Task InitializeAsync()
    {
        _d.Healthy();
        await _d.StartAsync();
        // The daemon owns 10.20.0.0/16 dev wg-t1; explain needs it in the (fake) kernel.
        await DaemonFixture.Until(() => _d.Platform.KernelRoutes.Any(r => r.Dev == "wg-t1"), "owned route installed");
    }

    public async Task DisposeAsync() => await _d.DisposeAsync();

    private string Out => _out.ToString();
    private void Dump() { output.WriteLine("stdout:\n" + Out); output.WriteLine("stderr:\n" + _err); }

    [Fact]
    public async Task Status_table_names_the_node_vip_and_peer()
    {
        await DaemonFixture.Until(async () => (await _d.Api.GetStringAsync("/v1/vips")).Contains("\"healthy\":true"), "vip healthy");
        int code = await StatusCommand.RunAsync(_d.SocketPath, json: false, Io, default);
        Dump();
        Assert.Equal(Live.Ok, code);
        Assert.Contains("test-node", Out);
        Assert.Contains("web", Out);
        Assert.Contains("203.0.113.10/32", Out);
        Assert.Contains("wg-t1", Out);
        Assert.Contains("up1", Out);
        Assert.DoesNotContain("\u001b[", Out); // no escape codes when not a terminal
    }

    [Fact]
    public async Task Status_json_is_the_api_json()
    {
        int code = await StatusCommand.RunAsync(_d.SocketPath, json: true, Io, default);
        Dump();
        Assert.Contains(code, new[] { Live.Ok, Live.Unhealthy });
        using var doc = JsonDocument.Parse(Out);
        Assert.Equal("test-node", doc.RootElement.GetProperty("node").GetString());
        Assert.Equal("wg-t1", doc.RootElement.GetProperty("peers")[0].GetProperty("interface").GetString());
    }

    [Fact]
    public async Task Peers_shows_handshake_age_and_transfer_and_exits_1_when_a_peer_is_unhealthy()
    {
        await DaemonFixture.Until(async () => (await _d.Api.GetStringAsync("/v1/peers")).Contains("\"healthy\":true"), "peer healthy");
        Assert.Equal(Live.Ok, await PeersCommand.RunAsync(_d.SocketPath, json: false, Io, default));
        Dump();
        Assert.Contains("s ago", Out);
        Assert.Contains("4.0 KiB", Out); // rx 4096 bytes
        Assert.Contains("2.0 KiB", Out);

        _d.Platform.SetLink("wg-t1", LinkOperState.Down);
        await DaemonFixture.Until(async () => (await _d.Api.GetStringAsync("/v1/peers")).Contains("\"healthy\":false"), "peer unhealthy");
        _out.GetStringBuilder().Clear();
        Assert.Equal(Live.Unhealthy, await PeersCommand.RunAsync(_d.SocketPath, json: false, Io, default));
        Dump();
        Assert.Contains("UNHEALTHY", Out);
    }

    [Fact]
    public async Task Peers_lists_bgp_neighbors_numbered_by_address_and_unnumbered_by_interface()
    {
        _d.Platform.SetRouting(new Overlay.Core.Health.RoutingSnapshot([],
        [
            new BgpPeer("192.0.2.254", "Established") { Family = "ipv4Unicast", RemoteAs = 64512 },
            new BgpPeer("wg-u1", "Active") { Interface = "wg-u1", Family = "ipv6Unicast" },
        ]));
        await DaemonFixture.Until(async () => (await _d.Api.GetStringAsync("/v1/peers")).Contains("\"neighbor\":\"wg-u1\""), "bgp peers in the answer");

        await PeersCommand.RunAsync(_d.SocketPath, json: false, Io, default);
        Dump();

        // The numbered row is what it was before unnumbered peers were listed: the address, then the state.
        var lines = Out.Split('\n');
        Assert.Contains(lines, l => l.Contains("BGP NEIGHBOR") && l.Contains("STATE"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"192\.0\.2\.254\s+.*Established"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"wg-u1\s+.*Active"));
    }

    [Fact]
    public async Task Explain_joins_kernel_peer_rib_and_owner()
    {
        int code = await ExplainCommand.RunAsync(_d.SocketPath, json: false, "10.20.1.5", Io, default);
        Dump();
        Assert.Equal(Live.Ok, code);
        Assert.Contains("dev wg-t1", Out);
        Assert.Contains("peer up1 on wg-t1", Out);
        Assert.Contains("hub1", Out);

        _out.GetStringBuilder().Clear();
        Assert.Equal(Live.Ok, await ExplainCommand.RunAsync(_d.SocketPath, json: true, "10.20.1.5", Io, default));
        using var doc = JsonDocument.Parse(Out);
        Assert.Equal("wg-t1", doc.RootElement.GetProperty("peer").GetProperty("interface").GetString());
        Assert.Equal("hub1", doc.RootElement.GetProperty("owner").GetProperty("node").GetString());
    }

    [Fact]
    public async Task Explain_of_an_unrouted_address_is_a_problem_exit_1()
    {
        int code = await ExplainCommand.RunAsync(_d.SocketPath, json: false, "198.51.100.7", Io, default);
        Dump();
        Assert.Equal(Live.Unhealthy, code);
        Assert.Contains("kernel-no-route", Out);
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("not-an-ip")]
    public async Task Explain_rejects_what_is_not_an_address_with_exit_2(string dest)
    {
        Assert.Equal(Live.Usage, await ExplainCommand.RunAsync(_d.SocketPath, json: false, dest, Io, default));
        Assert.Contains("is not an IP address", _err.ToString());
    }

    [Fact]
    public async Task Drain_and_undrain_show_the_result_and_land_in_events()
    {
        Assert.Equal(Live.Ok, await DrainCommand.RunAsync(_d.SocketPath, json: false, enter: true, vip: "web", Io, default));
        Dump();
        Assert.Matches(@"web\s+203\.0\.113\.10/32\s+\S+\s+\S+\s+withdrawn\s+withdrawn\s+yes", Out);

        _out.GetStringBuilder().Clear();
        Assert.Equal(Live.Ok, await DrainCommand.RunAsync(_d.SocketPath, json: true, enter: false, vip: "web", Io, default));
        using (var doc = JsonDocument.Parse(Out))
            Assert.False(doc.RootElement.GetProperty("vips")[0].GetProperty("drained").GetBoolean());

        _out.GetStringBuilder().Clear();
        Assert.Equal(Live.Ok, await EventsCommand.RunAsync(_d.SocketPath, json: false, since: 0, follow: false, Io, default));
        Dump();
        Assert.Matches(@"Operator\s+web\s+drain", Out);
        Assert.Matches(@"Operator\s+web\s+undrain", Out);

        _out.GetStringBuilder().Clear();
        Assert.Equal(Live.Ok, await EventsCommand.RunAsync(_d.SocketPath, json: true, since: 0, follow: false, Io, default));
        using (var doc = JsonDocument.Parse(Out))
        {
            long last = doc.RootElement.GetProperty("lastSeq").GetInt64();
            _out.GetStringBuilder().Clear();
            Assert.Equal(Live.Ok, await EventsCommand.RunAsync(_d.SocketPath, json: true, since: last, follow: false, Io, default));
            using var after = JsonDocument.Parse(Out);
            Assert.True(after.RootElement.GetProperty("events").GetArrayLength() == 0 || after.RootElement.GetProperty("events")[0].GetProperty("seq").GetInt64() > last);
        }
    }

    [Fact]
    public async Task Events_follow_prints_new_events_until_cancelled()
    {
        using var cts = new CancellationTokenSource();
        var follow = EventsCommand.RunAsync(_d.SocketPath, json: true, since: 0, follow: true, Io, cts.Token);
        await DrainCommand.RunAsync(_d.SocketPath, json: true, enter: true, vip: null, new Live.Io(TextWriter.Null, TextWriter.Null, false), default);
        await DaemonFixture.Until(() => { lock (_out) return _out.ToString().Contains("\"what\":\"drain\""); }, "followed drain event");
        cts.Cancel();
        Assert.Equal(Live.Ok, await follow);
        // One JSON object per line.
        foreach (var line in Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)) JsonDocument.Parse(line).Dispose();
    }

    [Fact]
    public async Task Drain_of_an_unknown_vip_is_exit_2_with_the_daemons_fix()
    {
        Assert.Equal(Live.Usage, await DrainCommand.RunAsync(_d.SocketPath, json: false, enter: true, vip: "nope", Io, default));
        Assert.Contains("no VIP named 'nope'", _err.ToString());
        Assert.Contains("web", _err.ToString());
    }
}

public sealed class UnreachableDaemonTests
{
    [Fact]
    public async Task A_missing_socket_is_exit_3_naming_the_socket_and_the_fix()
    {
        string path = $"/tmp/ovl-cli-missing-{Guid.NewGuid():N}.sock";
        var err = new StringWriter();
        int code = await StatusCommand.RunAsync(path, json: false, new Live.Io(TextWriter.Null, err, false), default);
        Assert.Equal(Live.Unreachable, code);
        Assert.Contains(path, err.ToString());
        Assert.Contains("does not exist", err.ToString());
        Assert.Contains("--socket", err.ToString());
    }

    [Fact]
    public async Task A_socket_nobody_listens_on_is_exit_3_connection_refused()
    {
        string path = $"/tmp/ovl-cli-stale-{Guid.NewGuid():N}.sock";
        // Bound but never listening: what a socket file left by a dead daemon answers (.NET unlinks on dispose, so keep it open).
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            var err = new StringWriter();
            int code = await PeersCommand.RunAsync(path, json: true, new Live.Io(TextWriter.Null, err, false), default);
            Assert.Equal(Live.Unreachable, code);
            Assert.Contains(path, err.ToString());
            Assert.Contains("connection refused", err.ToString());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void The_socket_comes_from_the_option_then_the_environment_then_the_default()
    {
        Assert.Equal("/x.sock", Overlay.Cli.Api.OverlaydClient.ResolveSocket("/x.sock"));
        string? saved = Environment.GetEnvironmentVariable("OVERLAY_SOCKET");
        try
        {
            Environment.SetEnvironmentVariable("OVERLAY_SOCKET", "/env.sock");
            Assert.Equal("/env.sock", Overlay.Cli.Api.OverlaydClient.ResolveSocket(null));
            Environment.SetEnvironmentVariable("OVERLAY_SOCKET", null);
            Assert.Equal("/run/overlay/overlayd.sock", Overlay.Cli.Api.OverlaydClient.ResolveSocket(null));
        }
        finally { Environment.SetEnvironmentVariable("OVERLAY_SOCKET", saved); }
    }
}
