using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

public class CompositeWireGuardClientTests
{
    private sealed class FakeBackend(string label, params string[] names) : IWireGuardClient
    {
        public List<string> Names { get; } = [.. names];
        public List<string> Calls { get; } = [];
        public Exception? Failure { get; init; }

        public Task<IReadOnlyList<WireGuardDevice>> DevicesAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<WireGuardDevice>>(Names.Select(Make).ToList());

        public Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default)
        {
            Calls.Add("get " + name);
            if (Failure is not null) throw Failure;
            return Names.Contains(name)
                ? Task.FromResult(Make(name))
                : throw new WireGuardDeviceNotFoundException(name, "get", $"not in {label}");
        }

        public Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default)
        {
            Calls.Add("set " + name);
            return Names.Contains(name) ? Task.CompletedTask : throw new WireGuardDeviceNotFoundException(name, "set", $"not in {label}");
        }

        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;

        private WireGuardDevice Make(string name) =>
            new(name, label == "kernel" ? WireGuardDeviceType.Kernel : WireGuardDeviceType.Userspace, null, default, 0, 0, []);
    }

    [Fact]
    public async Task Not_found_falls_through_to_the_next_backend()
    {
        var kernel = new FakeBackend("kernel", "wg0");
        var user = new FakeBackend("user", "wg1");
        using var client = WireGuardClient.CreateComposite(kernel, user);

        Assert.Equal(WireGuardDeviceType.Userspace, (await client.DeviceAsync("wg1")).Type);
        Assert.Equal(WireGuardDeviceType.Kernel, (await client.DeviceAsync("wg0")).Type);
        Assert.Equal(["get wg1", "get wg0"], kernel.Calls);
        Assert.Equal(["get wg1"], user.Calls);

        await client.ConfigureDeviceAsync("wg1", new WireGuardDeviceConfig { ListenPort = 1 });
        Assert.Equal("set wg1", user.Calls[^1]);
    }

    [Fact]
    public async Task The_backend_that_served_a_device_is_asked_first_until_it_no_longer_has_it()
    {
        var kernel = new FakeBackend("kernel");
        var user = new FakeBackend("user", "wg1");
        using var client = WireGuardClient.CreateComposite(kernel, user);

        for (int i = 0; i < 3; i++) Assert.Equal(WireGuardDeviceType.Userspace, (await client.DeviceAsync("wg1")).Type);
        await client.ConfigureDeviceAsync("wg1", new WireGuardDeviceConfig { ListenPort = 1 });
        // The kernel backend was asked once, for the first read; every later call went straight to userspace.
        Assert.Equal(["get wg1"], kernel.Calls);
        Assert.Equal(["get wg1", "get wg1", "get wg1", "set wg1"], user.Calls);

        // The device is re-created as a kernel device: userspace's "not found" falls through to the kernel backend,
        // which is then asked first.
        user.Names.Clear();
        kernel.Names.Add("wg1");
        Assert.Equal(WireGuardDeviceType.Kernel, (await client.DeviceAsync("wg1")).Type);
        Assert.Equal(WireGuardDeviceType.Kernel, (await client.DeviceAsync("wg1")).Type);
        Assert.Equal(["get wg1", "get wg1", "get wg1"], kernel.Calls);
        Assert.Equal(5, user.Calls.Count);

        // Gone everywhere: both reasons, then both backends asked again in order.
        kernel.Names.Clear();
        var e = await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() => client.DeviceAsync("wg1"));
        Assert.Contains("not in kernel", e.Message);
        Assert.Contains("not in user", e.Message);
    }

    [Fact]
    public async Task Missing_everywhere_says_why_per_backend()
    {
        using var client = WireGuardClient.CreateComposite(new FakeBackend("kernel"), new FakeBackend("user"));
        var e = await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() => client.DeviceAsync("wg9"));
        Assert.Contains("not in kernel", e.Message);
        Assert.Contains("not in user", e.Message);
    }

    [Fact]
    public async Task Other_errors_are_not_masked_by_later_backends()
    {
        var broken = new FakeBackend("kernel", "wg0") { Failure = new WireGuardException("wg0", "get", "EPERM", 1) };
        var user = new FakeBackend("user", "wg0");
        using var client = WireGuardClient.CreateComposite(broken, user);
        var e = await Assert.ThrowsAsync<WireGuardException>(() => client.DeviceAsync("wg0"));
        Assert.Equal(1, e.Errno);
        Assert.Empty(user.Calls);
    }

    [Fact]
    public async Task Devices_are_the_union_first_backend_wins_a_name()
    {
        var kernel = new FakeBackend("kernel", "wg0", "wg1");
        var user = new FakeBackend("user", "wg1", "wg2");
        var client = WireGuardClient.CreateComposite(kernel, user);
        var devices = await client.DevicesAsync();
        Assert.Equal(["wg0", "wg1", "wg2"], devices.Select(d => d.Name));
        Assert.Equal(WireGuardDeviceType.Kernel, devices[1].Type);
        client.Dispose();
        Assert.True(kernel.Disposed && user.Disposed);
    }
}
