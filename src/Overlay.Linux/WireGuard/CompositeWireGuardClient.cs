using System.Collections.Concurrent;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Asks each backend in turn for a device; "not found" from one falls through to the next, any other
/// error is the answer (a device that exists but fails must not be masked by another backend).
/// The backend that last served a device is asked first next time: a daemon reads the same devices every
/// few seconds, and asking the kernel backend first for a wireguard-go device each time cost a netlink
/// round trip and two exceptions per read (most of overlayd's idle CPU at 200 userspace devices).
/// </summary>
internal sealed class CompositeWireGuardClient : IWireGuardClient
{
    private readonly IReadOnlyList<IWireGuardClient> _backends;
    private readonly ConcurrentDictionary<string, IWireGuardClient> _servedBy = new(StringComparer.Ordinal);

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
        var last = _servedBy.GetValueOrDefault(name);
        var order = last is null ? _backends : _backends.Where(b => !ReferenceEquals(b, last)).Prepend(last);
        foreach (var backend in order)
        {
            try
            {
                var result = await call(backend).ConfigureAwait(false);
                if (!ReferenceEquals(backend, last)) _servedBy[name] = backend;
                return result;
            }
            catch (WireGuardDeviceNotFoundException e)
            {
                // From the one that served it last: deleted, or re-created by the other implementation.
                if (ReferenceEquals(backend, last)) _servedBy.TryRemove(KeyValuePair.Create(name, backend));
                reasons.Add(e.Message);
            }
        }
        throw new WireGuardDeviceNotFoundException(name, operation, "no backend serves it: " + string.Join("; ", reasons));
    }
}
