namespace Overlay.Core.Config;

/// <summary>One problem in a config file, located and with the fix spelled out.</summary>
/// <param name="Path">The setting in dotted form, e.g. "policies.default.rise" or "vips[1].prefix".</param>
public sealed record ConfigError(string File, int Line, int Column, string Path, string Message, string Fix)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Path}: {Message}; fix: {Fix}";
}

public sealed record NodeConfigLoadResult(NodeConfig? Config, IReadOnlyList<ConfigError> Errors)
{
    public bool Ok => Config is not null && Errors.Count == 0;
}
