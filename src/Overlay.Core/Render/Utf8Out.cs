using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Overlay.Core.Render;

/// <summary>
/// Writes LF-terminated lines as UTF-8 into one growable buffer (rented from the shared pool), which
/// holds all files of one node. Interpolated lines are formatted straight into it: no string per line,
/// no string per file. Numbers and addresses are formatted with the invariant culture.
/// </summary>
internal sealed class Utf8Out : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public Utf8Out(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    /// <summary>Bytes written so far: where the next file starts.</summary>
    public int Length => _length;

    public void Line(string text = "")
    {
        Append(text);
        Append((byte)'\n');
    }

    public void Line([InterpolatedStringHandlerArgument("")] ref Utf8LineHandler line) => Append((byte)'\n');

    public void Append(string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        Reserve(text.Length * 3); // the most UTF-8 one UTF-16 unit takes
        // Nearly everything written is ASCII, which narrows faster than the general UTF-8 encoder goes.
        if (Ascii.FromUtf16(text, _buffer.AsSpan(_length), out int written) == OperationStatus.Done) _length += written;
        else _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    public void Append(ReadOnlySpan<byte> utf8)
    {
        Reserve(utf8.Length);
        utf8.CopyTo(_buffer.AsSpan(_length));
        _length += utf8.Length;
    }

    public void Append(byte b)
    {
        Reserve(1);
        _buffer[_length++] = b;
    }

    public void Append<T>(T value) where T : IUtf8SpanFormattable?
    {
        if (value is null) return;
        int written;
        while (!value.TryFormat(_buffer.AsSpan(_length), out written, default, CultureInfo.InvariantCulture))
            Grow(_buffer.Length);
        _length += written;
    }

    public void Reserve(int bytes)
    {
        if (_buffer.Length - _length < bytes) Grow(bytes);
    }

    /// <summary>Everything written, in an array of exactly that size (the rented buffer goes back to the pool on dispose).</summary>
    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(_length);
        _buffer.AsSpan(0, _length).CopyTo(result);
        return result;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Grow(int atLeast)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + atLeast));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}

/// <summary>Formats an interpolated line into <see cref="Utf8Out"/>: strings are encoded, UTF-8 bytes copied, numbers and addresses formatted in place.</summary>
[InterpolatedStringHandler]
internal readonly ref struct Utf8LineHandler
{
    private readonly Utf8Out _out;

    public Utf8LineHandler(int literalLength, int formattedCount, Utf8Out output)
    {
        _out = output;
        output.Reserve(literalLength + formattedCount * 16 + 1);
    }

    public void AppendLiteral(string value) => _out.Append(value);
    public void AppendFormatted(string? value) => _out.Append(value);
    public void AppendFormatted(ReadOnlySpan<byte> utf8) => _out.Append(utf8);
    public void AppendFormatted<T>(T value) where T : IUtf8SpanFormattable? => _out.Append(value);
    /// <summary>Nothing for null, as string interpolation writes.</summary>
    public void AppendFormatted<T>(T? value) where T : struct, IUtf8SpanFormattable
    {
        if (value is { } v) _out.Append(v);
    }
}
