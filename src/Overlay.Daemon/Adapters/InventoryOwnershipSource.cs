using Overlay.Core.Config;
using Overlay.Core.Explain;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Daemon.Ports;

namespace Overlay.Daemon.Adapters;

/// <summary>
/// Who owns which overlay addresses and announced subnets, from the inventory file named by the config's
/// <c>inventory</c> key; read when asked, so an updated inventory is seen without a restart.
/// </summary>
internal sealed class InventoryOwnershipSource(string? path) : IInventoryOwnershipSource
{
    public static IInventoryOwnershipSource Create(NodeConfig config) => new InventoryOwnershipSource(config.Inventory);

    public async Task<IReadOnlyList<InventoryOwnership>> GetAsync(CancellationToken cancellationToken)
    {
        if (path is null) return [];
        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        var result = InventoryParser.Parse(bytes, path);
        if (result.Inventory is not { } inventory)
            throw new InvalidDataException($"inventory {path} has errors: " +
                string.Join("; ", result.Diagnostics.Take(5).Select(d => d.ToString())));
        return Ownership(inventory);
    }

    internal static IReadOnlyList<InventoryOwnership> Ownership(Inventory inventory) =>
        inventory.Nodes.Select(n => new InventoryOwnership(n.Name,
            new[] { n.OverlayV4, n.OverlayV6 }.OfType<System.Net.IPAddress>()
                .Concat(inventory.TunnelsOf(n.Name).Select(t => t.AddressOf(n.Name)))
                .Select(IpPrefix.Host).ToList(),
            n.Subnets.Select(s => s.Prefix).ToList())).ToList();
}
