namespace Overlay.Daemon.Anycast;

public sealed record DrainSnapshot(bool All, bool File, bool ShuttingDown, IReadOnlyList<string> Vips);

/// <summary>
/// Why VIPs are drained: the operator (all or per VIP, through the API), the drain file, or shutdown.
/// Any one of them keeps a VIP withdrawn.
/// </summary>
public sealed class DrainState
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _vips = new(StringComparer.Ordinal);
    private bool _all;
    private bool _file;
    private bool _shuttingDown;

    public bool IsDrained(string vip) { lock (_lock) return _all || _file || _shuttingDown || _vips.Contains(vip); }

    public string Reason(string vip)
    {
        lock (_lock)
            return _shuttingDown ? "shutting down" : _file ? "drain file present" : _all ? "operator drained all VIPs" : _vips.Contains(vip) ? "operator drained this VIP" : "";
    }

    /// <summary>Drains one VIP, or all when <paramref name="vip"/> is null.</summary>
    public void Drain(string? vip) { lock (_lock) { if (vip is null) _all = true; else _vips.Add(vip); } }

    /// <summary>Undrains one VIP, or clears every operator drain when null (the drain file still applies).</summary>
    public void Undrain(string? vip)
    {
        lock (_lock)
        {
            if (vip is null) { _all = false; _vips.Clear(); }
            else _vips.Remove(vip);
        }
    }

    /// <returns>True when the file state changed.</returns>
    public bool SetFile(bool present) { lock (_lock) { bool changed = _file != present; _file = present; return changed; } }

    public void BeginShutdown() { lock (_lock) _shuttingDown = true; }

    public DrainSnapshot Snapshot() { lock (_lock) return new(_all, _file, _shuttingDown, _vips.Order(StringComparer.Ordinal).ToList()); }
}
