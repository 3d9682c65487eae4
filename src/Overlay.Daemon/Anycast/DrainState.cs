namespace Overlay.Daemon.Anycast;

/// <summary>
/// One operator drain in force and when it began: <see cref="Source"/> is "operator" (through the API) or "file"
/// (the drain file); <see cref="Vip"/> is null when it drains every VIP.
/// </summary>
public sealed record DrainSince(string Source, string? Vip, DateTimeOffset Since);

/// <summary>
/// Why VIPs are drained: the operator (all or per VIP, through the API), the drain file, or shutdown.
/// Any one of them keeps a VIP withdrawn. Each operator drain remembers when it began, so a drain left on
/// after maintenance can be alerted on.
/// </summary>
public sealed class DrainState(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _vips = new(StringComparer.Ordinal);
    private DateTimeOffset? _all;
    private DateTimeOffset? _file;
    private bool _shuttingDown;

    public DrainState() : this(TimeProvider.System) { }

    public bool IsDrained(string vip) { lock (_lock) return _all is not null || _file is not null || _shuttingDown || _vips.ContainsKey(vip); }

    public string Reason(string vip)
    {
        lock (_lock)
            return _shuttingDown ? "shutting down" : _file is not null ? "drain file present" : _all is not null ? "operator drained all VIPs" : _vips.ContainsKey(vip) ? "operator drained this VIP" : "";
    }

    /// <summary>Drains one VIP, or all when <paramref name="vip"/> is null. Draining again keeps the original start.</summary>
    public void Drain(string? vip)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (vip is null) _all ??= now;
            else _vips.TryAdd(vip, now);
        }
    }

    /// <summary>Undrains one VIP, or clears every operator drain when null (the drain file still applies).</summary>
    public void Undrain(string? vip)
    {
        lock (_lock)
        {
            if (vip is null) { _all = null; _vips.Clear(); }
            else _vips.Remove(vip);
        }
    }

    /// <param name="since">When the file was created (its mtime), so the start survives a restart; now when null or later.</param>
    /// <returns>True when the file state changed.</returns>
    public bool SetFile(bool present, DateTimeOffset? since = null)
    {
        lock (_lock)
        {
            bool changed = (_file is not null) != present;
            if (!present) _file = null;
            else if (_file is null)
            {
                var now = time.GetUtcNow();
                _file = since is { } s && s < now ? s : now;
            }
            return changed;
        }
    }

    public bool FilePresent { get { lock (_lock) return _file is not null; } }

    public void BeginShutdown() { lock (_lock) _shuttingDown = true; }

    public DrainSnapshot Snapshot() { lock (_lock) return new(_all is not null, _file is not null, _shuttingDown, _vips.Keys.Order(StringComparer.Ordinal).ToList()); }

    /// <summary>The operator drains in force (not shutdown), each with its start: the file, all VIPs, then VIPs by name.</summary>
    public IReadOnlyList<DrainSince> Since()
    {
        lock (_lock)
        {
            var list = new List<DrainSince>();
            if (_file is { } f) list.Add(new("file", null, f));
            if (_all is { } a) list.Add(new("operator", null, a));
            foreach (var (vip, s) in _vips.OrderBy(x => x.Key, StringComparer.Ordinal)) list.Add(new("operator", vip, s));
            return list;
        }
    }
}
