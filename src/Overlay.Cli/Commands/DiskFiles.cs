using Overlay.Core.Inventories;

namespace Overlay.Cli.Commands;

/// <summary>Inventory files read from disk: every command that loads an inventory reads it through this one source.</summary>
internal sealed class DiskFiles : IInventoryFileSource
{
    public string? ReadAllText(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
    public byte[]? ReadAllBytes(string path) => File.Exists(path) ? File.ReadAllBytes(path) : null;
}
