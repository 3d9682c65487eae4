namespace Overlay.Core.Inventory;

/// <summary>Reads files for the parser; Core does no I/O of its own.</summary>
public interface IInventoryFileSource
{
    /// <summary>The file's text, or null when it does not exist.</summary>
    string? ReadAllText(string path);
}

public sealed record InventoryParseResult(Inventory? Inventory, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool Success => Inventory is not null;
}

public static class InventoryParser
{
    /// <summary>
    /// Parses and validates an inventory. Every problem is reported at once, sorted by position; when
    /// any error exists <see cref="InventoryParseResult.Inventory"/> is null.
    /// </summary>
    public static InventoryParseResult Parse(string text, string fileName) =>
        new InventoryReader(fileName).Read(text);

    public static InventoryParseResult Load(IInventoryFileSource files, string path)
    {
        string? text = files.ReadAllText(path);
        return text is null
            ? new InventoryParseResult(null, [Diagnostic.Error(InventoryCodes.FileNotFound, new SourceLocation(path, 0, 0), "inventory file not found", "check the path")])
            : Parse(text, path);
    }
}
