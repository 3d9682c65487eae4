using Microsoft.Extensions.Logging;
using Overlay.Core.Diagnostics;
using Overlay.Core.Events;
using Overlay.Core.Config;
using Overlay.Daemon.Logging;
using Overlay.Daemon.Metrics;

namespace Overlay.Daemon.Config;

/// <summary>
/// The configuration in force. A reload that fails keeps the last good configuration and says why;
/// readers always see one complete, validated <see cref="NodeConfig"/>.
/// </summary>
public sealed class ConfigStore
{
    private readonly ILogger<ConfigStore> _logger;
    private readonly EventTimeline _events;
    private readonly DaemonMetrics _metrics;
    private volatile NodeConfig _current;
    private int _generation = 1;

    public ConfigStore(string path, NodeConfig initial, ILogger<ConfigStore> logger, EventTimeline events, DaemonMetrics metrics)
    {
        Path = path;
        _current = initial;
        _logger = logger;
        _events = events;
        _metrics = metrics;
    }

    public string Path { get; }
    public NodeConfig Current => _current;
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Raised after a successful reload.</summary>
    public event Action<NodeConfig, NodeConfig>? Changed;

    /// <summary>Reads and validates a file; I/O problems come back as errors like any other.</summary>
    public static NodeConfigLoadResult LoadFile(string path)
    {
        byte[] bytes;
        try
        {
            // Bytes, not text: the loader decodes strictly and reports invalid UTF-8 with its position.
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new(null, [Diagnostic.Error(ConfigCodes.Unreadable, new SourceLocation(path, 1, 1), $"cannot read the file: {ex.Message}", "check the path given to --config and its permissions")]);
        }
        return NodeConfigYaml.Read(bytes, path);
    }

    public NodeConfigLoadResult Reload()
    {
        var result = LoadFile(Path);
        _metrics.ConfigReload(result.Ok);
        if (!result.Ok)
        {
            var errors = string.Join(Environment.NewLine, result.Errors);
            Log.ConfigReloadRejected(_logger, Path, errors);
            _events.Append(EventSource.Config, Path, "reload rejected", reason: $"{result.Errors.Count} error(s); first: {result.Errors[0]}");
            return result;
        }
        var old = _current;
        var next = result.Config!;
        if (old.Api != next.Api) Log.ConfigNeedsRestart(_logger, "api");
        if (old.Metrics != next.Metrics) Log.ConfigNeedsRestart(_logger, "metrics");
        _current = next;
        int gen = Interlocked.Increment(ref _generation);
        Log.ConfigReloaded(_logger, Path, gen);
        _events.Append(EventSource.Config, Path, "reloaded", (gen - 1).ToString(), gen.ToString());
        Changed?.Invoke(old, next);
        return result;
    }
}
