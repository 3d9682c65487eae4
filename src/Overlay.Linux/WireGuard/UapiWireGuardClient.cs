using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Userspace backend: one UAPI socket per device in a directory shared by all network namespaces
/// (/var/run/wireguard/NAME.sock). Each call opens its own connection, so the client is thread-safe.
/// </summary>
internal sealed class UapiWireGuardClient : IWireGuardClient
{
    private readonly string _directory;
    private readonly TimeSpan _connectTimeout;
    private readonly ILogger _log;

    public UapiWireGuardClient(string directory, TimeSpan connectTimeout, ILogger log)
    {
        _directory = directory;
        _connectTimeout = connectTimeout;
        _log = log;
    }

    public async Task<IReadOnlyList<WireGuardDevice>> DevicesAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(_directory)) return [];
        var names = Directory.EnumerateFiles(_directory, "*.sock")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();
        var devices = new List<WireGuardDevice>(names.Count);
        foreach (var name in names)
        {
            try
            {
                devices.Add(await DeviceAsync(name, cancellationToken).ConfigureAwait(false));
            }
            catch (WireGuardDeviceNotFoundException e)
            {
                // A socket file whose process died, or a device that went away while listing.
                WireGuardLog.SkippedStaleSocket(_log, name, e.Message);
            }
        }
        return devices;
    }

    public async Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        var reply = await ExchangeAsync(name, "get", UapiCodec.GetRequest, cancellationToken).ConfigureAwait(false);
        return UapiCodec.ParseGet(name, reply.Span);
    }

    public async Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.IsEmpty) return;
        var reply = await ExchangeAsync(name, "set", UapiCodec.FormatSet(config), cancellationToken).ConfigureAwait(false);
        UapiCodec.CheckSetReply(name, reply.Span);
        WireGuardLog.Configured(_log, name, "userspace", config.Peers.Count);
    }

    public void Dispose() { }

    private async Task<ReadOnlyMemory<byte>> ExchangeAsync(string name, string operation, string request, CancellationToken cancellationToken)
    {
        WireGuardNames.Validate(name);
        string path = Path.Combine(_directory, name + ".sock");
        if (!File.Exists(path))
            throw new WireGuardDeviceNotFoundException(name, operation, $"no userspace device: {path} does not exist");

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connect.CancelAfter(_connectTimeout);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WireGuardException(name, operation, $"no connection to {path} within {_connectTimeout.TotalMilliseconds:0} ms", errno: 110 /* ETIMEDOUT */);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                throw new WireGuardDeviceNotFoundException(name, operation, $"no process listens on {path} (stale socket of a stopped device)", e);
            }
            catch (SocketException e)
            {
                throw new WireGuardException(name, operation, $"connect to {path}: {e.Message}", e.ErrorCode, e);
            }
        }

        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return await ReceiveReplyAsync(socket, cancellationToken).ConfigureAwait(false)
                ?? throw new WireGuardException(name, operation, $"{path} closed the connection before the end of its reply");
        }
        catch (SocketException e)
        {
            throw new WireGuardException(name, operation, $"talking to {path}: {e.Message}", e.ErrorCode, e);
        }
    }

    /// <summary>Reads until the empty line that ends every reply; null when the peer closes first.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReceiveReplyAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            var memory = buffer.GetMemory(64 * 1024);
            int n = await socket.ReceiveAsync(memory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0) return null;
            buffer.Advance(n);
            // Lines are never empty inside a reply, so "\n\n" can only be its end.
            var written = buffer.WrittenSpan;
            if (written.Length >= 2 && written[^1] == (byte)'\n' && written[^2] == (byte)'\n')
                return buffer.WrittenMemory;
        }
    }
}

internal static class WireGuardNames
{
    /// <summary>Interface names are at most 15 bytes and never a path.</summary>
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 15 || name.Contains('/') || name is "." or ".." || name.Any(char.IsWhiteSpace))
            throw new ArgumentException($"'{name}' is not an interface name: at most 15 characters, no '/', no spaces", nameof(name));
    }
}
