using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Render;
using Overlay.Core.Rotation;
using Overlay.Frr.Northbound;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Lab.Rotation;

/// <summary>
/// A hub-and-spoke overlay built from an inventory, for key rotation: 'hub' and 'spoke' run FRR (zebra, ospfd, bfdd)
/// configured with the rendered frr.conf, and the rendered WireGuard interfaces (wireguard-go) over a veth underlay
/// (192.0.2.0/30); 'client' sits behind the spoke on 10.21.0.0/24 (the spoke's announced subnet). Traffic from the
/// client to the hub's overlay address 10.10.0.1 crosses the spoke and its tunnel: the path a spoke rotation can break.
/// Interface names carry the lab's run id (node shorts), so concurrent labs never share a UAPI socket.
/// Changes and checks go through the same host agent and probe as on real nodes (<see cref="HostRotationAgent"/>,
/// <see cref="HostRotationProbe"/>), with <see cref="Via"/> as the node shell: wg-quick (falling back to wireguard-go),
/// vtysh with the node's FRR pathspace, wg-quick files in the node's run folder.
/// </summary>
public sealed class RotationLab : IAsyncDisposable
{
    public const string HubName = "hub";
    public const string SpokeName = "spoke";
    public static readonly IPAddress HubOverlay = IPAddress.Parse("10.10.0.1");
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.21.0.2");

    private RotationLab(RunningLab lab, Inventory inventory, string inventoryText, LabNode hub, LabNode spoke, LabNode client)
    {
        Lab = lab; Inventory = inventory; InventoryText = inventoryText; Hub = hub; Spoke = spoke; Client = client;
        Nodes = new Dictionary<string, LabNode> { [HubName] = hub, [SpokeName] = spoke };
        // Lab node names are the inventory's, and namespaces and FRR pathspaces are both LabNames.Namespace(run, node).
        string ns = LabNames.Namespace(lab.RunId, "{node}");
        // No kernel module here: wg-quick falls back to wireguard-go, which refuses to run without this variable.
        Via = $"ip netns exec {ns} env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1";
        HostOptions = new HostRotationOptions
        {
            Vtysh = $"vtysh -N {ns}",
            WireGuardDirectory = Path.Combine(lab.RunDirectory, "{node}", "wireguard"),
        };
        Shell = new TemplateNodeShell(Via);
        Agent = new HostRotationAgent(Shell, HostOptions);
    }

    public RunningLab Lab { get; }
    public Inventory Inventory { get; }
    public string InventoryText { get; }
    public LabNode Hub { get; }
    public LabNode Spoke { get; }
    public LabNode Client { get; }
    public IReadOnlyDictionary<string, LabNode> Nodes { get; }

    /// <summary>The node shell's command prefix ('overlayctl rotate apply --via'); {node} is an inventory node name.</summary>
    public string Via { get; }

    /// <summary>Where the lab's nodes keep wg-quick files and how vtysh reaches their FRR ('--wg-dir', '--vtysh').</summary>
    public HostRotationOptions HostOptions { get; }

    public INodeShell Shell { get; }
    public HostRotationAgent Agent { get; }

    public static async Task<RotationLab> StartAsync(ILogger? logger = null, CancellationToken ct = default)
    {
        var topo = new LabTopology();
        var hub = topo.AddNode(HubName).WithFrr(FrrDaemon.Ospfd).WithFrr(FrrDaemon.Bfdd);
        var spoke = topo.AddNode(SpokeName).WithFrr(FrrDaemon.Ospfd).WithFrr(FrrDaemon.Bfdd);
        var client = topo.AddNode("client");
        topo.AddLink(hub, "192.0.2.1/30", spoke, "192.0.2.2/30");
        topo.AddLink(spoke, "10.21.0.1/24", client, "10.21.0.2/24");

        // Keys exist before the inventory (it holds the public keys); the private keys go to 0600 files once the lab's
        // node folders exist, at the paths the inventory names.
        var hubKey = await NewKeyAsync(ct).ConfigureAwait(false);
        var spokeKey = await NewKeyAsync(ct).ConfigureAwait(false);
        string run = LabNames.RunDirectory(topo.RunId);
        string text = InventoryYaml(topo.RunId, run, hubKey.Public, spokeKey.Public);
        var parsed = InventoryParser.Parse(text, "rotation-lab.yaml");
        var inventory = parsed.Inventory ?? throw new LabException("rotation lab inventory is invalid: " + string.Join("; ", parsed.Diagnostics));

        var running = await RunningLab.StartAsync(topo, logger, ct: ct).ConfigureAwait(false);
        var lab = new RotationLab(running, inventory, text, hub, spoke, client);
        try
        {
            WriteKey(inventory.GetNode(HubName).KeyFile, hubKey.Private);
            WriteKey(inventory.GetNode(SpokeName).KeyFile, spokeKey.Private);
            await running.ExecAsync(client, "ip route add default via 10.21.0.1", ct: ct).ConfigureAwait(false);
            await lab.ApplyRenderedAsync(ct).ConfigureAwait(false);
            await lab.WaitForClientPathAsync(TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string InventoryYaml(string runId, string runDirectory, string hubPublic, string spokePublic)
    {
        string prefix = runId[..4];
        return $$"""
            gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
            nodes:
              - { name: {{HubName}}, id: 1, short: {{prefix}}h, role: hub, overlay: { v4: 10.10.0.1 }, endpoint: 192.0.2.1:51820, publicKey: {{hubPublic}}, keyFile: {{runDirectory}}/{{HubName}}/wg.key }
              - { name: {{SpokeName}}, id: 2, short: {{prefix}}s, overlay: { v4: 10.10.0.2 }, subnets: [10.21.0.0/24], endpoint: 192.0.2.2:51820, publicKey: {{spokePublic}}, keyFile: {{runDirectory}}/{{SpokeName}}/wg.key }
            topology:
              type: hubAndSpoke
              primary: { node: {{HubName}}, cost: 10 }
            """;
    }

    /// <summary>What an operator does on a node before a rotation: a new key in the plan's '.new' file; returns its public key.</summary>
    public async Task<WireGuardKey> GenerateNewKeyAsync(string node, CancellationToken ct = default)
    {
        var key = await NewKeyAsync(ct).ConfigureAwait(false);
        WriteKey(Inventory.GetNode(node).KeyFile + ".new", key.Private);
        return WireGuardKey.Parse(key.Public);
    }

    /// <summary>The rendered frr.conf into each router's running FRR, then the rendered WireGuard interfaces up.</summary>
    private async Task ApplyRenderedAsync(CancellationToken ct)
    {
        var files = Renderer.Render(Inventory);
        foreach (var name in Nodes.Keys)
        {
            var frr = files.Single(f => f.RelativePath == $"{name}/frr/frr.conf").Content.Split('\n')
                .Where(l => l.Length > 0 && !l.StartsWith('!') && !l.StartsWith("frr ", StringComparison.Ordinal) && l != "end"
                            && !l.StartsWith("service ", StringComparison.Ordinal)).ToList();
            await Agent.ApplyFrrAsync(name, frr, ct).ConfigureAwait(false);
            foreach (var wg in files.Where(f => f.RelativePath.StartsWith($"{name}/wireguard/", StringComparison.Ordinal)))
            {
                string iface = Path.GetFileNameWithoutExtension(wg.RelativePath);
                await Agent.WriteInterfaceAsync(name, iface, wg.Content.Split('\n'), ct).ConfigureAwait(false);
                await Agent.BringUpAsync(name, iface, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Polls until OSPF has carried the spoke's subnet to the hub: the client reaches the hub's overlay address.</summary>
    public Task<TimeSpan> WaitForClientPathAsync(TimeSpan timeout, CancellationToken ct = default) =>
        Poll.UntilAsync($"client {ClientAddress} reaches the hub's {HubOverlay} through the spoke",
            c => Lab.PingAsync(Client, HubOverlay, c), timeout, TimeSpan.FromMilliseconds(200), ct);

    /// <summary>The UDP echo from the client (behind the spoke) to the hub's overlay address, at <paramref name="packetsPerSecond"/>.</summary>
    public UdpEchoTraffic StartTraffic(int packetsPerSecond = 100) =>
        UdpEchoTraffic.Start(Lab, Client, ClientAddress, Hub, HubOverlay, 7777, packetsPerSecond);

    public HostRotationProbe Probe(RotationPlan plan, DateTimeOffset rotationStarted) => new(Shell, Inventory, plan, rotationStarted, HostOptions);

    /// <summary>The inventory as a file, for 'overlayctl rotate apply'.</summary>
    public string WriteInventory()
    {
        string path = Path.Combine(Lab.RunDirectory, "inventory.yaml");
        File.WriteAllText(path, InventoryText);
        return path;
    }

    private static async Task<(string Private, string Public)> NewKeyAsync(CancellationToken ct)
    {
        string priv = (await Command.RunAsync("wg", ["genkey"], ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();
        string pub = (await Command.RunAsync("wg", ["pubkey"], stdin: priv + "\n", ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();
        return (priv, pub);
    }

    private static void WriteKey(string path, string privateKey)
    {
        File.WriteAllText(path, "", Encoding.ASCII);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, privateKey + "\n", Encoding.ASCII);
    }

    public async ValueTask DisposeAsync()
    {
        await Lab.DisposeAsync().ConfigureAwait(false);
        // The lab kills the namespaces' processes (wg-quick's wireguard-go too) with SIGKILL, which leaves UAPI sockets
        // behind; those of interfaces named from this lab's inventory (wg-/wr- + the node shorts) are ours to remove.
        var shorts = Inventory.Nodes.Select(n => n.Short).ToList();
        foreach (var prefix in new[] { "wg", "wr" })
            foreach (var a in shorts)
                foreach (var b in shorts.Where(b => b != a))
                    WireGuardGoSocket.RemoveStale($"{prefix}-{a}-{b}");
    }
}
