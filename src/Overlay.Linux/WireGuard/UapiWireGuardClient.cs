using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Userspace backend: one UAPI socket per device in a directory shared by all network namespaces
/// (/var/run/wireguard/NAME.sock). Each call opens its own connection, so the client is thread-safe.
/// </summary>
internal sealed class UapiWireGuardClient : IWireGuardClient
{
    private readonly string _directory;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _replyTimeout;
    private readonly ILogger _log;
    private int _lastReplySize;

    public UapiWireGuardClient(string directory, TimeSpan connectTimeout, TimeSpan replyTimeout, ILogger log)
    {
        _directory = directory;
        _connectTimeout = connectTimeout;
        _replyTimeout = replyTimeout;
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

    // Synchronous underneath (see Exchange); failures reach the caller as a faulted task, as from any backend.
    public Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = Exchange(name, "get", UapiCodec.GetRequest, cancellationToken);
            return Task.FromResult(UapiCodec.ParseGet(name, reply.Span));
        }
        catch (Exception e)
        {
            return Task.FromException<WireGuardDevice>(e);
        }
    }

    public Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(config);
            if (config.IsEmpty) return Task.CompletedTask;
            var reply = Exchange(name, "set", UapiCodec.FormatSet(config), cancellationToken);
            UapiCodec.CheckSetReply(name, reply.Span);
            WireGuardLog.Configured(_log, name, "userspace", config.Peers.Count);
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    public void Dispose() { }

    private ReadOnlyMemory<byte> Exchange(string name, string operation, string request, CancellationToken cancellationToken)
    {
        WireGuardNames.Validate(name);
        string path = Path.Combine(_directory, name + ".sock");
        // No stat before the connect: connect says "absent" itself (ENOENT), so a poller pays the path walk once; the
        // file is looked at only to word that answer.
        // The whole exchange uses blocking calls on a socket that never enters the async engine: wireguard-go accepts
        // and answers in microseconds, and each async step (connect, then a receive per 4 KiB piece) cost a thread-pool
        // dispatch plus an epoll-thread wake-up; a poller reads hundreds of devices, and those hand-offs were most of an
        // idle overlayd's CPU (docs/benchmarks.md, NativeAOT). SO_SNDTIMEO bounds a Unix-socket connect (it waits only
        // while the listener's backlog is full, i.e. a wedged wireguard-go); SO_RCVTIMEO bounds the reply.
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.SendTimeout = Math.Max(1, (int)_connectTimeout.TotalMilliseconds);
        socket.ReceiveTimeout = Math.Max(1, (int)_replyTimeout.TotalMilliseconds);
        using var cancel = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"WireGuard {operation} on '{name}' was cancelled", e, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            throw new WireGuardDeviceNotFoundException(name, operation, File.Exists(path)
                ? $"no process listens on {path} (stale socket of a stopped device)"
                : $"no userspace device: {path} does not exist", e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TimedOut or SocketError.InProgress)
        {
            throw new WireGuardException(name, operation, $"no connection to {path} within {_connectTimeout.TotalMilliseconds:0} ms", errno: 110 /* ETIMEDOUT */, e);
        }
        catch (SocketException e)
        {
            throw new WireGuardException(name, operation, $"connect to {path}: {e.Message}", e.ErrorCode, e);
        }

        try
        {
            socket.Send(Encoding.ASCII.GetBytes(request));
            if (ReceiveReply(socket, _lastReplySize) is { } reply) return reply;
            // Closing the socket on cancellation can also end a blocked receive as an orderly end of stream.
            cancellationToken.ThrowIfCancellationRequested();
            throw new WireGuardException(name, operation, $"{path} closed the connection before the end of its reply");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"WireGuard {operation} on '{name}' was cancelled", e, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw new WireGuardException(name, operation, $"no complete reply from {path} within {_replyTimeout.TotalMilliseconds:0} ms", errno: 110 /* ETIMEDOUT */, e);
        }
        catch (SocketException e)
        {
            throw new WireGuardException(name, operation, $"talking to {path}: {e.Message}", e.ErrorCode, e);
        }
    }

    /// <summary>Reads until the empty line that ends every reply; null when the peer closes first.</summary>
    private ReadOnlyMemory<byte>? ReceiveReply(Socket socket, int expectedSize)
    {
        // Sized from the previous reply so a large device is read without regrowing the buffer; small otherwise: a
        // poller reads hundreds of one-peer devices a second, and a 64 KiB buffer per read was most of its allocations.
        var buffer = new ArrayBufferWriter<byte>(expectedSize + 4096);
        while (true)
        {
            int n = socket.Receive(buffer.GetSpan(4096));
            if (n == 0) return null;
            buffer.Advance(n);
            // Lines are never empty inside a reply, so "\n\n" can only be its end.
            var written = buffer.WrittenSpan;
            if (written.Length >= 2 && written[^1] == (byte)'\n' && written[^2] == (byte)'\n')
            {
                _lastReplySize = written.Length;
                return buffer.WrittenMemory;
            }
        }
    }
}
