using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Overlay.Lab;
using Overlay.Lab.Scenarios;

namespace Overlay.Daemon.Tests.Live;

/// <summary>
/// The alert rules fed with what a real overlayd exported: node A's overlayd (real FRR, wireguard-go, eBGP upstream) is
/// scraped while healthy and again after its only tunnel peer died; promtool then replays the two scrapes as a Prometheus
/// would have seen them and must raise no alert for the healthy node and the outage alerts for the broken one. This is
/// what proves the rules' label joins (VIP prefix, instance) match the labels overlayd really writes.
/// </summary>
[Collection(LiveDaemonCollection.Name)]
public sealed class AlertRulesLiveTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_healthy_node_raises_no_alert_and_a_dead_tunnel_raises_the_outage_alerts()
    {
        string? missing = NodeLab.Missing();
        Skip.If(missing is not null, missing);
        Promtool.Find();
        string dll = OverlaydEndToEndTests.OverlaydDll();
        var n = new NodeLab();
        var dir = Directory.CreateTempSubdirectory("overlayd-alerts-");
        await using var lab = await RunningLab.StartAsync(n.Topology, new LineLogger(output.WriteLine));
        try
        {
            await n.WaitConvergedAsync(lab, output);
            string configPath = Path.Combine(dir.FullName, "overlayd.yaml");
            var config = OverlaydEndToEndTests.ConfigOf(n, lab, Path.Combine(dir.FullName, "overlayd.sock"), n.LeaseName("m"));
            await File.WriteAllTextAsync(configPath, Overlay.Core.Config.NodeConfigYaml.Write(config));
            int port = config.Metrics!.Listen.Port;
            using var metrics = MetricsClient(lab, n.A, port);
            var daemon = lab.StartProcess(n.A, OverlaydBinary.Spec(configPath, dll));
            string iface = n.Tunnel.InterfaceA;

            // 1. Healthy: the VIP is at the upstream and the scrape says so.
            await OverlaydEndToEndTests.PollAsync("VIP at U", ct => NodeLab.UpstreamHasVipAsync(lab, n.U, NodeLab.Vip, ct), daemon);
            string healthy = await ScrapeUntilAsync(metrics, daemon, "healthy scrape",
                $"overlay_bfd_session_up{{peer=\"10.255.0.1\",interface=\"{iface}\"}} 1", "overlay_vip_advertised{vip=\"web\"} 1",
                $"overlay_interface_healthy{{interface=\"{iface}\"}} 1", "overlay_wireguard_peer_last_handshake_age_seconds{");

            // 2. The tunnel peer dies: BFD goes down, overlayd withdraws the VIP.
            lab.WireGuardProcess(n.Tunnel, n.P).Kill();
            await OverlaydEndToEndTests.PollAsync("VIP gone at U", async ct => !await NodeLab.UpstreamHasVipAsync(lab, n.U, NodeLab.Vip, ct), daemon);
            string broken = await ScrapeUntilAsync(metrics, daemon, "broken scrape",
                $"overlay_bfd_session_up{{peer=\"10.255.0.1\",interface=\"{iface}\"}} 0", "overlay_vip_advertised{vip=\"web\"} 0",
                $"overlay_interface_healthy{{interface=\"{iface}\"}} 0");
            daemon.Signal(LabProcess.SIGTERM);
            await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15));

            // 3. Replay: the healthy scrape every 15 s for 3 minutes, then the broken one for 5.
            File.Copy(OperationsArtifactsTests.RulesFile, Path.Combine(dir.FullName, "overlay-rules.yaml"));
            string test = ReplayTest(healthy, broken, NodeLab.Vip.ToString());
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "replay.test.yaml"), test);
            var (rc, text) = Promtool.Run(output, dir.FullName, "test", "rules", "replay.test.yaml");
            Assert.True(rc == 0, $"the rules did not judge the real scrapes as expected:\n{text}\n{test}");
        }
        catch
        {
            foreach (var p in lab.Processes().Where(p => p.Name == "overlayd"))
                output.WriteLine($"{p} output:\n" + OverlaydEndToEndTests.Tail(p.OutputPath));
            throw;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private const int HealthySamples = 13;  // 0 .. 3m at 15 s
    private const int BrokenSamples = 20;   // 3m15s .. 8m

    /// <summary>A promtool test: every series of both scrapes (job and instance added as a scrape would), then the expectations.</summary>
    private static string ReplayTest(string healthy, string broken, string vipPrefix)
    {
        var a = Samples(healthy);
        var b = Samples(broken);
        var sb = new StringBuilder();
        sb.Append("rule_files: [overlay-rules.yaml]\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n");
        sb.Append($"      - series: 'up{{job=\"overlayd\",instance=\"a\"}}'\n        values: '1+0x{HealthySamples + BrokenSamples - 1}'\n");
        foreach (var series in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            string first = a.TryGetValue(series, out var va) ? $"{va}+0x{HealthySamples - 1}" : $"_x{HealthySamples}";
            string second = b.TryGetValue(series, out var vb) ? $"{vb}+0x{BrokenSamples - 1}" : "stale";
            sb.Append($"      - series: '{series}'\n        values: '{first} {second}'\n");
        }
        sb.Append($$"""
                promql_expr_test:
                  # Healthy (at 2m45s every "for" has had time to pass): no alert at all.
                  - expr: count by (alertname) (ALERTS{alertstate="firing"})
                    eval_time: 2m45s
                    exp_samples: []
                  - expr: vip_prefix:overlay_vip_advertised:sum
                    eval_time: 2m45s
                    exp_samples:
                      - labels: 'vip_prefix:overlay_vip_advertised:sum{vip="web",prefix="{{vipPrefix}}"}'
                        value: 1
                  # Broken for 3m45s: the VIP's only member withdrew it, BFD is down, the interface is unhealthy.
                  - expr: count by (alertname) (ALERTS{alertstate="firing",alertname=~"OverlayVipWithdrawnEverywhere|OverlayBfdDown|OverlayInterfaceUnhealthy"})
                    eval_time: 7m
                    exp_samples:
                      - labels: '{alertname="OverlayBfdDown"}'
                        value: 1
                      - labels: '{alertname="OverlayInterfaceUnhealthy"}'
                        value: 1
                      - labels: '{alertname="OverlayVipWithdrawnEverywhere"}'
                        value: 1

            """);
        return sb.ToString();
    }

    /// <summary>Series (with job="overlayd", instance="a" added) to value, from Prometheus text.</summary>
    private static Dictionary<string, string> Samples(string text)
    {
        var samples = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            int space = line.LastIndexOf(' ');
            string series = line[..space], value = line[(space + 1)..];
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v)) continue;
            int brace = series.IndexOf('{');
            series = brace < 0
                ? series + "{job=\"overlayd\",instance=\"a\"}"
                : series[..brace] + "{job=\"overlayd\",instance=\"a\"," + series[(brace + 1)..];
            samples[series] = value;
        }
        return samples;
    }

    private async Task<string> ScrapeUntilAsync(HttpClient metrics, LabProcess daemon, string what, params string[] expected)
    {
        string text = "";
        await OverlaydEndToEndTests.PollAsync(what + ": " + string.Join(", ", expected), async ct =>
        {
            text = await metrics.GetStringAsync("/metrics", ct);
            return expected.All(text.Contains);
        }, daemon);
        output.WriteLine($"--- {what}:\n{text}");
        return text;
    }

    /// <summary>An HTTP client whose connections are made inside the node's namespace (the listener is its loopback).</summary>
    private static HttpClient MetricsClient(RunningLab lab, LabNode node, int port) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = lab.CreateSocket(node, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                return new NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
}
