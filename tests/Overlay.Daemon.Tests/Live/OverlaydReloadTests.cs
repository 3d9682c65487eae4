using System.Diagnostics;
using System.Text.Json;
using Overlay.Core.Config;
using Overlay.Core.Net;
using Overlay.Lab;
using Overlay.Lab.Scenarios;
using Overlay.Core.Events;

namespace Overlay.Daemon.Tests.Live;

/// <summary>
/// SIGHUP on the real overlayd process (node A of <see cref="NodeLab"/>, real FRR and an eBGP upstream U; started
/// under nohup, so the signal is inherited as ignored):
/// a good file takes effect (a second VIP reaches U), a bad one is refused with the file and line in the log
/// while the last good configuration stays in force and nothing is written to FRR.
/// </summary>
[Collection(LiveDaemonCollection.Name)]
public sealed class OverlaydReloadTests(ITestOutputHelper output)
{
    private static readonly IpPrefix SecondVip = IpPrefix.Parse("203.0.113.11/32");

    [SkippableFact]
    public async Task Sighup_applies_a_good_config_and_keeps_the_last_good_one_when_the_file_is_invalid()
    {
        string? missing = NodeLab.Missing();
        Skip.If(missing is not null, missing);
        string dll = OverlaydEndToEndTests.OverlaydDll();
        var n = new NodeLab();
        var dir = Directory.CreateTempSubdirectory("overlayd-reload-");
        await using var lab = await RunningLab.StartAsync(n.Topology, new LineLogger(output.WriteLine));
        LabProcess? daemon = null;
        try
        {
            await n.WaitConvergedAsync(lab, output);
            string socket = Path.Combine(dir.FullName, "overlayd.sock");
            string configPath = Path.Combine(dir.FullName, "overlayd.yaml");
            // One config, so both files share the metrics port (a changed listen address would need a restart).
            var one = OverlaydEndToEndTests.ConfigOf(n, lab, socket, n.LeaseName("v"));
            var two = one with { Vips = [.. one.Vips, new VipConfig("api", SecondVip, "fast", n.LeaseName("w"), [n.Tunnel.InterfaceA])] };
            string twoVips = NodeConfigYaml.Write(two);
            string oneVip = NodeConfigYaml.Write(one);
            await File.WriteAllTextAsync(configPath, oneVip);
            using var api = OverlaydEndToEndTests.ApiClient(socket);
            var frr = lab.Router(n.A).Routing;
            Func<IpPrefix, Func<CancellationToken, Task<bool>>> atU = vip => ct => NodeLab.UpstreamHasVipAsync(lab, n.U, vip, ct);

            // Started under nohup, as an operator might: SIGHUP arrives ignored, and reload must still work.
            var spec = OverlaydBinary.Spec(configPath, dll);
            daemon = lab.StartProcess(n.A, spec with { FileName = "nohup", Arguments = [spec.FileName, .. spec.Arguments] });
            await OverlaydEndToEndTests.PollAsync("VIP web at U after overlayd start", atU(NodeLab.Vip), daemon);
            Assert.Equal(1, (await OverlaydEndToEndTests.StatusAsync(api)).GetProperty("configGeneration").GetInt32());
            Assert.False(await atU(SecondVip)(CancellationToken.None));

            // (a) A good change: a second VIP. SIGHUP -> generation 2, the VIP advertised and at U.
            await File.WriteAllTextAsync(configPath, twoVips);
            long seq = await LastSeqAsync(api);
            var sw = Stopwatch.StartNew();
            daemon.Signal(LabProcess.SIGHUP);
            var reloaded = await OverlaydEndToEndTests.PollAsync("configGeneration 2 after SIGHUP", async _ =>
                (await OverlaydEndToEndTests.StatusAsync(api)).GetProperty("configGeneration").GetInt32() == 2, daemon);
            var advertised = await OverlaydEndToEndTests.PollAsync("VIP api advertised by overlayd", async _ =>
                Vip(await OverlaydEndToEndTests.GetJsonAsync(api, "/v1/vips"), "api") is { } v
                && v.GetProperty("desired").GetString() == "advertised" && v.GetProperty("running").GetString() == "advertised", daemon);
            var inStaticd = await OverlaydEndToEndTests.PollAsync("VIP api in staticd", async ct =>
                (await frr.ListVipRoutesAsync(ct)).Any(r => r.Prefix == SecondVip), daemon);
            var atUpstream = await OverlaydEndToEndTests.PollAsync("VIP api at U", atU(SecondVip), daemon);
            var hupToUpstream = sw.Elapsed;
            Assert.True(await atU(NodeLab.Vip)(CancellationToken.None), "the first VIP must stay advertised through the reload");
            // Past a couple of FRR drift checks (one a second): the new VIP's route must be recognised as overlayd's own.
            var checkedAfter = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2.5);
            await OverlaydEndToEndTests.PollAsync("two FRR drift checks after the VIP was advertised", async _ =>
                (await OverlaydEndToEndTests.StatusAsync(api)).GetProperty("lastEvaluation").GetDateTimeOffset() > checkedAfter, daemon);
            var events = await EventsAsync(api, seq);
            Assert.DoesNotContain(events, e => e.What == "frr-route");
            Assert.Single(events, e => e.Source == EventSource.Writer && e.Subject == "vip:api" && e.What == "Advertise");
            Assert.Contains(events, e => e.Source == EventSource.Config && e.What == "reloaded" && e.New == "2");
            Assert.Contains(events, e => e.Source == EventSource.Config && e.Subject == "api" && e.What == "vip added");
            Assert.DoesNotContain(events, e => e.Source == EventSource.Writer && e.Subject == "vip:web");
            Assert.Contains(LogEntries(File.ReadAllText(daemon.OutputPath)), e => e.Event == "ConfigReloaded"
                && e.Properties.GetProperty("Path").GetString() == configPath && e.Properties.GetProperty("Generation").GetInt32() == 2);
            output.WriteLine($"SIGHUP (good file) -> configGeneration 2 seen: {reloaded.TotalMilliseconds:0} ms; " +
                $"then VIP api advertised (rise 3 x fastInterval 100 ms) after {advertised.TotalMilliseconds:0} ms, in staticd after {inStaticd.TotalMilliseconds:0} ms more, at U after {atUpstream.TotalMilliseconds:0} ms more; " +
                $"SIGHUP -> VIP api at U: {hupToUpstream.TotalMilliseconds:0} ms");

            // (b) A bad file: the second VIP's prefix is not an address. SIGHUP -> refused, the daemon keeps generation 2.
            string bad = twoVips.Replace($"prefix: {SecondVip}", "prefix: 203.0.113.300/32", StringComparison.Ordinal);
            int badLine = bad[..bad.IndexOf("203.0.113.300", StringComparison.Ordinal)].Count(c => c == '\n') + 1;
            await File.WriteAllTextAsync(configPath, bad);
            var routesBefore = Describe(await frr.ListVipRoutesAsync());
            seq = await LastSeqAsync(api);
            int logLength = File.ReadAllText(daemon.OutputPath).Length;
            sw.Restart();
            daemon.Signal(LabProcess.SIGHUP);
            var refused = await OverlaydEndToEndTests.PollAsync("reload rejected event", async _ =>
                (await EventsAsync(api, seq)).Any(e => e.Source == EventSource.Config && e.What == "reload rejected"), daemon);
            string log = File.ReadAllText(daemon.OutputPath)[logLength..];
            var rejected = Assert.Single(LogEntries(log), e => e.Event == "ConfigReloadRejected");
            output.WriteLine($"SIGHUP (bad file) -> rejected: {refused.TotalMilliseconds:0} ms; overlayd logged ({rejected.Level}): {rejected.Message}");
            Assert.Equal("Error", rejected.Level);
            Assert.Equal(configPath, rejected.Properties.GetProperty("Path").GetString());
            string errors = rejected.Properties.GetProperty("Errors").GetString()!;
            Assert.Contains($"{configPath}:{badLine}:", errors); // file and line of the bad value
            Assert.Contains("203.0.113.300", errors);
            Assert.Contains("keeping the last good configuration", rejected.Message);

            // Still up, still on generation 2 with both VIPs advertised; a pass of the loop later, nothing was written.
            var afterRefusal = DateTimeOffset.UtcNow;
            await OverlaydEndToEndTests.PollAsync("a VIP evaluation after the refused reload", async _ =>
                (await OverlaydEndToEndTests.StatusAsync(api)).GetProperty("lastEvaluation").GetDateTimeOffset() > afterRefusal, daemon);
            Assert.False(daemon.HasExited);
            var status = await OverlaydEndToEndTests.StatusAsync(api);
            Assert.Equal(2, status.GetProperty("configGeneration").GetInt32());
            foreach (var name in new[] { "web", "api" })
                Assert.Equal("advertised", Vip(status, name)?.GetProperty("running").GetString());
            Assert.DoesNotContain(await EventsAsync(api, seq), e => e.Source == EventSource.Writer);
            Assert.Equal(routesBefore, Describe(await frr.ListVipRoutesAsync()));
            Assert.True(await atU(NodeLab.Vip)(CancellationToken.None) && await atU(SecondVip)(CancellationToken.None), "U keeps both VIPs");

            // Fixing the file and sending SIGHUP again is all an operator has to do.
            await File.WriteAllTextAsync(configPath, oneVip);
            sw.Restart();
            daemon.Signal(LabProcess.SIGHUP);
            var removed = await OverlaydEndToEndTests.PollAsync("VIP api gone at U after the fixed reload", async ct => !await atU(SecondVip)(ct), daemon);
            Assert.Equal(3, (await OverlaydEndToEndTests.StatusAsync(api)).GetProperty("configGeneration").GetInt32());
            Assert.True(await atU(NodeLab.Vip)(CancellationToken.None));
            output.WriteLine($"SIGHUP (second VIP removed) -> VIP api gone at U: {removed.TotalMilliseconds:0} ms");
        }
        catch
        {
            if (daemon is not null) output.WriteLine($"{daemon} output:\n" + OverlaydEndToEndTests.Tail(daemon.OutputPath));
            throw;
        }
        finally
        {
            if (daemon is { HasExited: false }) await daemon.StopAsync(TimeSpan.FromSeconds(5));
            dir.Delete(recursive: true);
        }
    }

    private sealed record LogEntry(string Level, string? Event, string Message, JsonElement Properties);

    /// <summary>overlayd's stdout (not a terminal): one JSON object per line (Serilog); other lines are skipped.</summary>
    private static List<LogEntry> LogEntries(string text)
    {
        var entries = new List<LogEntry>();
        // The last element is empty or a line still being written.
        foreach (var line in text.Split('\n')[..^1])
        {
            if (!line.StartsWith('{')) continue;
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var props = root.TryGetProperty("Properties", out var p) ? p.Clone() : default;
            string? ev = props.ValueKind == JsonValueKind.Object && props.TryGetProperty("EventId", out var id) && id.TryGetProperty("Name", out var name) ? name.GetString() : null;
            entries.Add(new LogEntry(root.GetProperty("Level").GetString()!, ev, root.GetProperty("RenderedMessage").GetString()!, props));
        }
        return entries;
    }

    private static JsonElement? Vip(JsonElement response, string name) =>
        response.GetProperty("vips").EnumerateArray().Where(v => v.GetProperty("name").GetString() == name).Select(v => (JsonElement?)v).FirstOrDefault();

    private static string Describe(IEnumerable<Overlay.Frr.Routing.StaticRoute> routes) =>
        string.Join("; ", routes.Select(r => r.ToString()).Order(StringComparer.Ordinal));

    private static async Task<long> LastSeqAsync(HttpClient api) =>
        (await OverlaydEndToEndTests.GetJsonAsync(api, "/v1/events?since=0&max=1")).GetProperty("lastSeq").GetInt64();

    private static async Task<IReadOnlyList<OverlayEvent>> EventsAsync(HttpClient api, long since)
    {
        var page = await OverlaydEndToEndTests.GetJsonAsync(api, $"/v1/events?since={since}");
        return [.. page.GetProperty("events").EnumerateArray().Select(e => new OverlayEvent(
            e.GetProperty("seq").GetInt64(), e.GetProperty("time").GetDateTimeOffset(), Enum.Parse<EventSource>(e.GetProperty("source").GetString()!),
            e.GetProperty("subject").GetString()!, e.GetProperty("what").GetString()!,
            e.TryGetProperty("old", out var o) ? o.GetString() : null, e.TryGetProperty("new", out var nw) ? nw.GetString() : null,
            e.TryGetProperty("reason", out var r) ? r.GetString() : null))];
    }
}
