using Overlay.Core.Config;
using Overlay.Core.Net;
using Overlay.Daemon.Adapters;

namespace Overlay.Daemon.Tests;

/// <summary>The optional <c>inventory:</c> key: explain's owner data comes from the inventory file it names.</summary>
public sealed class InventoryOwnershipTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ovl-inv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../examples/anycast-2dc.yaml"));

    [Fact]
    public async Task Owners_come_from_the_inventory_named_by_the_config()
    {
        var load = NodeConfigYaml.Read($"node: dc1-edge1\ninventory: {Example}\n", "overlayd.yaml");
        Assert.True(load.Ok, string.Join("\n", load.Errors));
        Assert.Equal(Example, load.Config!.Inventory);

        var owners = await InventoryOwnershipSource.Create(load.Config).GetAsync(CancellationToken.None);
        var edge = Assert.Single(owners, o => o.Node == "dc1-edge1");
        Assert.Contains(IpPrefix.Parse("10.10.0.1/32"), edge.OverlayAddresses);
        Assert.Contains(IpPrefix.Parse("fd10::1/128"), edge.OverlayAddresses);
        Assert.Contains(IpPrefix.Parse("10.21.0.0/24"), edge.AnnouncedSubnets);
        Assert.True(edge.OverlayAddresses.Count > 2, "tunnel link addresses are the node's too");
    }

    [Fact]
    public async Task No_inventory_key_means_no_owners_and_a_relative_path_is_a_config_error()
    {
        var load = NodeConfigYaml.Read("node: n1\n", "overlayd.yaml");
        Assert.Null(load.Config!.Inventory);
        Assert.Empty(await InventoryOwnershipSource.Create(load.Config).GetAsync(CancellationToken.None));

        var bad = NodeConfigYaml.Read("node: n1\ninventory: inventory.yaml\n", "overlayd.yaml");
        Assert.False(bad.Ok);
        Assert.Contains(bad.Errors, e => e.ToString().Contains("inventory") && e.ToString().Contains("absolute path"));
    }

    [Fact]
    public async Task A_broken_inventory_is_an_error_that_names_the_file()
    {
        var path = Path.Combine(_dir, "inventory.yaml");
        await File.WriteAllTextAsync(path, "nodes: 3\n");
        var load = NodeConfigYaml.Read($"node: n1\ninventory: {path}\n", "overlayd.yaml");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => InventoryOwnershipSource.Create(load.Config!).GetAsync(CancellationToken.None));
        Assert.Contains(path, e.Message);
    }
}
