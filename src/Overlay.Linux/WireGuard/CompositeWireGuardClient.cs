namespace Overlay.Linux.WireGuard;

/// <summary>
/// Asks each backend in turn for a device; "not found" from one falls through to the next, any other
/// error is the answer (a device that exists but fails must not be masked by another backend).
/// </summary>
internal sealed class CompositeWireGuardClient : IWireGuardClient
{
    private readonly IReadOnlyList<IWireGuardClient> _backends;

    public CompositeWireGuardClient(IReadOnlyList<IWireGuardClient> backends)
    {
        if (backends.Count == 0) throw new ArgumentException("at least one backend is needed", nameof(backends));
        _backends = backends;
    }

    public async Task<IReadOnlyList<WireGuardDevice>> DevicesAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<WireGuardDevice>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var backend in _backends)
        {
            foreach (var device in await backend.DevicesAsync(cancellationToken).ConfigureAwait(false))
            {
                // The first backend wins a name, as in Device(name).
                if (seen.Add(device.Name)) all.Add(device);
            }
        }
        return all;
    }

    public Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default) =>
        FirstAsync(name, "get", b => b.DeviceAsync(name, cancellationToken));

    public Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default) =>
        FirstAsync(name, "set", async b =>
        {
            await b.ConfigureDeviceAsync(name, config, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public void Dispose()
    {
        foreach (var backend in _backends) backend.Dispose();
    }

    private async Task<T> FirstAsync<T>(string name, string operation, Func<IWireGuardClient, Task<T>> call)
    {
        var reasons = new List<string>(_backends.Count);
        foreach (var backend in _backends)
        {
            try
            {
                return await call(backend).ConfigureAwait(false);
            }
            catch (WireGuardDeviceNotFoundException e)
            {
                reasons.Add(e.Message);
            }
        }
        throw new WireGuardDeviceNotFoundException(name, operation, "no backend serves it: " + string.Join("; ", reasons));
    }
}
