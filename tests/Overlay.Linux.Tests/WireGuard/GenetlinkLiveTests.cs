using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.Namespaces;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

/// <summary>The kernel backend and the composite against the real kernel, in namespaces of our own.</summary>
public sealed class GenetlinkLiveTests : IDisposable
{
    private readonly WireGuardLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static void SkipUnlessRunnable()
    {
        var why = WireGuardLab.WhyNotRunnable();
        Skip.If(why is not null, why);
    }

    [SkippableFact]
    public async Task Without_the_module_every_device_is_not_found()
    {
        SkipUnlessRunnable();
        using var ns = NetNamespace.Open(_lab.Namespace("nomod"));
        using var kernel = new GenetlinkWireGuardClient(ns, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Skip.If(kernel.Unavailable() is null, "the wireguard kernel module is loaded here; this test covers its absence");
        Assert.Equal(GenetlinkWireGuardClient.ModuleAbsent, kernel.Unavailable());
        Assert.Empty(await kernel.DevicesAsync());
        var e = await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() => kernel.DeviceAsync("wg0"));
        Assert.Contains("kernel module absent", e.Message);
        await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() =>
            kernel.ConfigureDeviceAsync("wg0", new WireGuardDeviceConfig { ListenPort = 1 }));
    }

    [SkippableFact]
    public async Task Composite_falls_through_to_userspace_for_a_wireguard_go_device()
    {
        SkipUnlessRunnable();
        string nsName = _lab.Namespace("comp");
        string dev = _lab.Device(nsName, "c");
        using var ns = NetNamespace.Open(nsName);
        using var client = WireGuardClient.Create(new WireGuardClientOptions { Namespace = ns });
        var peer = WireGuardKeys.PublicKeyOf(WireGuardPrivateKey.Generate());
        await client.ConfigureDeviceAsync(dev, new WireGuardDeviceConfig
        {
            ListenPort = 40001,
            Peers = [new WireGuardPeerConfig(peer) { AllowedIPs = [IpPrefix.Parse("10.90.0.0/24")] }],
        });
        var device = await client.DeviceAsync(dev);
        Assert.Equal(WireGuardDeviceType.Userspace, device.Type);
        Assert.Equal(40001, device.ListenPort);
        Assert.Equal(peer, Assert.Single(device.Peers).PublicKey);
        Assert.Contains(await client.DevicesAsync(), d => d.Name == dev);
    }

    [SkippableFact]
    public async Task Kernel_device_round_trips_a_large_configuration()
    {
        SkipUnlessRunnable();
        string nsName = _lab.Namespace("kern");
        using var ns = NetNamespace.Open(nsName);
        using var kernel = new GenetlinkWireGuardClient(ns, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var why = kernel.Unavailable();
        Skip.If(why is not null, why);

        string dev = $"wgt{_lab.RunId}k";
        WireGuardLab.Run("ip", "-n", nsName, "link", "add", dev, "type", "wireguard");
        // Enough peers and allowed IPs that both the set and the dump span several messages.
        var peers = Enumerable.Range(0, 300).Select(i => new WireGuardPeerSpec(
            WireGuardKeys.PublicKeyOf(WireGuardPrivateKey.Generate()),
            Enumerable.Range(0, i == 0 ? 400 : 3).Select(j => IpPrefix.Parse($"10.{i % 250}.{j / 250}.{j % 250}/32")).ToList(),
            i % 2 == 0 ? WireGuardPresharedKey.Generate() : null,
            new IPEndPoint(IPAddress.Parse($"198.51.100.{i % 250 + 1}"), 51820),
            TimeSpan.FromSeconds(i % 30))).ToList();
        var spec = new WireGuardDeviceSpec(WireGuardPrivateKey.Generate(), 51820, 7, peers);
        var plan = await kernel.SyncAsync(dev, spec);
        Assert.Equal(300, plan.Added.Count);

        var device = await kernel.DeviceAsync(dev);
        Assert.Equal(WireGuardDeviceType.Kernel, device.Type);
        var wg = WgDump.Split(WireGuardLab.Run("ip", "netns", "exec", nsName, "wg", "show", dev, "dump"));
        var ours = WgDump.Render(device);
        Assert.Equal(wg.Device, ours.Device);
        Assert.Equal(wg.Peers, ours.Peers);
        Assert.True((await kernel.SyncAsync(dev, spec)).IsEmpty);
    }
}
