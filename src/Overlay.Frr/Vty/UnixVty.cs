using System.Net.Sockets;
using Overlay.Frr.Northbound;

namespace Overlay.Frr.Vty;

/// <summary>Options of <see cref="UnixVty"/>.</summary>
public sealed class VtyOptions
{
    /// <summary>FRR's state directory (its <c>--localstatedir</c>).</summary>
    public string Directory { get; init; } = "/var/run/frr";

    /// <summary>FRR <c>-N</c> pathspace; empty = the default instance.</summary>
    public string Pathspace { get; init; } = string.Empty;

    /// <summary>Limit for connect + command + complete reply.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest reply accepted (a full BGP table can be large).</summary>
    public int MaxOutputBytes { get; init; } = 64 * 1024 * 1024;

    public string SocketPath(FrrDaemon daemon) =>
        Path.Combine(Pathspace.Length == 0 ? Directory : Path.Combine(Directory, Pathspace), daemon.ToDaemonName() + ".vty");
}

/// <summary><see cref="IVty"/> over the daemons' Unix sockets <c>DIR[/PATHSPACE]/DAEMON.vty</c>; one connection per command.</summary>
public sealed class UnixVty(VtyOptions options) : IVty
{
    private readonly VtyOptions _options = options ?? throw new ArgumentNullException(nameof(options));

    public async Task<string> ExecuteAsync(FrrDaemon daemon, string command, CancellationToken cancellationToken = default)
    {
        var request = VtyFraming.EncodeCommand(command);
        var path = _options.SocketPath(daemon);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);

        VtyStatus status;
        string output;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(request, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            (status, output) = await ReadReplyAsync(socket, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FrrVtyException(daemon, command, path, new TimeoutException($"no complete reply within {_options.Timeout.TotalSeconds:0.###} s", e));
        }
        catch (SocketException e)
        {
            throw new FrrVtyException(daemon, command, path, e);
        }
        catch (InvalidDataException e)
        {
            throw new FrrVtyException(daemon, command, path, e);
        }

        if (status != VtyStatus.Success)
            throw new FrrVtyException(daemon, command, status, output);
        return output;
    }

    private async Task<(VtyStatus, string)> ReadReplyAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= _options.MaxOutputBytes)
                    throw new InvalidDataException($"reply exceeds {_options.MaxOutputBytes} bytes");
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, _options.MaxOutputBytes));
            }
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
                throw new InvalidDataException($"the daemon closed the connection after {length} bytes without a status trailer");
            length += read;
            // The trailer is the last thing the daemon writes; a reply never ends in three NULs otherwise.
            if (socket.Available == 0 && VtyFraming.TryGetTrailer(buffer.AsSpan(0, length), out var status))
                return (status, VtyFraming.DecodeOutput(buffer.AsSpan(0, length)));
        }
    }
}
