using Overlay.Core.Diagnostics;

namespace Overlay.Core.Inventories;

/// <summary>Reads files for the parser; Core does no I/O of its own.</summary>
public interface IInventoryFileSource
{
    /// <summary>The file's text, or null when it does not exist.</summary>
    string? ReadAllText(string path);

    /// <summary>
    /// The file's bytes, or null when it does not exist; the parser decodes them strictly (invalid UTF-8 is an
    /// error with its location). Sources that only hold text need not implement it.
    /// </summary>
    byte[]? ReadAllBytes(string path) => ReadAllText(path) is { } text ? System.Text.Encoding.UTF8.GetBytes(text) : null;
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

    /// <summary>Parses an inventory file's bytes: invalid UTF-8 is reported (INV029) with its line and column.</summary>
    public static InventoryParseResult Parse(ReadOnlySpan<byte> utf8, string fileName)
    {
        if (!SourceText.TryDecode(utf8, out string text, out int line, out int column, out string? error))
            return new InventoryParseResult(null, [Diagnostic.Error(InventoryCodes.NotUtf8, new SourceLocation(fileName, line, column), error!,
                "the inventory must be UTF-8; retype the character at this position")]);
        return Parse(text, fileName);
    }

    public static InventoryParseResult Load(IInventoryFileSource files, string path)
    {
        byte[]? bytes = files.ReadAllBytes(path);
        return bytes is null
            ? new InventoryParseResult(null, [Diagnostic.Error(InventoryCodes.FileNotFound, new SourceLocation(path, 0, 0), "inventory file not found", "check the path")])
            : Parse(bytes, path);
    }
}
