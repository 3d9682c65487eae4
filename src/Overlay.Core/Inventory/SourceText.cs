using System.Text.Unicode;

namespace Overlay.Core.Inventories;

/// <summary>
/// Decodes a configuration file's bytes for the readers. Strict: an invalid UTF-8 sequence is an error at its line and
/// column, never a silent U+FFFD (which would turn a byte the operator cannot see into a value nobody wrote).
/// </summary>
public static class SourceText
{
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out string text, out int line, out int column, out string? error)
    {
        text = "";
        line = 1;
        column = 1;
        error = null;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            error = "the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8";
            return false;
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..];
        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(bytes, chars, out int read, out int written, replaceInvalidSequences: false);
        if (status == System.Buffers.OperationStatus.Done)
        {
            text = new string(chars, 0, written);
            return true;
        }
        // Where the first bad byte is: lines counted in bytes, the column in characters of the decoded part.
        var good = chars.AsSpan(0, written);
        line = good.Count('\n') + 1;
        column = written - (good.LastIndexOf('\n') + 1) + 1;
        error = $"invalid UTF-8 (byte 0x{bytes[read]:X2} at offset {read})";
        return false;
    }
}
