using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;

namespace Overlay.Lab.Scenarios;

/// <summary>
/// A spoke behind a NAT router and a hub: spoke (10.0.1.2/24) — nat (10.0.1.1/24 inside, 192.0.2.1/30 outside,
/// nftables masquerade with short UDP conntrack timeouts) — hub (192.0.2.2/30). One wireguard-go tunnel
/// (spoke 10.255.0.0/31, hub 10.255.0.1/31): the spoke knows the hub's endpoint, the hub knows none and learns the
/// spoke's public address and port from its packets, as with a real NATed peer.
/// </summary>
public sealed class NatTopology
{
    public const int ListenPort = 51820;
    public static readonly IReadOnlyList<string> Gate = ["10.0.0.0/8", "224.0.0.5/32", "224.0.0.6/32"];

    private NatTopology(LabTopology topology, LabNode spoke, LabNode router, LabNode hub, LabNat nat, LabTunnel tunnel)
    {
        Topology = topology; Spoke = spoke; Router = router; Hub = hub; Nat = nat; Tunnel = tunnel;
    }

    public LabTopology Topology { get; }
    public LabNode Spoke { get; }
    public LabNode Router { get; }
    public LabNode Hub { get; }
    public LabNat Nat { get; }

    /// <summary>Side A is the spoke, side B the hub.</summary>
    public LabTunnel Tunnel { get; }

    public IPAddress SpokeOverlay => Tunnel.AddressA.Address;
    public IPAddress HubOverlay => Tunnel.AddressB.Address;
    public IPAddress HubUnderlay => IPAddress.Parse("192.0.2.2");

    /// <param name="keepalive">Persistent keepalive on both ends from the start (null: none).</param>
    public static NatTopology Create(NatOptions nat, TimeSpan? keepalive = null)
    {
        var topo = new LabTopology();
        var spoke = topo.AddNode("spoke");
        var router = topo.AddNode("nat");
        var hub = topo.AddNode("hub");
        var inside = topo.AddLink(spoke, "10.0.1.2/24", router, "10.0.1.1/24");
        var outside = topo.AddLink(router, "192.0.2.1/30", hub, "192.0.2.2/30");
        var n = topo.AddNat(router, inside, outside, nat);
        var tunnel = topo.AddTunnel(spoke, hub, IPAddress.Parse("192.0.2.2"), null, "10.255.0.0/31", "10.255.0.1/31", new TunnelOptions
        {
            AllowedIpsA = Gate, AllowedIpsB = Gate, ListenPortA = ListenPort, ListenPortB = ListenPort, PersistentKeepalive = keepalive,
        });
        return new NatTopology(topo, spoke, router, hub, n, tunnel);
    }

    /// <summary>
    /// The lab as an inventory: the hub with its endpoint, the spoke behind NAT with the lab NAT's UDP timeout.
    /// Render turns it into the keepalive the tests then run with. Needs the lab running (public keys).
    /// </summary>
    public string InventoryYaml()
    {
        string Key(string? k) => k ?? throw new InvalidOperationException("the lab is not running yet: public keys are unknown");
        var timeout = (long)Nat.Options.UdpTimeout.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $$"""
            gate: [{{string.Join(", ", Gate)}}]
            nodes:
              - { name: hub, id: 1, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: "{{HubUnderlay}}:{{ListenPort}}", publicKey: "{{Key(Tunnel.PublicKeyB)}}" }
              - { name: spoke, id: 2, role: spoke, overlay: { v4: 10.10.1.1 }, nat: true, natUdpTimeout: {{timeout}}s, publicKey: "{{Key(Tunnel.PublicKeyA)}}" }
            topology:
              type: hubAndSpoke
              primary: { node: hub, cost: 10 }

            """);
    }

    /// <summary>overlayd.yaml for the hub: its tunnel to the spoke (no BFD: the lab runs no FRR), the "default" policy judging it.</summary>
    public NodeConfig HubOverlaydConfig(string socketPath, TimeSpan keepalive, TimeSpan rxStallAfter, string drainFile)
    {
        var policy = NodeConfigDefaults.Policy("default") with { RxStallAfter = rxStallAfter, Bfd = BfdRequirement.Ignored };
        var tunnel = new WgInterfaceConfig(Tunnel.InterfaceB, "spoke", WireGuardKey.Parse(Tunnel.PublicKeyA!), ListenPort, keepalive,
            new TunnelAddress(Tunnel.AddressB.Address, Tunnel.AddressB.PrefixLength), Tunnel.AddressA.Address, Bfd: false, [.. Gate.Select(IpPrefix.Parse)]);
        return new NodeConfig("hub", null, NodeConfigDefaults.Api with { Socket = socketPath }, new MetricsConfig(NodeConfigDefaults.MetricsListen),
            NodeConfigDefaults.Frr with { Pathspace = Hub.FrrPathspace, Grpc = new FrrGrpcConfig(NodeConfigDefaults.FrrGrpcHost, FrrDaemon.Zebra.GrpcPort(), FrrDaemon.Staticd.GrpcPort(), FrrDaemon.Bfdd.GrpcPort()) },
            [tunnel], new Dictionary<string, HealthPolicy> { ["default"] = policy }, [], [], new DrainConfig(drainFile, TimeSpan.FromSeconds(2)));
    }
}

/// <summary>
/// The running NAT lab, optionally with the real overlayd on the hub (it watches the tunnel to the NATed spoke).
/// Dispose tears it all down.
/// </summary>
public sealed class NatLab : IAsyncDisposable
{
    private OverlaydApi? _api;
    private string? _overlayctlDll;

    private NatLab(NatTopology topology, RunningLab lab)
    {
        Topology = topology;
        Lab = lab;
    }

    public NatTopology Topology { get; }
    public RunningLab Lab { get; }
    public string OverlaydSocketPath => Path.Combine(Lab.NodeDirectory(Topology.Hub), "overlayd.sock");
    public OverlaydApi Api => _api ?? throw new InvalidOperationException("overlayd was not started on the hub");

    public static async Task<NatLab> StartAsync(NatTopology topology, ILogger? logger = null, CancellationToken ct = default)
    {
        var lab = await RunningLab.StartAsync(topology.Topology, logger, ct: ct).ConfigureAwait(false);
        return new NatLab(topology, lab);
    }

    /// <summary>Starts overlayd on the hub and waits until it answers on its control socket.</summary>
    public async Task StartHubOverlaydAsync(TimeSpan keepalive, TimeSpan rxStallAfter, CancellationToken ct = default)
    {
        string dll = OverlaydBinary.Require();
        _overlayctlDll = Overlayctl.Require();
        string dir = Lab.NodeDirectory(Topology.Hub);
        string config = Path.Combine(dir, "overlayd.yaml");
        File.WriteAllBytes(config, NodeConfigYaml.WriteUtf8(Topology.HubOverlaydConfig(OverlaydSocketPath, keepalive, rxStallAfter, Path.Combine(dir, "drain"))));
        var p = Lab.StartProcess(Topology.Hub, OverlaydBinary.Spec(config, dll));
        _api = new OverlaydApi(OverlaydSocketPath);
        await Poll.UntilAsync($"overlayd on hub answers on {OverlaydSocketPath}", async c =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
            await _api.StatusAsync(c).ConfigureAwait(false);
            return true;
        }, TimeSpan.FromSeconds(60), ct: ct).ConfigureAwait(false);
    }

    /// <summary>Runs the real overlayctl against the hub's overlayd (<c>--socket</c> is appended).</summary>
    public Task<OverlayctlResult> OverlayctlAsync(IEnumerable<string> args, CancellationToken ct = default) =>
        Overlayctl.RunAsync(_overlayctlDll ?? Overlayctl.Require(), [.. args, "--socket", OverlaydSocketPath], ct);

    /// <summary>The hub's tunnel to the spoke as <c>overlayctl peers -o json</c> shows it.</summary>
    public async Task<JsonElement> PeerAsync(CancellationToken ct = default)
    {
        var r = await OverlayctlAsync(["peers", "-o", "json"], ct).ConfigureAwait(false);
        if (r.Code is not (0 or 1)) throw new InvalidOperationException($"overlayctl peers exited {r.Code}: {r.StdErr}");
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        var list = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("peers");
        return list.EnumerateArray().Single(p => p.GetProperty("interface").GetString() == Topology.Tunnel.InterfaceB).Clone();
    }

    /// <summary>The NAT's mapping of the spoke's WireGuard flow (null when there is none).</summary>
    public async Task<NatMapping?> SpokeMappingAsync(CancellationToken ct = default)
    {
        var spoke = new IPEndPoint(Topology.Tunnel.Underlay.AddressOf(Topology.Spoke), NatTopology.ListenPort);
        return (await Lab.NatMappingsAsync(Topology.Nat, ct).ConfigureAwait(false)).FirstOrDefault(m => m.Source.Equals(spoke) && m.IsTranslated);
    }

    /// <summary>Text for failure reports: the NAT's conntrack, both WireGuard views, the hub's overlayd events.</summary>
    public async Task<string> DiagnosticsAsync(CancellationToken ct = default)
    {
        var sb = new StringBuilder();
        async Task Add(string title, Func<Task<string>> get)
        {
            string text;
            try { text = await get().ConfigureAwait(false); }
            catch (Exception e) when (e is LabException or IOException or InvalidOperationException or HttpRequestException) { text = "(" + e.Message + ")"; }
            sb.Append("--- ").AppendLine(title).AppendLine(text.TrimEnd());
        }
        await Add("nat conntrack (udp)", async () => string.Join('\n', await Lab.NatMappingsAsync(Topology.Nat, ct).ConfigureAwait(false))).ConfigureAwait(false);
        await Add("hub wg show", async () => (await Lab.ExecAsync(Topology.Hub, "wg show", ct: ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        await Add("spoke wg show", async () => (await Lab.ExecAsync(Topology.Spoke, "wg show", ct: ct).ConfigureAwait(false)).StdOut).ConfigureAwait(false);
        if (_api is not null)
            await Add("hub overlayd events", async () =>
                string.Join('\n', (await _api.EventsAsync(0, ct).ConfigureAwait(false)).TakeLast(20).Select(e => $"{e.Time:HH:mm:ss.fff} {e.Line()}"))).ConfigureAwait(false);
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _api?.Dispose();
        try
        {
            if (Lab.Processes().FirstOrDefault(p => p.Node == Topology.Hub && p.Name == "overlayd") is { HasExited: false } d)
                await d.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException) { }
        await Lab.DisposeAsync().ConfigureAwait(false);
    }
}
