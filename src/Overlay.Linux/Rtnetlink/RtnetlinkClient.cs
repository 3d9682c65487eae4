using Overlay.Linux.Interop;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Rtnetlink;

/// <summary>
/// rtnetlink for one network namespace: routes, links and addresses over one NETLINK_ROUTE socket.
/// Requests are serialised (one at a time on the socket); the async methods run the system calls off
/// the caller's thread.
/// </summary>
public sealed class RtnetlinkClient : IDisposable
{
    private readonly RtnetlinkConnection _connection;

    private RtnetlinkClient(RtnetlinkConnection connection)
    {
        _connection = connection;
        Routes = new NetlinkRouteTable(connection);
        Links = new NetlinkLinkTable(connection);
        Addresses = new NetlinkAddressTable(connection);
    }

    /// <summary>Opens a client in <paramref name="ns"/> (null: the current namespace).</summary>
    public static RtnetlinkClient Open(NetNamespace? ns = null)
    {
        // Batched writes queue one ACK per route before they are read; a large buffer keeps them all.
        var socket = NetlinkSocket.Open(NetlinkProtocol.Route, ns, receiveBufferSize: 32 << 20, sendBufferSize: 4 << 20);
        socket.SetReceiveTimeout(TimeSpan.FromSeconds(30));
        return new RtnetlinkClient(new RtnetlinkConnection(socket));
    }

    public IRouteTable Routes { get; }
    public ILinkTable Links { get; }
    public IAddressTable Addresses { get; }
    public string NamespaceName => _connection.Socket.NamespaceName;

    public void Dispose() => _connection.Dispose();
}

internal delegate bool NetlinkParser<T>(in NetlinkMessage message, out T value);

/// <summary>The socket, its request buffer and the lock that serialises their use.</summary>
internal sealed class RtnetlinkConnection(NetlinkSocket socket) : IDisposable
{
    private const int MaxDumpAttempts = 5;
    private readonly object _gate = new();

    public NetlinkSocket Socket { get; } = socket;
    public NetlinkWriter Writer { get; } = new(64 * 1024);
    public string Where => $"netns '{Socket.NamespaceName}'";

    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            lock (_gate)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Writer.Reset();
                return work();
            }
        }, cancellationToken);

    public Task RunAsync(Action work, CancellationToken cancellationToken) =>
        RunAsync(() => { work(); return true; }, cancellationToken);

    /// <summary>Dumps and parses; dumps again when the kernel reports the data changed mid-dump.</summary>
    public List<T> DumpList<T>(Action<NetlinkWriter, uint> build, NetlinkParser<T> parse, string operation, bool missingIsEmpty = false)
    {
        for (int attempt = 1; ; attempt++)
        {
            var list = new List<T>();
            Writer.Reset();
            build(Writer, Socket.NextSequence());
            bool consistent;
            try
            {
                consistent = Socket.Dump(Writer, operation, Where, (in NetlinkMessage m) =>
                {
                    if (parse(m, out var value)) list.Add(value);
                });
            }
            catch (LinuxException e) when (missingIsEmpty && e.Errno == Errno.ENOENT)
            {
                return list;
            }
            if (consistent || attempt == MaxDumpAttempts) return list;
        }
    }

    public void Dispose() => Socket.Dispose();
}
