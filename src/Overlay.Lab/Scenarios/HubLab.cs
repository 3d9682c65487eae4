using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Northbound;

namespace Overlay.Lab.Scenarios;

/// <summary>How hub h1 is broken for spoke s1.</summary>
public enum HubBreak
{
    /// <summary>
    /// h1's wireguard-go for s1's tunnel is SIGKILLed: its TUN goes, h1's OSPF drops the adjacency at once and floods
    /// the change (via s2 and h2), so s1 learns without detecting anything itself.
    /// </summary>
    KillHubWireGuard,

    /// <summary>
    /// The s1-h1 underlay veth is set down on h1's side: both tunnel interfaces stay up and go silent, so only s1's
    /// BFD (100 ms x 3) or the OSPF dead interval (3 s) can tell.
    /// </summary>
    UnderlayDown,
}

/// <summary>What a <see cref="HubLab"/> runs beyond FRR and WireGuard.</summary>
public sealed record HubLabOptions
{
    /// <summary>How each node's folder is rendered (default: Overlay.Core's renderer in process).</summary>
    public LabRenderer Renderer { get; init; } = LabRenderer.InProcess;

    /// <summary>Start the real overlayd on every node from its rendered overlayd.yaml (default true).</summary>
    public bool Overlayd { get; init; } = true;
}

/// <summary>
/// The running hub-and-spoke lab (<see cref="HubSpokeTopology"/>), built from render's output: the lab brings up the
/// underlay, the LANs and empty FRR daemons, renders every node from the inventory, then applies each node's folder as
/// a node would (<see cref="RenderedDeployment"/>: sysctl drop-in, WireGuard files, frr.conf) and starts overlayd from
/// its rendered overlayd.yaml. The story is s1 reaching s2's LAN (<see cref="Destination"/>) via h1 or h2. Dispose
/// tears it all down.
/// </summary>
public sealed class HubLab : IAsyncDisposable
{
    public static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<LabNode, OverlaydApi> _apis = [];
    private readonly string? _overlaydDll;
    private readonly string? _overlayctlDll;

    private HubLab(HubSpokeTopology topology, RunningLab lab, string? overlaydDll, string? overlayctlDll)
    {
        Topology = topology;
        Lab = lab;
        _overlaydDll = overlaydDll;
        _overlayctlDll = overlayctlDll;
    }

    public HubSpokeTopology Topology { get; }
    public RunningLab Lab { get; }
    public string InventoryPath => Path.Combine(Lab.RunDirectory, "inventory.yaml");

    /// <summary>Where each node's rendered folder is: RUN/rendered/NODE/.</summary>
    public string RenderedDirectory => Path.Combine(Lab.RunDirectory, "rendered");
    public string RenderedNodeDirectory(LabNode node) => Path.Combine(RenderedDirectory, node.Name);

    /// <summary>The nodes overlayd runs on.</summary>
    public IReadOnlyList<LabNode> OverlaydNodes { get; private set; } = [];

    /// <summary>When the first frr.conf was applied (WireGuard already up everywhere): the start of initial convergence.</summary>
    public Stopwatch SinceFrrApplied { get; private set; } = new();

    /// <summary>An address on s2's LAN: what s1's route and <c>overlayctl explain</c> are about.</summary>
    public string Destination => Topology.S2.LanAddress.ToString();

    /// <summary>s1's tunnel interface to h1 (the primary hub).</summary>
    public string ViaPrimary => Topology.S1.ToPrimary.InterfaceOf(Topology.S1.Node);

    /// <summary>s1's tunnel interface to h2 (the secondary hub).</summary>
    public string ViaSecondary => Topology.S1.ToSecondary.InterfaceOf(Topology.S1.Node);

    /// <summary>
    /// Brings the lab up from rendered configuration and, unless told otherwise, starts overlayd on every node; returns
    /// when every overlayd answers on its control socket (routing may still be converging).
    /// </summary>
    public static async Task<HubLab> StartAsync(HubSpokeTopology topology, ILogger? logger = null, CancellationToken ct = default, HubLabOptions? options = null)
    {
        options ??= new HubLabOptions();
        string? overlayd = options.Overlayd ? OverlaydBinary.Require() : null;
        string? overlayctl = options.Overlayd ? Overlayctl.Require() : null;
        var lab = await RunningLab.StartAsync(topology.Topology, logger, ct: ct).ConfigureAwait(false);
        var hub = new HubLab(topology, lab, overlayd, overlayctl);
        try
        {
            // What a site has before Overlay: underlay, LANs, the private keys in place.
            await topology.PrepareUnderlayAsync(lab, ct).ConfigureAwait(false);
            await topology.AddLansAsync(lab, ct).ConfigureAwait(false);
            topology.WriteKeyFiles(lab.RunDirectory);
            File.WriteAllText(hub.InventoryPath, topology.InventoryYaml());

            // Render every node, then apply its folder: sysctl and WireGuard on all nodes first, then FRR, so that
            // initial convergence (SinceFrrApplied) is routing's alone.
            foreach (var n in topology.Topology.Nodes)
            {
                string variant = Path.Combine(lab.NodeDirectory(n), "inventory.yaml");
                File.WriteAllText(variant, topology.InventoryYamlFor(n, lab.NodeDirectory(n), options.Renderer.WritesInventoryPath ? hub.InventoryPath : null));
                await options.Renderer.RenderAsync(variant, n.Name, hub.RenderedDirectory, ct).ConfigureAwait(false);
            }
            foreach (var n in topology.Topology.Nodes)
            {
                await RenderedDeployment.ApplySysctlAsync(lab, n, hub.RenderedNodeDirectory(n), ct).ConfigureAwait(false);
                foreach (var wg in RenderedDeployment.WireGuardFiles(hub.RenderedNodeDirectory(n)))
                    await RenderedDeployment.StartWireGuardAsync(lab, n, wg, ct).ConfigureAwait(false);
            }
            hub.SinceFrrApplied = Stopwatch.StartNew();
            foreach (var n in topology.Topology.Nodes)
                await RenderedDeployment.ApplyFrrAsync(lab, n, hub.RenderedNodeDirectory(n), ct).ConfigureAwait(false);

            if (options.Overlayd)
            {
                hub.OverlaydNodes = topology.Topology.Nodes;
                foreach (var n in hub.OverlaydNodes) hub.StartOverlayd(n);
                foreach (var n in hub.OverlaydNodes)
                {
                    var p = hub.Overlayd(n);
                    await Poll.UntilAsync($"overlayd on {n} answers on {hub.OverlaydSocketPath(n)}", async c =>
                    {
                        if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
                        await hub.Api(n).StatusAsync(c).ConfigureAwait(false);
                        return true;
                    }, ConvergeTimeout, ct: ct).ConfigureAwait(false);
                }
            }
            return hub;
        }
        catch
        {
            await hub.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // ---------------------------------------------------------------- overlayd and overlayctl

    /// <summary>overlayd's control socket on a node (render's daemon.socket for the lab: in the node's run folder).</summary>
    public string OverlaydSocketPath(LabNode node) => Path.Combine(Lab.NodeDirectory(node), "overlayd.sock");
    public string OverlaydSocketPath(HubSpokeSpoke spoke) => OverlaydSocketPath(spoke.Node);

    public LabProcess Overlayd(LabNode node) => Lab.Process(node, "overlayd");
    public LabProcess Overlayd(HubSpokeSpoke spoke) => Overlayd(spoke.Node);

    /// <summary>overlayd's control API on a node (its Unix socket).</summary>
    public OverlaydApi Api(LabNode node)
    {
        lock (_apis)
        {
            if (!_apis.TryGetValue(node, out var api)) _apis[node] = api = new OverlaydApi(OverlaydSocketPath(node));
            return api;
        }
    }

    public OverlaydApi Api(HubSpokeSpoke spoke) => Api(spoke.Node);

    private void StartOverlayd(LabNode node) =>
        Lab.StartProcess(node, OverlaydBinary.Spec(RenderedDeployment.OverlaydPath(RenderedNodeDirectory(node)), _overlaydDll));

    private string OverlayctlDll => _overlayctlDll ?? throw new InvalidOperationException("this hub lab runs without overlayd (HubLabOptions.Overlayd = false)");

    /// <summary>Runs the real overlayctl against <paramref name="node"/>'s overlayd (<c>--socket</c> is appended).</summary>
    public Task<OverlayctlResult> OverlayctlOnAsync(LabNode node, IEnumerable<string> args, CancellationToken ct = default) =>
        Overlayctl.RunAsync(OverlayctlDll, [.. args, "--socket", OverlaydSocketPath(node)], ct);

    /// <summary>Runs the real overlayctl against s1's overlayd (<c>--socket</c> is appended).</summary>
    public Task<OverlayctlResult> OverlayctlAsync(IEnumerable<string> args, CancellationToken ct = default) =>
        Overlayctl.RunAsync(OverlayctlDll, [.. args, "--socket", OverlaydSocketPath(Topology.S1)], ct);

    /// <summary>Runs the real overlayctl with exactly <paramref name="args"/> (e.g. --version).</summary>
    public Task<OverlayctlResult> OverlayctlRawAsync(params string[] args) => Overlayctl.RunAsync(OverlayctlDll, args);

    /// <summary>
    /// Runs <c>overlayctl explain DESTINATION -o json</c> on s1 until its WireGuard peer and FRR RIB entry both leave via
    /// <paramref name="dev"/>; returns that answer. The daemon reads FRR and the kernel per request and FRR's RIB may
    /// lag the kernel by a beat, hence the poll.
    /// </summary>
    public async Task<JsonElement> WaitUntilExplainViaAsync(string dev, TimeSpan timeout, CancellationToken ct = default)
    {
        JsonElement root = default;
        await Poll.UntilAsync($"explain {Destination} via {dev}", async c =>
        {
            var r = await OverlayctlAsync(["explain", Destination, "-o", "json"], c).ConfigureAwait(false);
            if (r.Code is not (0 or 1)) throw new InvalidOperationException($"overlayctl explain exited {r.Code}: {r.StdErr}");
            root = JsonDocument.Parse(r.StdOut).RootElement.Clone();
            return root.GetProperty("peer").ValueKind == JsonValueKind.Object && root.GetProperty("peer").GetProperty("interface").GetString() == dev
                && root.GetProperty("rib").ValueKind == JsonValueKind.Object
                && root.GetProperty("rib").GetProperty("nexthops").EnumerateArray().Any(n => n.GetProperty("interface").GetString() == dev);
        }, timeout, TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
        return root;
    }

    // ---------------------------------------------------------------- observations

    /// <summary>s1's kernel route to s2's LAN ("" when it has none).</summary>
    public Task<string> RouteAsync(CancellationToken ct = default) => Lab.KernelRouteAsync(Topology.S1.Node, Topology.S2.Lan, ct);

    /// <summary>
    /// Polls s1's kernel (every 5 ms) until its route to s2's LAN leaves through <paramref name="dev"/>; returns the
    /// time on <paramref name="since"/> (a fresh stopwatch when null) at which the poll saw it.
    /// </summary>
    public async Task<TimeSpan> WaitUntilRouteViaAsync(string dev, TimeSpan timeout, Stopwatch? since = null, CancellationToken ct = default)
    {
        var sw = since ?? Stopwatch.StartNew();
        var (node, prefix) = (Topology.S1.Node, Topology.S2.Lan);
        await Poll.UntilAsync($"{node} routes {prefix} via {dev}", async c =>
            (await Lab.ExecAsync(node, $"ip route show {prefix}", ct: c).ConfigureAwait(false)).StdOut.Contains($" dev {dev} ", StringComparison.Ordinal),
            timeout, TimeSpan.FromMilliseconds(5), ct).ConfigureAwait(false);
        return sw.Elapsed;
    }

    /// <summary>Waits until <paramref name="node"/>'s OSPF neighbor on <paramref name="tunnel"/> is Full.</summary>
    public async Task WaitUntilOspfFullAsync(LabNode node, HubTunnel tunnel, TimeSpan timeout, CancellationToken ct = default)
    {
        string ifname = tunnel.InterfaceOf(node);
        await Poll.UntilAsync($"OSPF Full on {node} {ifname}", async c =>
            (await Lab.VtyshAsync(node, "show ip ospf neighbor", c).ConfigureAwait(false)).StdOut.Split('\n')
                .Any(l => l.Contains(ifname, StringComparison.Ordinal) && l.Contains("Full", StringComparison.Ordinal)), timeout, ct: ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the spoke's bfdd reports the session to the hub end of <paramref name="tunnel"/> up (or, with
    /// <paramref name="up"/> false, anything but up, including gone: OSPF deletes its session with the neighbor);
    /// returns the time on <paramref name="since"/> (a fresh stopwatch when null) at which the poll saw it. Reads
    /// bfdd's state over gRPC every 10 ms: cheap for bfdd, and no process per poll to blur the timing.
    /// </summary>
    public async Task<TimeSpan> WaitUntilBfdAsync(HubSpokeSpoke spoke, HubTunnel tunnel, bool up, TimeSpan timeout, Stopwatch? since = null, CancellationToken ct = default)
    {
        var sw = since ?? Stopwatch.StartNew();
        var peer = tunnel.AddressOf(tunnel.PeerOf(spoke.Node));
        var bfd = Lab.Router(spoke.Node).Routing;
        await Poll.UntilAsync($"BFD {(up ? "up" : "down")} on {spoke.Node} to {peer}", async c =>
            up == (await bfd.GetBfdSessionsAsync(c).ConfigureAwait(false)).Any(s => s.Peer.Equals(peer) && s.IsUp),
            timeout, TimeSpan.FromMilliseconds(10), ct).ConfigureAwait(false);
        return sw.Elapsed;
    }

    /// <summary>
    /// A converged start for a failover: s1 routes via h1, the s1-h1 adjacency is Full on both ends (a half-formed one
    /// would shorten the next failover) and, with <paramref name="bfd"/>, s1's BFD session to h1 is up.
    /// </summary>
    public async Task WaitUntilPrimaryReadyAsync(bool bfd, TimeSpan timeout, CancellationToken ct = default)
    {
        var s1 = Topology.S1;
        await WaitUntilRouteViaAsync(ViaPrimary, timeout, ct: ct).ConfigureAwait(false);
        await WaitUntilOspfFullAsync(s1.Node, s1.ToPrimary, timeout, ct).ConfigureAwait(false);
        await WaitUntilOspfFullAsync(Topology.H1, s1.ToPrimary, timeout, ct).ConfigureAwait(false);
        if (bfd) await WaitUntilBfdAsync(s1, s1.ToPrimary, up: true, timeout, ct: ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- faults and repairs

    /// <summary>Breaks h1 for s1 as <paramref name="how"/> says (see <see cref="HubBreak"/>).</summary>
    public async Task BreakPrimaryAsync(HubBreak how, CancellationToken ct = default)
    {
        var s1 = Topology.S1;
        if (how == HubBreak.KillHubWireGuard) Lab.Process(Topology.H1, s1.ToPrimary.HubInterface).Kill();
        else await Lab.SetLinkStateAsync(s1.ToPrimary.Underlay, up: false, side: Topology.H1, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Undoes <see cref="BreakPrimaryAsync"/>: a new wireguard-go brought up from the same rendered file (same key, as
    /// after a crash and a service restart), or the underlay back up.
    /// </summary>
    public async Task RestorePrimaryAsync(HubBreak how, CancellationToken ct = default)
    {
        var s1 = Topology.S1;
        if (how == HubBreak.KillHubWireGuard)
        {
            var old = Lab.Process(Topology.H1, s1.ToPrimary.HubInterface);
            if (!await old.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
                throw new InvalidOperationException($"{old} is still running: kill it before restoring");
            string conf = Path.Combine(RenderedNodeDirectory(Topology.H1), "wireguard", s1.ToPrimary.HubInterface + ".conf");
            await RenderedDeployment.StartWireGuardAsync(Lab, Topology.H1, conf, ct).ConfigureAwait(false);
        }
        else await Lab.SetLinkStateAsync(s1.ToPrimary.Underlay, up: true, side: Topology.H1, ct).ConfigureAwait(false);
    }

    /// <summary>A text dump for failure reports: s1's and h1's OSPF neighbors, s1's BFD peers and route to s2's LAN, s1's overlayd's last events.</summary>
    public async Task<string> DiagnosticsAsync(CancellationToken ct = default)
    {
        var sb = new StringBuilder();
        async Task Add(string title, Func<Task<string>> get)
        {
            string text;
            try { text = await get().ConfigureAwait(false); }
            catch (Exception e) when (e is LabException or IOException or InvalidOperationException or ArgumentException or HttpRequestException) { text = "(" + e.Message + ")"; }
            sb.Append("--- ").AppendLine(title).AppendLine(text.TrimEnd());
        }
        var (s1, h1) = (Topology.S1.Node, Topology.H1);
        await Add("s1 show ip ospf neighbor", async () => (await Lab.VtyshAsync(s1, FrrDaemon.Ospfd, "show ip ospf neighbor", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        await Add("h1 show ip ospf neighbor", async () => (await Lab.VtyshAsync(h1, FrrDaemon.Ospfd, "show ip ospf neighbor", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        await Add("s1 show bfd peers brief", async () => (await Lab.VtyshAsync(s1, FrrDaemon.Bfdd, "show bfd peers brief", ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        await Add($"s1 ip route show {Topology.S2.Lan}", async () => await RouteAsync(ct).ConfigureAwait(false) is { Length: > 0 } r ? r : "(no route)").ConfigureAwait(false);
        // The daemon's own timeline reads better than its JSON log (which goes with the run directory anyway).
        await Add("s1 overlayd events (last 15)", async () =>
            string.Join('\n', (await Api(Topology.S1).EventsAsync(0, ct).ConfigureAwait(false)).TakeLast(15).Select(e => $"{e.Time:HH:mm:ss.fff} {e.Line()}"))).ConfigureAwait(false);
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        lock (_apis)
        {
            foreach (var a in _apis.Values) a.Dispose();
            _apis.Clear();
        }
        // overlayd first, briefly: a clean exit keeps its logs readable.
        foreach (var n in OverlaydNodes)
        {
            try
            {
                if (Lab.Processes().FirstOrDefault(p => p.Node == n && p.Name == "overlayd") is { HasExited: false } d)
                    await d.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException) { }
        }
        await Lab.DisposeAsync().ConfigureAwait(false);
    }
}
