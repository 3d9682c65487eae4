using Microsoft.Extensions.Logging;
using Overlay.Linux.Interop;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Netlink;
using Overlay.Linux.Rtnetlink;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Kernel backend: the "wireguard" generic netlink family in one network namespace. The family id is
/// resolved on first use; without the kernel module every device is "not found", so the composite
/// falls through to userspace. Requests are serialised on one socket and run off the caller's thread.
/// </summary>
internal sealed class GenetlinkWireGuardClient : IWireGuardClient
{
    public const string ModuleAbsent = "no wireguard generic netlink family (kernel module absent)";
    private const int MaxDumpAttempts = 5;

    private readonly NetNamespace _namespace;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly NetlinkWriter _writer = new(16 * 1024);
    private NetlinkSocket? _socket;
    private ushort _family;
    private bool _absentLogged;
    private readonly TimeProvider _time;
    /// <summary>When the family was last found absent, or null.</summary>
    private DateTimeOffset? _absentAt;

    /// <summary>
    /// Without the module, every "get" of a device would open a netlink socket and ask for the family again. The
    /// answer is reused this long: a module loaded later (modprobe wireguard) is seen within it.
    /// </summary>
    internal static readonly TimeSpan AbsentRecheckInterval = TimeSpan.FromSeconds(10);

    public GenetlinkWireGuardClient(NetNamespace? ns, ILogger log, TimeProvider? time = null)
    {
        _namespace = ns ?? NetNamespace.Current;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Resolves the family; null when available, otherwise why not.</summary>
    public string? Unavailable()
    {
        lock (_gate) return Connect();
    }

    public async Task<IReadOnlyList<WireGuardDevice>> DevicesAsync(CancellationToken cancellationToken = default)
    {
        if (await RunAsync(Connect, cancellationToken).ConfigureAwait(false) is not null) return [];
        IReadOnlyList<LinkInfo> links;
        using (var rtnl = RtnetlinkClient.Open(_namespace))
            links = await rtnl.Links.ListAsync(cancellationToken).ConfigureAwait(false);
        var devices = new List<WireGuardDevice>();
        foreach (var link in links.Where(l => l.Kind == "wireguard"))
        {
            try
            {
                devices.Add(await DeviceAsync(link.Name, cancellationToken).ConfigureAwait(false));
            }
            catch (WireGuardDeviceNotFoundException)
            {
                // Deleted between the link list and the read.
            }
        }
        return devices;
    }

    public Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        WireGuardNames.Validate(name);
        return RunAsync(() =>
        {
            var socket = Require(name, "get");
            for (int attempt = 1; ; attempt++)
            {
                var reader = new WireGuardNetlinkCodec.DeviceDumpReader();
                _writer.Reset();
                WireGuardNetlinkCodec.WriteGetDevice(_writer, _family, socket.NextSequence(), name);
                bool consistent = Translate(name, "get", () => socket.Dump(_writer, "WG_CMD_GET_DEVICE", Target(name), (in NetlinkMessage m) =>
                {
                    if (m.Type == _family) reader.Add(m.Attributes(GenericNetlinkHeader.Size));
                }));
                // The device changed during the dump: the merged parts may not belong together.
                if (consistent || attempt == MaxDumpAttempts) return reader.Build(name);
            }
        }, cancellationToken);
    }

    public Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default)
    {
        WireGuardNames.Validate(name);
        ArgumentNullException.ThrowIfNull(config);
        if (config.IsEmpty) return Task.CompletedTask;
        return RunAsync(() =>
        {
            var socket = Require(name, "set");
            _writer.Reset();
            var messages = WireGuardNetlinkCodec.WriteSetDevice(_writer, _family, socket.NextSequence(), name, config);
            // Skip the sequence numbers the extra messages used.
            for (int i = 1; i < messages.Count; i++) socket.NextSequence();
            // One message at a time: after a failure the rest must not be applied.
            foreach (var (offset, length) in messages)
            {
                NetlinkError? failure = null;
                Translate(name, "set", () =>
                {
                    socket.Transact(_writer.WrittenSpan.Slice(offset, length), null, e => { if (!e.IsAck) failure ??= e; });
                    return true;
                });
                if (failure is { } f) throw Error(name, "set", new LinuxException("WG_CMD_SET_DEVICE", Target(name), f.Errno, f.Message));
            }
            WireGuardLog.Configured(_log, name, "kernel", config.Peers.Count);
            return true;
        }, cancellationToken);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }

    private Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            lock (_gate)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return work();
            }
        }, cancellationToken);

    private NetlinkSocket Require(string name, string operation) =>
        Connect() is { } why ? throw new WireGuardDeviceNotFoundException(name, operation, why) : _socket!;

    /// <summary>Opens the socket and resolves the family id once; called under the lock.</summary>
    private string? Connect()
    {
        if (_socket is not null) return null;
        if (_absentAt is { } at && _time.GetUtcNow() - at < AbsentRecheckInterval) return ModuleAbsent;
        var socket = NetlinkSocket.Open(NetlinkProtocol.Generic, _namespace, receiveBufferSize: 4 << 20, sendBufferSize: 1 << 20);
        try
        {
            socket.SetReceiveTimeout(TimeSpan.FromSeconds(10));
            ushort? family = null;
            _writer.Reset();
            WireGuardNetlinkCodec.WriteGetFamily(_writer, socket.NextSequence());
            socket.Execute(_writer, "CTRL_CMD_GETFAMILY", "generic netlink family 'wireguard'", (in NetlinkMessage m) =>
            {
                if (m.Type == GenericNetlinkController.FamilyId)
                    family = WireGuardNetlinkCodec.ReadFamilyId(m.Attributes(GenericNetlinkHeader.Size));
            });
            _family = family ?? throw new NetlinkFormatException("CTRL_CMD_GETFAMILY answered without CTRL_ATTR_FAMILY_ID");
            _socket = socket;
            _absentAt = null;
            return null;
        }
        catch (LinuxException e) when (e.Errno == Errno.ENOENT)
        {
            socket.Dispose();
            _absentAt = _time.GetUtcNow();
            if (!_absentLogged)
            {
                WireGuardLog.KernelUnavailable(_log, ModuleAbsent);
                _absentLogged = true;
            }
            return ModuleAbsent;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private string Target(string name) => $"WireGuard device '{name}' in netns '{_namespace.Name}'";

    private static T Translate<T>(string name, string operation, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (LinuxException e)
        {
            throw Error(name, operation, e);
        }
    }

    private static WireGuardException Error(string name, string operation, LinuxException e) => e.Errno switch
    {
        // ENODEV: no such link. EOPNOTSUPP: a link that is not a kernel WireGuard device (e.g. wireguard-go's TUN),
        // which another backend may serve.
        Errno.ENODEV or Errno.EOPNOTSUPP => new WireGuardDeviceNotFoundException(name, operation, $"no kernel WireGuard device: {e.Message}", e),
        _ => new WireGuardException(name, operation, e.Message, e.ErrorNumber, e),
    };
}
