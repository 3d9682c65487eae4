namespace Overlay.Core.Render;

/// <summary>One rendered file: a path relative to the output folder ('/'-separated) and its LF-terminated text.</summary>
public sealed record RenderedFile(string RelativePath, string Content);
