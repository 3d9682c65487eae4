using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// Userspace backend: one UAPI socket per device in a directory shared by all network namespaces
/// (/var/run/wireguard/NAME.sock). A "set" opens its own connection; a "get" reuses the device's idle connection
/// when there is one (see <see cref="_idle"/>). Thread-safe: a connection serves one call at a time.
/// </summary>
internal sealed class UapiWireGuardClient : IWireGuardClient
{
    /// <summary>Connections idle longer than this are closed (a device no longer read, or gone).</summary>
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(60);
    /// <summary>At most this many idle connections (one fd each) are kept; beyond, a get connects anew.</summary>
    private const int MaxIdle = 4096;
    private static readonly byte[] GetRequest = Encoding.ASCII.GetBytes(UapiCodec.GetRequest);

    private readonly string _directory;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _replyTimeout;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private int _lastReplySize;

    /// <summary>
    /// One idle connection per device for "get": wireguard-go answers any number of requests on one connection, and a
    /// poller that connected for every read spent ~40 % of each read on socket, connect and close (an idle overlayd
    /// reads hundreds of devices every few seconds; docs/benchmarks.md, NativeAOT). A server that went away (a
    /// restarted wireguard-go) or answers one request per connection (boringtun) fails the reused request at once, and
    /// it is sent again on a new connection. A "set" always gets a new connection: it is never sent twice.
    /// </summary>
    private readonly ConcurrentDictionary<string, (Socket Socket, DateTimeOffset IdleSince)> _idle = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    public UapiWireGuardClient(string directory, TimeSpan connectTimeout, TimeSpan replyTimeout, ILogger log, TimeProvider? time = null)
    {
        _directory = directory;
        _connectTimeout = connectTimeout;
        _replyTimeout = replyTimeout;
        _log = log;
        _time = time ?? TimeProvider.System;
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

    // Synchronous underneath (see Talk); failures reach the caller as a faulted task, as from any backend.
    public Task<WireGuardDevice> DeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = Get(name, cancellationToken);
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
            WireGuardNames.Validate(name);
            using var socket = Connect(name, "set", cancellationToken);
            var reply = Talk(socket, name, "set", Encoding.ASCII.GetBytes(UapiCodec.FormatSet(config)), cancellationToken);
            UapiCodec.CheckSetReply(name, reply.Span);
            WireGuardLog.Configured(_log, name, "userspace", config.Peers.Count);
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    public void Dispose()
    {
        foreach (var name in _idle.Keys)
            if (_idle.TryRemove(name, out var idle)) idle.Socket.Dispose();
    }

    private string SocketPath(string name) => Path.Combine(_directory, name + ".sock");

    private ReadOnlyMemory<byte> Get(string name, CancellationToken cancellationToken)
    {
        WireGuardNames.Validate(name);
        if (_idle.TryRemove(name, out var idle))
        {
            if (TalkAgain(idle.Socket, name, cancellationToken) is { } again)
            {
                Keep(name, idle.Socket, cancellationToken);
                return again;
            }
            idle.Socket.Dispose();
        }
        var socket = Connect(name, "get", cancellationToken);
        try
        {
            var reply = Talk(socket, name, "get", GetRequest, cancellationToken);
            Keep(name, socket, cancellationToken);
            socket = null;
            return reply;
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>
    /// The get on a kept connection; null when its server has closed it (the caller connects anew). A reply that does
    /// not come in time is an error as on a new connection: asking again would only double the wait.
    /// </summary>
    private ReadOnlyMemory<byte>? TalkAgain(Socket socket, string name, CancellationToken cancellationToken)
    {
        using var cancel = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
        try
        {
            socket.Send(GetRequest, SocketFlags.None, out var sent);
            if (sent != SocketError.Success) return null;
            if (ReceiveReply(socket, out var received) is { } reply) return reply;
            cancellationToken.ThrowIfCancellationRequested();
            if (received is SocketError.TimedOut or SocketError.WouldBlock) throw ReplyTimedOut(name, "get", null);
            return null;
        }
        catch (ObjectDisposedException e) when (cancellationToken.IsCancellationRequested)
        {
            throw Cancelled(name, "get", e, cancellationToken);
        }
    }

    /// <summary>Back to the idle set, unless the call was cancelled (its connection may be closed) or the set is full.</summary>
    private void Keep(string name, Socket socket, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (cancellationToken.IsCancellationRequested || _idle.Count >= MaxIdle || !_idle.TryAdd(name, (socket, now))) socket.Dispose();
        long next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, (now + IdleLimit / 2).UtcTicks, next) != next) return;
        foreach (var (device, entry) in _idle)
            if (now - entry.IdleSince > IdleLimit && _idle.TryRemove(new KeyValuePair<string, (Socket, DateTimeOffset)>(device, entry)))
                entry.Socket.Dispose();
    }

    /// <summary>A new connection to the device's socket; throws "not found" when nothing listens there.</summary>
    private Socket Connect(string name, string operation, CancellationToken cancellationToken)
    {
        string path = SocketPath(name);
        // No stat before the connect: connect says "absent" itself (ENOENT), so a poller pays the path walk once; the
        // file is looked at only to word that answer.
        // The whole exchange uses blocking calls on a socket that never enters the async engine: wireguard-go accepts
        // and answers in microseconds, and each async step (connect, then a receive per 4 KiB piece) cost a thread-pool
        // dispatch plus an epoll-thread wake-up; a poller reads hundreds of devices, and those hand-offs were most of an
        // idle overlayd's CPU (docs/benchmarks.md, NativeAOT). SO_SNDTIMEO bounds a Unix-socket connect (it waits only
        // while the listener's backlog is full, i.e. a wedged wireguard-go); SO_RCVTIMEO bounds the reply.
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendTimeout = Math.Max(1, (int)_connectTimeout.TotalMilliseconds);
            socket.ReceiveTimeout = Math.Max(1, (int)_replyTimeout.TotalMilliseconds);
            using var cancel = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw Cancelled(name, operation, e, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            socket.Dispose();
            throw new WireGuardDeviceNotFoundException(name, operation, File.Exists(path)
                ? $"no process listens on {path} (stale socket of a stopped device)"
                : $"no userspace device: {path} does not exist", e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TimedOut or SocketError.InProgress)
        {
            socket.Dispose();
            throw new WireGuardException(name, operation, $"no connection to {path} within {_connectTimeout.TotalMilliseconds:0} ms", errno: 110 /* ETIMEDOUT */, e);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new WireGuardException(name, operation, $"connect to {path}: {e.Message}", e.ErrorCode, e);
        }
    }

    /// <summary>One request and its whole reply on a connected socket.</summary>
    private ReadOnlyMemory<byte> Talk(Socket socket, string name, string operation, byte[] request, CancellationToken cancellationToken)
    {
        string path = SocketPath(name);
        using var cancel = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
        try
        {
            socket.Send(request);
            if (ReceiveReply(socket, out var error) is { } reply) return reply;
            // Closing the socket on cancellation can also end a blocked receive as an orderly end of stream.
            cancellationToken.ThrowIfCancellationRequested();
            if (error is SocketError.TimedOut or SocketError.WouldBlock) throw ReplyTimedOut(name, operation, null);
            if (error != SocketError.Success) throw new SocketException((int)error);
            throw new WireGuardException(name, operation, $"{path} closed the connection before the end of its reply");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
            throw Cancelled(name, operation, e, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw ReplyTimedOut(name, operation, e);
        }
        catch (SocketException e)
        {
            throw new WireGuardException(name, operation, $"talking to {path}: {e.Message}", e.ErrorCode, e);
        }
    }

    private WireGuardException ReplyTimedOut(string name, string operation, Exception? inner) =>
        new(name, operation, $"no complete reply from {SocketPath(name)} within {_replyTimeout.TotalMilliseconds:0} ms", errno: 110 /* ETIMEDOUT */, inner);

    private static OperationCanceledException Cancelled(string name, string operation, Exception inner, CancellationToken cancellationToken) =>
        new($"WireGuard {operation} on '{name}' was cancelled", inner, cancellationToken);

    /// <summary>Reads until the empty line that ends every reply; null when the peer closes first or the receive fails (<paramref name="error"/>).</summary>
    private ReadOnlyMemory<byte>? ReceiveReply(Socket socket, out SocketError error)
    {
        // Sized from the previous reply so a large device is read without regrowing the buffer; small otherwise: a
        // poller reads hundreds of one-peer devices a second, and a 64 KiB buffer per read was most of its allocations.
        var buffer = new ArrayBufferWriter<byte>(_lastReplySize + 4096);
        while (true)
        {
            int n = socket.Receive(buffer.GetSpan(4096), SocketFlags.None, out error);
            if (error != SocketError.Success || n == 0) return null;
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
