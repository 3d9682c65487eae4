using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Overlay.Linux.Namespaces;

namespace Overlay.Linux.WireGuard;

public sealed record WireGuardClientOptions
{
    /// <summary>Where userspace implementations put their UAPI sockets.</summary>
    public string UserspaceSocketDirectory { get; init; } = "/var/run/wireguard";
    /// <summary>How long to wait for a UAPI socket to accept a connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How long a userspace device may take to send its whole reply.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The network namespace whose kernel devices the kernel backend sees (null: the current one).
    /// Userspace sockets are shared by all namespaces. The caller owns the namespace handle.</summary>
    public NetNamespace? Namespace { get; init; }
    public ILogger Logger { get; init; } = NullLogger.Instance;
    /// <summary>The clock behind the kernel backend's "module absent" answer reuse and the userspace backend's idle connections.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>Creates WireGuard clients and runs syncs.</summary>
public static class WireGuardClient
{
    /// <summary>
    /// The usual client: the kernel backend first, then userspace, as wgctrl-go orders them. A device one
    /// backend does not serve falls through to the next.
    /// </summary>
    public static IWireGuardClient Create(WireGuardClientOptions? options = null)
    {
        options ??= new WireGuardClientOptions();
        return new CompositeWireGuardClient([CreateKernel(options), CreateUserspace(options)]);
    }

    /// <summary>The kernel (generic netlink) backend alone.</summary>
    public static IWireGuardClient CreateKernel(WireGuardClientOptions? options = null)
    {
        options ??= new WireGuardClientOptions();
        return new GenetlinkWireGuardClient(options.Namespace, options.Logger, options.Time);
    }

    /// <summary>The userspace (UAPI socket) backend alone.</summary>
    public static IWireGuardClient CreateUserspace(WireGuardClientOptions? options = null)
    {
        options ??= new WireGuardClientOptions();
        return new UapiWireGuardClient(options.UserspaceSocketDirectory, options.ConnectTimeout, options.ReplyTimeout, options.Logger, options.Time);
    }

    /// <summary>A composite over the given backends, asked in order.</summary>
    public static IWireGuardClient CreateComposite(params IWireGuardClient[] backends) => new CompositeWireGuardClient(backends);

    /// <summary>
    /// Makes a device match <paramref name="desired"/> with the smallest change ('wg syncconf' semantics):
    /// reads it, plans with <see cref="WireGuardSyncPlanner"/>, sends the plan unless it is empty, and returns it.
    /// </summary>
    public static async Task<WireGuardSyncPlan> SyncAsync(this IWireGuardClient client, string name, WireGuardDeviceSpec desired,
                                                          ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var current = await client.DeviceAsync(name, cancellationToken).ConfigureAwait(false);
        var plan = WireGuardSyncPlanner.Plan(desired, current);
        logger ??= NullLogger.Instance;
        if (plan.IsEmpty)
        {
            WireGuardLog.InSync(logger, name, plan.Unchanged);
            return plan;
        }
        await client.ConfigureDeviceAsync(name, plan.Config, cancellationToken).ConfigureAwait(false);
        WireGuardLog.Synced(logger, name, plan.Added.Count, plan.Updated.Count, plan.Removed.Count, plan.Unchanged);
        return plan;
    }
}
