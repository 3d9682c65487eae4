using Overlay.Core.Config;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Render;

/// <summary>What render writes for overlayd is what overlayd loads: the same policy records, field for field.</summary>
public sealed class RenderedConfigRoundTripTests
{
    [Theory]
    [InlineData("anycast-2dc")]
    [InlineData("hub-spoke")]
    [InlineData("mesh-40")]
    public void Every_rendered_overlayd_yaml_loads_with_the_inventorys_policies(string example)
    {
        string path = Path.Combine(RepoPaths.Examples, example + ".yaml");
        var inventory = InventoryParser.Parse(File.ReadAllText(path), path).Inventory!;
        var configs = Renderer.Render(inventory).Where(f => f.RelativePath.EndsWith("/overlayd.yaml", StringComparison.Ordinal)).ToList();
        Assert.Equal(inventory.Nodes.Count, configs.Count);
        foreach (var file in configs)
        {
            var loaded = NodeConfigYaml.Read(file.Content, file.RelativePath);
            Assert.True(loaded.Ok, $"{file.RelativePath}: {string.Join("; ", loaded.Errors)}");
            Assert.Equal(inventory.Policies.Select(p => p.Name).Order(), loaded.Config!.Policies.Keys.Order());
            foreach (var written in inventory.Policies)
            {
                var read = loaded.Config.Policies[written.Name];
                // Records compare lists by reference; the addresses are compared as sequences.
                Assert.Equal(written with { Require = RoutingRequirements.None }, read with { Require = RoutingRequirements.None });
                Assert.Equal(written.Require.OspfFullNeighbors, read.Require.OspfFullNeighbors);
                Assert.Equal(written.Require.BgpEstablished, read.Require.BgpEstablished);
            }
        }
    }

    [Fact]
    public void An_inventory_policy_dampens_by_default_with_the_documented_values()
    {
        var inventory = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, "anycast-2dc.yaml")), "anycast-2dc.yaml").Inventory!;
        Assert.Equal(Dampening.Standard, inventory.FindPolicy("strict")!.Dampening);
    }
}
