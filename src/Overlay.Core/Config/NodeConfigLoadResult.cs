using Overlay.Core.Diagnostics;

namespace Overlay.Core.Config;

/// <summary>The config, or every error found in the file (all <see cref="Severity.Error"/>, sorted by location).</summary>
public sealed record NodeConfigLoadResult(NodeConfig? Config, IReadOnlyList<Diagnostic> Errors)
{
    public bool Ok => Config is not null && Errors.Count == 0;
}
