using System.Net;
using Microsoft.Extensions.Logging;
using Overlay.Frr.Northbound;
using Overlay.Lab.Rotation;

namespace Overlay.Lab.Fleet;

/// <summary>
/// Fresh nodes for 'overlayctl plan/apply': 'hub', 's1' and 's2' run FRR (zebra, ospfd, bfdd) with an empty
/// configuration and no WireGuard at all; 'client' sits behind s1 on 10.21.0.0/24 (s1's announced subnet). Underlay:
/// hub–s1 192.0.2.0/30, hub–s2 192.0.2.4/30 (s2 reaches the hub's endpoint 192.0.2.1 through the hub). Everything the
/// overlay needs (keys, interfaces, FRR, overlayd.yaml) is put there by apply, through
/// <see cref="Via"/> as the node shell. <see cref="InventoryYaml"/> writes the inventory for a set of spokes (and VIPs).
/// The spokes also run staticd, so a VIP's static route can be put into FRR (as overlayd would) for 'overlayctl owners'.
/// </summary>
public sealed class FleetLab : IAsyncDisposable
{
    public static readonly IPAddress HubOverlay = IPAddress.Parse("10.10.0.1");
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.21.0.2");

    private FleetLab(RunningLab lab, LabNode hub, LabNode s1, LabNode s2, LabNode client)
    {
        Lab = lab; Hub = hub; S1 = s1; S2 = s2; Client = client;
        string ns = LabNames.Namespace(lab.RunId, "{node}");
        Via = $"ip netns exec {ns} env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1";
        Vtysh = $"vtysh -N {ns}";
        WireGuardDirectory = Path.Combine(lab.RunDirectory, "{node}", "wireguard");
        OverlaydConfig = Path.Combine(lab.RunDirectory, "{node}", "overlayd.yaml");
    }

    public RunningLab Lab { get; }
    public LabNode Hub { get; }
    public LabNode S1 { get; }
    public LabNode S2 { get; }
    public LabNode Client { get; }
    public string Via { get; }
    public string Vtysh { get; }
    public string WireGuardDirectory { get; }
    public string OverlaydConfig { get; }

    /// <summary>The node-shell options of 'overlayctl plan/apply' for this lab.</summary>
    public string[] Transport => ["--via", Via, "--vtysh", Vtysh, "--wg-dir", WireGuardDirectory, "--overlayd-config", OverlaydConfig];

    /// <summary>overlayd's control socket on each node (no overlayd runs in this lab: 'owners' finds none there).</summary>
    public string OverlaydSocket => Path.Combine(Lab.RunDirectory, "{node}", "overlayd.sock");

    /// <summary>The node-shell options of 'overlayctl owners' for this lab.</summary>
    public string[] OwnersTransport => ["--via", Via, "--vtysh", Vtysh, "--overlayd-socket", OverlaydSocket];

    public static async Task<FleetLab> StartAsync(ILogger? logger = null, CancellationToken ct = default)
    {
        var topo = new LabTopology();
        var hub = topo.AddNode("hub").WithFrr(FrrDaemon.Ospfd).WithFrr(FrrDaemon.Bfdd);
        var s1 = topo.AddNode("s1").WithFrr(FrrDaemon.Ospfd).WithFrr(FrrDaemon.Bfdd).WithFrr(FrrDaemon.Staticd);
        var s2 = topo.AddNode("s2").WithFrr(FrrDaemon.Ospfd).WithFrr(FrrDaemon.Bfdd).WithFrr(FrrDaemon.Staticd);
        var client = topo.AddNode("client");
        topo.AddLink(hub, "192.0.2.1/30", s1, "192.0.2.2/30");
        var hubS2 = topo.AddLink(hub, "192.0.2.5/30", s2, "192.0.2.6/30");
        topo.AddLink(s1, "10.21.0.1/24", client, "10.21.0.2/24");
        var running = await RunningLab.StartAsync(topo, logger, ct: ct).ConfigureAwait(false);
        var lab = new FleetLab(running, hub, s1, s2, client);
        try
        {
            await running.ExecAsync(client, "ip route add default via 10.21.0.1", ct: ct).ConfigureAwait(false);
            await running.ExecAsync(s2, "ip route add 192.0.2.0/30 via 192.0.2.5", ct: ct).ConfigureAwait(false);
            // The hub has one endpoint address (192.0.2.1), as a real hub has one public address: what it sends to s2
            // leaves from it too. Otherwise a handshake the hub starts comes from 192.0.2.5, s2's wireguard-go roams its
            // peer's endpoint there, and plan rightly reports the endpoint as differing from the inventory's.
            (await running.ExecAsync(hub, $"ip route replace 192.0.2.4/30 dev {hubS2.InterfaceOf(hub)} proto kernel scope link src 192.0.2.1", ct: ct).ConfigureAwait(false)).EnsureSuccess();
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The inventory: the hub and the given spokes ("s1", "s2") with these public keys (node name → key).</summary>
    public string InventoryYaml(IReadOnlyDictionary<string, string> keys, params string[] spokes) => InventoryYaml(keys, spokes, vips: null);

    /// <summary>The inventory with a <c>vips:</c> section appended (its YAML list items, e.g. "  - { name: web, … }").</summary>
    public string InventoryYaml(IReadOnlyDictionary<string, string> keys, IReadOnlyList<string> spokes, string? vips)
    {
        string prefix = Lab.RunId[..4];
        string run = Lab.RunDirectory;
        var lines = new List<string>
        {
            "gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]",
            "nodes:",
            $"  - {{ name: hub, id: 1, short: {prefix}h, role: hub, overlay: {{ v4: 10.10.0.1 }}, endpoint: 192.0.2.1:51820, publicKey: {keys["hub"]}, keyFile: {run}/hub/wg.key }}",
        };
        if (spokes.Contains("s1"))
            lines.Add($"  - {{ name: s1, id: 2, short: {prefix}a, overlay: {{ v4: 10.10.0.2 }}, subnets: [10.21.0.0/24], endpoint: 192.0.2.2:51820, publicKey: {keys["s1"]}, keyFile: {run}/s1/wg.key }}");
        if (spokes.Contains("s2"))
            lines.Add($"  - {{ name: s2, id: 3, short: {prefix}b, overlay: {{ v4: 10.10.0.3 }}, endpoint: 192.0.2.6:51820, publicKey: {keys["s2"]}, keyFile: {run}/s2/wg.key }}");
        lines.Add("topology:");
        lines.Add("  type: hubAndSpoke");
        lines.Add("  primary: { node: hub, cost: 10 }");
        if (vips is not null)
        {
            lines.Add("vips:");
            lines.Add(vips.TrimEnd('\n'));
        }
        return string.Join('\n', lines) + "\n";
    }

    public string WriteInventory(string yaml)
    {
        string path = Path.Combine(Lab.RunDirectory, "inventory.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>Polls until OSPF has carried s1's subnet to the hub: the client reaches the hub's overlay address.</summary>
    public Task<TimeSpan> WaitForClientPathAsync(TimeSpan timeout, CancellationToken ct = default) =>
        Poll.UntilAsync($"client {ClientAddress} reaches the hub's {HubOverlay} through s1",
            c => Lab.PingAsync(Client, HubOverlay, c), timeout, TimeSpan.FromMilliseconds(200), ct);

    public UdpEchoTraffic StartTraffic(int packetsPerSecond = 100) =>
        UdpEchoTraffic.Start(Lab, Client, ClientAddress, Hub, HubOverlay, 7777, packetsPerSecond);

    public async ValueTask DisposeAsync()
    {
        await Lab.DisposeAsync().ConfigureAwait(false);
        // wireguard-go killed with SIGKILL leaves its UAPI socket: those named from this lab's shorts are ours.
        string prefix = Lab.RunId[..4];
        var shorts = new[] { prefix + "h", prefix + "a", prefix + "b" };
        foreach (var a in shorts)
            foreach (var b in shorts.Where(b => b != a))
                WireGuardGoSocket.RemoveStale($"wg-{a}-{b}");
    }
}
