using Overlay.Linux.Interop;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Rtnetlink;

internal sealed class NetlinkLinkTable(RtnetlinkConnection connection) : ILinkTable
{
    public Task<IReadOnlyList<LinkInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        connection.RunAsync<IReadOnlyList<LinkInfo>>(() => connection.DumpList<LinkInfo>(
            LinkCodec.WriteDump,
            (in NetlinkMessage m, out LinkInfo l) => { l = LinkCodec.Read(m); return true; },
            "RTM_GETLINK(dump)"), cancellationToken);

    public Task<LinkInfo?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return connection.RunAsync(() => Get(0, name, $"link '{name}'"), cancellationToken);
    }

    public Task<LinkInfo?> GetAsync(int index, CancellationToken cancellationToken = default) =>
        connection.RunAsync(() => Get(index, null, $"link #{index}"), cancellationToken);

    public Task SetUpAsync(int index, bool up, CancellationToken cancellationToken = default) =>
        connection.RunAsync(() =>
        {
            LinkCodec.WriteSetUp(connection.Writer, index, up, connection.Socket.NextSequence());
            connection.Socket.Execute(connection.Writer, up ? "RTM_NEWLINK(up)" : "RTM_NEWLINK(down)", $"link #{index} in {connection.Where}");
        }, cancellationToken);

    private LinkInfo? Get(int index, string? name, string what)
    {
        LinkInfo? found = null;
        LinkCodec.WriteGet(connection.Writer, index, name, connection.Socket.NextSequence());
        try
        {
            connection.Socket.Execute(connection.Writer, "RTM_GETLINK", $"{what} in {connection.Where}", (in NetlinkMessage m) =>
            {
                if (m.Type == RtmType.NewLink) found = LinkCodec.Read(m);
            });
        }
        catch (LinuxException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
        return found;
    }
}
