using System.Net.Sockets;

namespace Overlay.Linux.Rtnetlink;

internal sealed class NetlinkAddressTable(RtnetlinkConnection connection) : IAddressTable
{
    public Task<IReadOnlyList<InterfaceAddress>> ListAsync(int? interfaceIndex = null, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        byte fam = family switch
        {
            null => AddressFamilies.Unspec,
            AddressFamily.InterNetwork => AddressFamilies.Inet,
            AddressFamily.InterNetworkV6 => AddressFamilies.Inet6,
            var f => throw new ArgumentException($"addresses are IPv4 or IPv6, not {f}", nameof(family)),
        };
        return connection.RunAsync<IReadOnlyList<InterfaceAddress>>(() =>
        {
            var list = connection.DumpList<InterfaceAddress>(
                (w, seq) => AddressCodec.WriteDump(w, fam, interfaceIndex ?? 0, seq),
                AddressCodec.TryRead, "RTM_GETADDR(dump)");
            if (interfaceIndex is { } i) list.RemoveAll(a => a.InterfaceIndex != i);
            return list;
        }, cancellationToken);
    }

    public Task AddAsync(InterfaceAddress address, CancellationToken cancellationToken = default) =>
        Change(add: true, address, cancellationToken);

    public Task DeleteAsync(InterfaceAddress address, CancellationToken cancellationToken = default) =>
        Change(add: false, address, cancellationToken);

    private Task Change(bool add, InterfaceAddress address, CancellationToken cancellationToken)
    {
        int max = address.Address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if ((uint)address.PrefixLength > (uint)max)
            throw new ArgumentOutOfRangeException(nameof(address), $"prefix length {address.PrefixLength} of {address} is not 0..{max}");
        return connection.RunAsync(() =>
        {
            AddressCodec.WriteChange(connection.Writer, add, address, connection.Socket.NextSequence());
            connection.Socket.Execute(connection.Writer, add ? "RTM_NEWADDR" : "RTM_DELADDR", $"address {address} in {connection.Where}");
        }, cancellationToken);
    }
}
