namespace Overlay.Core.Lint;

/// <summary>
/// What lint may know about files on the nodes. Core does no I/O: the CLI passes a view of the local
/// machine (useful when linting on the node itself), tests pass a table, and render passes
/// <see cref="FileSystemView.Unknown"/> when it cannot see the nodes.
/// </summary>
public interface IFileSystemView
{
    /// <summary>Permission bits of <paramref name="path"/> on <paramref name="node"/>, or null when not known from here.</summary>
    UnixFileMode? GetMode(string node, string path);
}

public static class FileSystemView
{
    /// <summary>Knows nothing: file checks are skipped.</summary>
    public static IFileSystemView Unknown { get; } = new UnknownView();

    private sealed class UnknownView : IFileSystemView
    {
        public UnixFileMode? GetMode(string node, string path) => null;
    }
}
