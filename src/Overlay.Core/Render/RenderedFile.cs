using System.Text;

namespace Overlay.Core.Render;

/// <summary>
/// One rendered file: a path relative to the output folder ('/'-separated) and its LF-terminated text as
/// UTF-8, the exact bytes to write, and the mode to write them with. Equal when path and bytes are equal.
/// </summary>
public sealed class RenderedFile(string relativePath, ReadOnlyMemory<byte> utf8, UnixFileMode mode = RenderedFile.DefaultMode) : IEquatable<RenderedFile>
{
    /// <summary>rw-r----- : read by root and the group that runs the daemon (FRR's frr.conf is 0640 frr:frr).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    /// <summary>rw------- : wg-quick warns about (and FRR/WireGuard guides require) configs others can read.</summary>
    public const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string RelativePath { get; } = relativePath;

    /// <summary>The exact mode to write the file with, whatever the writer's umask (docs/security.md).</summary>
    public UnixFileMode Mode { get; } = mode;

    /// <summary>
    /// The file's bytes. The files of one node share one buffer: a 1000-node mesh renders a million files,
    /// and a string (or array) each made the collector most of the work.
    /// </summary>
    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    /// <summary>The text, decoded on every call: for tests and small tools; writers and comparisons use <see cref="Utf8"/>.</summary>
    public string Content => Encoding.UTF8.GetString(Utf8.Span);

    public bool Equals(RenderedFile? other) =>
        other is not null && string.Equals(RelativePath, other.RelativePath, StringComparison.Ordinal) && Utf8.Span.SequenceEqual(other.Utf8.Span);

    public override bool Equals(object? obj) => Equals(obj as RenderedFile);

    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(RelativePath), Utf8.Length);

    public override string ToString() => $"{RelativePath} ({Utf8.Length} bytes)";
}
