using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Northbound;

namespace Overlay.Lab.Scenarios;

/// <summary>
/// The running anycast lab (<see cref="AnycastTopology"/>), built from render's output: the lab brings up the underlay,
/// U and empty FRR daemons, writes the key files, renders the sites and the client from the lab's inventory and applies
/// each node's folder as a node would (<see cref="RenderedDeployment"/>: WireGuard files, frr.conf through vtysh), then
/// starts overlayd on each site from its rendered overlayd.yaml (and on the client when asked). Dispose tears it all down.
/// </summary>
public sealed partial class AnycastLab : IAsyncDisposable
{
    public static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    private const string WireGuardGo = "/usr/bin/wireguard-go";

    private readonly Dictionary<AnycastSite, OverlaydApi> _apis = [];
    private readonly string _overlaydDll;

    private AnycastLab(AnycastTopology topology, RunningLab lab, string overlaydDll)
    {
        Topology = topology;
        Lab = lab;
        _overlaydDll = overlaydDll;
    }

    public AnycastTopology Topology { get; }
    public RunningLab Lab { get; }

    /// <summary>One clock for every timing of a run (route watcher, fault injection, probes).</summary>
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    /// <summary>Changes of the VIP route in the upstream's kernel, timestamped on <see cref="Clock"/>.</summary>
    public RouteWatcher UpstreamVip { get; private set; } = null!;

    public TimeSpan Now => Clock.Elapsed;

    /// <summary>Brings the lab up, starts wireguard-go and overlayd and waits for the upstream to prefer site 1 and the client to ping through its tunnel.</summary>
    public static async Task<AnycastLab> StartAsync(AnycastTopology topology, ILogger? logger = null, CancellationToken ct = default)
    {
        string dll = OverlaydBinary.Require();
        var lab = await RunningLab.StartAsync(topology.Topology, logger, ct: ct).ConfigureAwait(false);
        var any = new AnycastLab(topology, lab, dll);
        try
        {
            await any.BringUpAsync(ct).ConfigureAwait(false);
            return any;
        }
        catch (Exception e)
        {
            // The run directory goes with the lab: say what each site saw before it is removed.
            if (logger is not null && e is not OperationCanceledException)
                logger.LogWarning("anycast lab {RunId} did not converge ({Error}); state before teardown:\n{State}", lab.RunId, e.Message,
                    await any.DiagnosticsAsync(CancellationToken.None).ConfigureAwait(false));
            await any.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A text dump for failure reports: each site's overlayd output tail, BFD peers, static and BGP state; the upstream's BGP view.</summary>
    public async Task<string> DiagnosticsAsync(CancellationToken ct = default)
    {
        var sb = new StringBuilder();
        async Task Add(string title, Func<Task<string>> get)
        {
            string text;
            try { text = await get().ConfigureAwait(false); }
            catch (Exception e) when (e is LabException or IOException or InvalidOperationException or ArgumentException) { text = "(" + e.Message + ")"; }
            sb.Append("--- ").AppendLine(title).AppendLine(text.TrimEnd());
        }
        foreach (var s in Topology.Sites)
        {
            await Add($"{s.Name} overlayd output (tail)", () =>
            {
                var lines = File.Exists(Path.Combine(Lab.NodeDirectory(s.Node), "overlayd.out")) ? File.ReadAllLines(Path.Combine(Lab.NodeDirectory(s.Node), "overlayd.out")) : [];
                return Task.FromResult(string.Join('\n', lines.TakeLast(40)));
            }).ConfigureAwait(false);
            await Add($"{s.Name} show bfd peers brief", async () => (await Lab.VtyshAsync(s.Node, FrrDaemon.Bfdd, "show bfd peers brief", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
            await Add($"{s.Name} show ip route", async () => (await Lab.VtyshAsync(s.Node, FrrDaemon.Zebra, "show ip route", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
            await Add($"{s.Name} wg show", async () => (await Lab.ExecAsync(s.Node, $"wg show {s.AnycastInterface} | grep -v 'private key'", ct: ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        }
        await Add("u show bgp ipv4 unicast", async () => (await Lab.VtyshAsync(Topology.Upstream, FrrDaemon.Bgpd, "show bgp ipv4 unicast", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        await Add("u show bfd peers brief", async () => (await Lab.VtyshAsync(Topology.Upstream, FrrDaemon.Bfdd, "show bfd peers brief", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        return sb.ToString();
    }

    /// <summary>Where each node's rendered folder is: RUN/rendered/NODE/ (and RUN/rendered-nowatchdog/c/ for the client without its watchdog).</summary>
    public string RenderedDirectory => Path.Combine(Lab.RunDirectory, "rendered");
    public string RenderedNodeDirectory(LabNode node) => Path.Combine(RenderedDirectory, node.Name);
    private string RenderedClientWithoutWatchdog => Path.Combine(Lab.RunDirectory, "rendered-nowatchdog", Topology.Client.Name);

    private async Task BringUpAsync(CancellationToken ct)
    {
        var t = Topology;
        UpstreamVip = RouteWatcher.Start(t.Upstream, AnycastTopology.Vip, Clock);

        // What the machines have before Overlay (the lab's part): key files, underlay default routes to U, the site nft
        // rules of examples/nftables/anycast-wireguard-site.nft (sites answer clients only from the VIP and never initiate
        // handshakes to them; why: docs/anycast.md; U's health peer talks to the site's underlay address and is left alone).
        t.WriteKeyFiles();
        await ExecOkAsync(t.Client, $"ip route add default via {t.ClientLink.AddressOf(t.Upstream)}", ct).ConfigureAwait(false);
        foreach (var s in t.Sites)
        {
            await ExecOkAsync(s.Node, $"ip route add default via {s.Uplink.AddressOf(t.Upstream)}", ct).ConfigureAwait(false);
            string rules = SiteNftRules(AnycastTopology.VipAddress, AnycastTopology.AnycastPort, s.Uplink.AddressOf(t.Upstream));
            await ExecOkAsync(s.Node, $"nft -f - <<'EOF'\n{rules}EOF", ct).ConfigureAwait(false);
        }
        // U (the provider's router, not an overlay node): its health WireGuard interface toward each site.
        foreach (var s in t.Sites) await StartUpstreamHealthWireGuardAsync(s, ct).ConfigureAwait(false);

        // Render every overlay node (and the client once more with watchdog: false, for SetClientWatchdogAsync), then
        // apply: sysctl drop-in, WireGuard files, frr.conf.
        foreach (var n in t.OverlayNodes)
        {
            string variant = Path.Combine(Lab.NodeDirectory(n), "inventory.yaml");
            await File.WriteAllTextAsync(variant, t.InventoryYamlFor(n, Lab.NodeDirectory(n)), ct).ConfigureAwait(false);
            await LabRenderer.InProcess.RenderAsync(variant, n.Name, RenderedDirectory, ct).ConfigureAwait(false);
        }
        string noWatchdog = Path.Combine(Lab.NodeDirectory(t.Client), "inventory-nowatchdog.yaml");
        await File.WriteAllTextAsync(noWatchdog, t.InventoryYamlFor(t.Client, Lab.NodeDirectory(t.Client), clientWatchdog: false), ct).ConfigureAwait(false);
        await LabRenderer.InProcess.RenderAsync(noWatchdog, t.Client.Name, Path.GetDirectoryName(RenderedClientWithoutWatchdog)!, ct).ConfigureAwait(false);
        foreach (var n in t.OverlayNodes)
        {
            await RenderedDeployment.ApplySysctlAsync(Lab, n, RenderedNodeDirectory(n), ct).ConfigureAwait(false);
            foreach (var wg in RenderedDeployment.WireGuardFiles(RenderedNodeDirectory(n)))
                await RenderedDeployment.StartWireGuardAsync(Lab, n, wg, ct).ConfigureAwait(false);
        }
        foreach (var n in t.OverlayNodes)
            await RenderedDeployment.ApplyFrrAsync(Lab, n, RenderedNodeDirectory(n), ct).ConfigureAwait(false);
        // Measurement only: the benchmark's calibration prefix may leave the sites too (render's prefix-list holds the VIP).
        foreach (var s in t.Sites)
            await ExecOkAsync(s.Node, Command.Quote(["vtysh", "-N", s.Node.FrrPathspace, "-c", "configure terminal",
                "-c", $"ip prefix-list {CalibrationPrefixList} seq 100 permit {AnycastTopology.CalibrationPrefix}"]), ct).ConfigureAwait(false);

        foreach (var s in t.Sites)
            await Poll.UntilAsync($"{s.Name} pings the upstream through {s.AnycastInterface}",
                c => Lab.PingAsync(s.Node, s.UpstreamHealthAddress.Address, c), ConvergeTimeout, ct: ct).ConfigureAwait(false);

        foreach (var s in t.Sites) StartOverlayd(s);
        await Poll.UntilAsync("both overlayd advertise the VIP (upstream has both sites' paths)", async c =>
        {
            foreach (var s in t.Sites)
                if (Overlayd(s) is { HasExited: true } dead) throw new LabProcessExitedException(dead, dead.OutputPath);
            return (await UpstreamBgpPathsAsync(c).ConfigureAwait(false)).Count == 2;
        }, ConvergeTimeout, ct: ct).ConfigureAwait(false);
        await WaitUntilUpstreamPrefersAsync(t.Site1, ConvergeTimeout, ct).ConfigureAwait(false);
        await WaitUntilClientPingsAsync(ConvergeTimeout, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Restarts a SIGKILLed FRR daemon of a site (or the client) and applies render's frr.conf again, as a node's FRR
    /// service does at start (integrated configuration, <c>vtysh -b</c>): the lab starts daemons empty and applies the
    /// file with vtysh, so a restarted daemon would otherwise come back without its configuration.
    /// </summary>
    public async Task RestartFrrDaemonAsync(LabProcess daemon, CancellationToken ct = default)
    {
        await Lab.RestartAsync(daemon).ConfigureAwait(false);
        await RenderedDeployment.ApplyFrrAsync(Lab, daemon.Node, RenderedNodeDirectory(daemon.Node), ct).ConfigureAwait(false);
        if (Topology.Sites.Any(s => s.Node == daemon.Node))
            await ExecOkAsync(daemon.Node, Command.Quote(["vtysh", "-N", daemon.Node.FrrPathspace, "-c", "configure terminal",
                "-c", $"ip prefix-list {CalibrationPrefixList} seq 100 permit {AnycastTopology.CalibrationPrefix}"]), ct).ConfigureAwait(false);
    }

    /// <summary>Render's VIP prefix-list (the lab adds the calibration prefix to it).</summary>
    private const string CalibrationPrefixList = "OVERLAY-VIPS";

    // ---------------------------------------------------------------- observations

    /// <summary>The upstream's kernel route for the VIP ("" when it has none).</summary>
    public Task<string> UpstreamVipRouteAsync(CancellationToken ct = default) => Lab.KernelRouteAsync(Topology.Upstream, AnycastTopology.Vip, ct);

    /// <summary>Which sites' paths the upstream's BGP has for the VIP (from bgpd's JSON).</summary>
    public async Task<IReadOnlyList<AnycastSite>> UpstreamBgpPathsAsync(CancellationToken ct = default)
    {
        var r = await Lab.VtyshAsync(Topology.Upstream, FrrDaemon.Bgpd, $"show bgp ipv4 unicast {AnycastTopology.Vip} json", ct).ConfigureAwait(false);
        return [.. Topology.Sites.Where(s => r.StdOut.Contains($"\"peerId\":\"{s.UnderlayAddress}\"", StringComparison.Ordinal)
                                          || r.StdOut.Contains($"\"ip\":\"{s.UnderlayAddress}\"", StringComparison.Ordinal))];
    }

    /// <summary>Waits until the upstream's kernel routes the VIP to <paramref name="site"/> (null: has no route); returns when the route changed, on <see cref="Clock"/>.</summary>
    public async Task<TimeSpan> WaitUntilUpstreamPrefersAsync(AnycastSite? site, TimeSpan timeout, CancellationToken ct = default, TimeSpan? since = null)
    {
        var start = since ?? Now;
        await Poll.UntilAsync(site is null ? "upstream has no VIP route" : $"upstream routes the VIP to {site.Name}", async c =>
        {
            string route = await UpstreamVipRouteAsync(c).ConfigureAwait(false);
            return site is null ? route.Length == 0 : Topology.SiteOfRoute(route + " ") == site;
        }, timeout, TimeSpan.FromMilliseconds(10), ct).ConfigureAwait(false);
        // The monitor saw the change before the poll did; fall back to the poll when it saw nothing (already converged).
        return UpstreamVip.LastChangeSince(start) ?? Now;
    }

    /// <summary>Waits until the upstream's BGP holds (or no longer holds) a path from <paramref name="site"/>; returns the clock time it was seen.</summary>
    public async Task<TimeSpan> WaitUntilUpstreamHasPathAsync(AnycastSite site, bool present, TimeSpan timeout, CancellationToken ct = default)
    {
        await Poll.UntilAsync($"upstream {(present ? "has" : "lost")} {site.Name}'s path", async c =>
            (await UpstreamBgpPathsAsync(c).ConfigureAwait(false)).Contains(site) == present, timeout, TimeSpan.FromMilliseconds(20), ct).ConfigureAwait(false);
        return Now;
    }

    /// <summary>Pings the site side of the tunnel from the client until answered; returns the clock time of the first answer.</summary>
    public async Task<TimeSpan> WaitUntilClientPingsAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        await Poll.UntilAsync("client pings 10.99.0.1 through its tunnel to the VIP", async c =>
            (await Lab.ExecAsync(Topology.Client, $"ping -n -q -c 1 -W 0.2 {AnycastTopology.SiteTunnelAddress.Address}", TimeSpan.FromSeconds(5), c).ConfigureAwait(false)).Succeeded,
            timeout, TimeSpan.FromMilliseconds(10), ct).ConfigureAwait(false);
        return Now;
    }

    /// <summary>
    /// Pings through the client's tunnel until a ping is answered by <paramref name="site"/> (its handshake with the client
    /// is the latest). The traffic matters: a client whose session is with the other site re-handshakes only when data it
    /// sends goes unanswered for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s); an idle client keeps its session until rekey.
    /// </summary>
    public async Task<TimeSpan> WaitUntilClientTrafficAtAsync(AnycastSite site, TimeSpan timeout, CancellationToken ct = default)
    {
        await Poll.UntilAsync($"client pings through its tunnel and is served by {site.Name}", async c =>
            (await Lab.ExecAsync(Topology.Client, $"ping -n -q -c 1 -W 0.2 {AnycastTopology.SiteTunnelAddress.Address}", TimeSpan.FromSeconds(5), c).ConfigureAwait(false)).Succeeded
            && await ClientSiteAsync(c).ConfigureAwait(false) == site,
            timeout, TimeSpan.FromMilliseconds(10), ct).ConfigureAwait(false);
        return Now;
    }

    /// <summary>The client's current WireGuard endpoint for the anycast peer (WireGuard roams to the source of authenticated replies).</summary>
    public async Task<string> ClientEndpointAsync(CancellationToken ct = default) =>
        (await Lab.ExecAsync(Topology.Client, $"wg show {Topology.ClientInterface} endpoints", ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Split('\t').Last().Trim();

    /// <summary>Which site's anycast interface last handshook with the client (the most recent handshake wins).</summary>
    public async Task<AnycastSite?> ClientSiteAsync(CancellationToken ct = default)
    {
        AnycastSite? best = null;
        long bestTime = 0;
        foreach (var s in Topology.Sites)
        {
            var r = await Lab.ExecAsync(s.Node, $"wg show {s.AnycastInterface} latest-handshakes", ct: ct).ConfigureAwait(false);
            if (!r.Succeeded) continue;
            foreach (var line in r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split('\t');
                if (f.Length == 2 && f[0] == Topology.PublicKey("c") && long.TryParse(f[1], CultureInfo.InvariantCulture, out long at) && at > bestTime)
                    (best, bestTime) = (s, at);
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- overlayd

    /// <summary>The site's overlayd.yaml: render's file, used in place.</summary>
    public string OverlaydConfigPath(AnycastSite site) => RenderedDeployment.OverlaydPath(RenderedNodeDirectory(site.Node));
    public string OverlaydSocketPath(AnycastSite site) => Path.Combine(Lab.NodeDirectory(site.Node), "overlayd.sock");

    public LabProcess Overlayd(AnycastSite site) => Lab.Process(site.Node, "overlayd");

    /// <summary>overlayd's control API on a site (its Unix socket).</summary>
    public OverlaydApi Api(AnycastSite site)
    {
        lock (_apis)
        {
            if (!_apis.TryGetValue(site, out var api)) _apis[site] = api = new OverlaydApi(OverlaydSocketPath(site));
            return api;
        }
    }

    /// <summary>Starts the real overlayd in the site's namespace from its rendered overlayd.yaml.</summary>
    public LabProcess StartOverlayd(AnycastSite site)
    {
        File.Delete(OverlaydSocketPath(site)); // a SIGKILLed daemon leaves its socket behind
        return Lab.StartProcess(site.Node, OverlaydBinary.Spec(OverlaydConfigPath(site), _overlaydDll));
    }

    // ---------------------------------------------------------------- faults and repairs

    /// <summary>SIGKILLs the site's anycast wireguard-go (its TUN and UAPI socket vanish with it).</summary>
    public LabProcess SiteWireGuard(AnycastSite site) => Lab.Process(site.Node, site.AnycastInterface);

    /// <summary>Starts the site's anycast wireguard-go again from its rendered file (same key, as after a crash and a service restart).</summary>
    public async Task RestoreSiteWireGuardAsync(AnycastSite site, CancellationToken ct = default)
    {
        await SiteWireGuard(site).WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        await RenderedDeployment.StartWireGuardAsync(Lab, site.Node, Path.Combine(RenderedNodeDirectory(site.Node), "wireguard", site.AnycastInterface + ".conf"), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Silent tunnel death: a firewall in the site's namespace drops the health tunnel's UDP both ways. No link
    /// changes and BGP (TCP on the same veth) stays up, so only WireGuard/BFD can notice. A blackhole route or a
    /// downed veth would also cut the BGP session and measure bgpd, not the health check.
    /// </summary>
    public Task SilenceHealthTunnelAsync(AnycastSite site, bool silent, CancellationToken ct = default) =>
        // One nft transaction: both directions start dropping at the same instant the benchmark's clock starts.
        ExecOkAsync(site.Node, silent
            ? "nft -f - <<'EOF'\ntable ip olabsilence {\n"
              + $" chain out {{ type filter hook output priority 0; udp dport {site.UpstreamHealthPort} drop; }}\n"
              + $" chain in {{ type filter hook input priority 0; udp sport {site.UpstreamHealthPort} drop; }}\n}}\nEOF"
            : "nft delete table ip olabsilence", ct);

    /// <summary>The example site rules with the lab's values in place of the operator-edited defines.</summary>
    internal static string SiteNftRules(IPAddress vip, int port, IPAddress healthPeer)
    {
        using var stream = typeof(AnycastLab).Assembly.GetManifestResourceStream("anycast-wireguard-site.nft")
            ?? throw new InvalidOperationException("anycast-wireguard-site.nft is not embedded in overlay-lab");
        string text = new StreamReader(stream).ReadToEnd();
        var values = new Dictionary<string, string>
        {
            ["VIP"] = vip.ToString(), ["WG_PORT"] = port.ToString(CultureInfo.InvariantCulture), ["HEALTH_PEERS"] = $"{{ {healthPeer} }}",
        };
        return DefineLine().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var v) ? $"define {m.Groups[1].Value} = {v}"
            : throw new InvalidOperationException($"anycast-wireguard-site.nft: no lab value for 'define {m.Groups[1].Value}'"));
    }

    [GeneratedRegex(@"^define (\w+) = .*$", RegexOptions.Multiline)]
    private static partial Regex DefineLine();

    // ---------------------------------------------------------------- BFD timers (benchmark)

    /// <summary>Both ends of a site's health BFD session: (router, peer address, local address, interface).</summary>
    private IEnumerable<(LabNode Node, IPAddress Peer, IPAddress Local, string Interface)> BfdEnds(AnycastSite site) =>
    [
        (site.Node, site.UpstreamHealthAddress.Address, site.HealthAddress.Address, site.AnycastInterface),
        (Topology.Upstream, site.HealthAddress.Address, site.UpstreamHealthAddress.Address, site.UpstreamHealthInterface),
    ];

    /// <summary>
    /// Sets the BFD timers of a site's health session on both ends (bfdd's live configuration, as an operator's
    /// vtysh would) and waits until the session is Up with them. BFD's poll sequence switches without a flap.
    /// </summary>
    public async Task SetBfdTimersAsync(AnycastSite site, int intervalMs, int multiplier, CancellationToken ct = default)
    {
        foreach (var (node, peer, local, ifname) in BfdEnds(site))
            (await Command.RunAsync("vtysh",
            [
                "-N", node.FrrPathspace, "-d", "bfdd", "-c", "configure terminal", "-c", "bfd", "-c", AnycastTopology.BfdPeerCommand(peer, local, ifname),
                "-c", $"receive-interval {intervalMs}", "-c", $"transmit-interval {intervalMs}", "-c", $"detect-multiplier {multiplier}",
            ], TimeSpan.FromSeconds(15), null, ct).ConfigureAwait(false)).EnsureSuccess();
        await Poll.UntilAsync($"{site.Name}'s BFD session Up at {intervalMs} ms x {multiplier} on both ends", async c =>
        {
            foreach (var (node, peer, local, ifname) in BfdEnds(site))
            {
                var r = await Lab.VtyshAsync(node, FrrDaemon.Bfdd, $"show bfd {AnycastTopology.BfdPeerCommand(peer, local, ifname)} json", c).ConfigureAwait(false);
                using var doc = JsonDocument.Parse(r.StdOut);
                var o = doc.RootElement;
                if (o.GetProperty("status").GetString() != "up" || o.GetProperty("transmit-interval").GetInt32() != intervalMs
                    || o.GetProperty("remote-transmit-interval").GetInt32() != intervalMs || o.GetProperty("detect-multiplier").GetInt32() != multiplier)
                    return false;
            }
            return true;
        }, ConvergeTimeout, ct: ct).ConfigureAwait(false);
    }

    /// <summary>How many times each end of the site's health BFD session has gone down since bfdd started (site's count, upstream's count).</summary>
    public async Task<(long Site, long Upstream)> BfdSessionDownCountsAsync(AnycastSite site, CancellationToken ct = default)
    {
        var counts = new List<long>();
        foreach (var (node, peer, local, ifname) in BfdEnds(site))
        {
            var r = await Lab.VtyshAsync(node, FrrDaemon.Bfdd, $"show bfd {AnycastTopology.BfdPeerCommand(peer, local, ifname)} counters json", ct).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(r.EnsureSuccess().StdOut);
            counts.Add(doc.RootElement.GetProperty("session-down").GetInt64());
        }
        return (counts[0], counts[1]);
    }

    /// <summary>
    /// When the site's bfdd declared its health session down (wall clock, from <see cref="AnycastTopology.BfdStateLog"/>), for every such change at or after <paramref name="since"/>.
    /// </summary>
    public IReadOnlyList<DateTimeOffset> BfdDownTimes(AnycastSite site, DateTimeOffset since)
    {
        var times = new List<DateTimeOffset>();
        string path = AnycastTopology.BfdStateLog(site.Node);
        if (!File.Exists(path)) return times;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is { } line)
        {
            // "2026/11/22 03:04:12.123456 BFD: [XXXXX-XXXXX] state-change: [mhop:no peer:... ] up -> down reason:control-expired"
            if (!line.Contains("state-change:", StringComparison.Ordinal) || !line.Contains(" up -> down", StringComparison.Ordinal) || line.Length < 26) continue;
            if (!DateTime.TryParseExact(line[..26], "yyyy/MM/dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var local)) continue;
            var at = new DateTimeOffset(local);
            if (at >= since) times.Add(at);
        }
        return times;
    }

    // ---------------------------------------------------------------- U's health interfaces (lab-written)

    /// <summary>U's end of a site's health peer: its own key, the VIP's shared public key as peer, the site's endpoint (its inventory endpoint's host, the anycast port).</summary>
    private async Task StartUpstreamHealthWireGuardAsync(AnycastSite s, CancellationToken ct)
    {
        var t = Topology;
        string ifname = s.UpstreamHealthInterface;
        WireGuardGoSocket.RemoveStale(ifname);
        var p = Lab.StartProcess(t.Upstream, new LabProcessSpec(ifname, WireGuardGo, ["-f", ifname])
        {
            Environment = new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1", ["LOG_LEVEL"] = "error" },
        });
        await Poll.UntilAsync($"wireguard-go {ifname} listens on {WireGuardGoSocket.PathOf(ifname)}", () =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
            return WireGuardGoSocket.IsListening(ifname);
        }, RunningLab.DefaultReadyTimeout, ct: ct).ConfigureAwait(false);
        await ExecOkAsync(t.Upstream, Command.Quote(["wg", "set", ifname,
            "private-key", t.KeyFile("u" + s.Number), "listen-port", $"{s.UpstreamHealthPort}",
            "peer", t.PublicKey("anycast"), "allowed-ips", $"{s.HealthAddress.Address}/32",
            "endpoint", $"{s.UnderlayAddress}:{AnycastTopology.AnycastPort}", "persistent-keepalive", "1"]), ct).ConfigureAwait(false);
        await ExecOkAsync(t.Upstream, $"ip addr add {s.UpstreamHealthAddress} dev {ifname}", ct).ConfigureAwait(false);
        await ExecOkAsync(t.Upstream, $"ip link set {ifname} up", ct).ConfigureAwait(false);
    }

    private async Task ExecOkAsync(LabNode node, string command, CancellationToken ct) =>
        (await Lab.ExecAsync(node, command, ct: ct).ConfigureAwait(false)).EnsureSuccess();

    public async ValueTask DisposeAsync()
    {
        lock (_apis)
        {
            foreach (var a in _apis.Values) a.Dispose();
            _apis.Clear();
        }
        _clientApi?.Dispose();
        UpstreamVip?.Dispose();
        // overlayd first, gracefully but briefly: its SIGTERM path withdraws, and a clean exit keeps its logs readable.
        foreach (var s in Topology.Sites)
        {
            try
            {
                if (Lab.Processes().FirstOrDefault(p => p.Node == s.Node && p.Name == "overlayd") is { HasExited: false } d)
                    await d.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException) { }
        }
        await Lab.DisposeAsync().ConfigureAwait(false);
    }
}
