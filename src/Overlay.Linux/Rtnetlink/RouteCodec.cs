using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Rtnetlink;

/// <summary>Encodes and decodes route messages (RTM_NEWROUTE/DELROUTE/GETROUTE). Pure code.</summary>
internal static class RouteCodec
{
    public static void WriteChange(NetlinkWriter w, RouteOperation operation, KernelRoute route, uint sequence)
    {
        var (type, flags) = operation switch
        {
            RouteOperation.Add => (RtmType.NewRoute, NetlinkMessageFlags.Create | NetlinkMessageFlags.Excl),
            RouteOperation.Replace => (RtmType.NewRoute, NetlinkMessageFlags.Create | NetlinkMessageFlags.Replace),
            RouteOperation.Delete => (RtmType.DelRoute, NetlinkMessageFlags.None),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
        int m = w.BeginMessage(type, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack | flags, sequence);
        var rtm = new RouteMessage
        {
            Family = route.Destination.IsIPv6 ? AddressFamilies.Inet6 : AddressFamilies.Inet,
            DestinationLength = (byte)route.Destination.Length,
            Table = route.Table < 256 ? (byte)route.Table : (byte)RouteTables.Compat,
            // On delete the kernel only matches routes of this protocol: Overlay's deletes cannot hit foreign routes.
            Protocol = route.Protocol,
            Scope = operation == RouteOperation.Delete ? (byte)RouteScope.Nowhere : (byte)route.Scope,
            Type = (byte)route.Type,
        };
        w.Write(rtm);
        w.WriteUInt32(RouteAttr.Table, route.Table);
        if (route.Destination.Length > 0) w.WriteAddress(RouteAttr.Dst, route.Destination.Address);
        if (route.Metric != 0) w.WriteUInt32(RouteAttr.Priority, route.Metric);
        if (operation != RouteOperation.Delete)
        {
            if (route.Gateway is not null) w.WriteAddress(RouteAttr.Gateway, route.Gateway);
            if (route.OutputInterface != 0) w.WriteInt32(RouteAttr.Oif, route.OutputInterface);
            if (route.PreferredSource is not null) w.WriteAddress(RouteAttr.PrefSrc, route.PreferredSource);
        }
        w.EndMessage(m);
    }

    /// <summary>A dump of one family (AF_UNSPEC: both). With strict checking the kernel filters by table and protocol itself.</summary>
    public static void WriteDump(NetlinkWriter w, byte family, uint? table, byte? protocol, uint sequence)
    {
        int m = w.BeginMessage(RtmType.GetRoute, NetlinkMessageFlags.Request | NetlinkMessageFlags.Dump, sequence);
        w.Write(new RouteMessage
        {
            Family = family,
            Table = table is { } t && t < 256 ? (byte)t : (byte)0,
            Protocol = protocol ?? 0,
        });
        if (table is { } tbl) w.WriteUInt32(RouteAttr.Table, tbl);
        w.EndMessage(m);
    }

    /// <summary>The request of <c>ip route get ADDRESS</c>.</summary>
    public static void WriteGet(NetlinkWriter w, IPAddress destination, uint sequence)
    {
        bool v6 = destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        int m = w.BeginMessage(RtmType.GetRoute, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, sequence);
        w.Write(new RouteMessage
        {
            Family = v6 ? AddressFamilies.Inet6 : AddressFamilies.Inet,
            DestinationLength = (byte)(v6 ? 128 : 32),
            Flags = RouteMessage.RTM_F_LOOKUP_TABLE,
        });
        w.WriteAddress(RouteAttr.Dst, destination);
        w.EndMessage(m);
    }

    /// <summary>Decodes an RTM_NEWROUTE/RTM_DELROUTE message; false for families other than IPv4/IPv6 and for cached clones.</summary>
    public static bool TryRead(in NetlinkMessage message, out KernelRoute route) => TryRead(message, includeCloned: false, out route);

    /// <summary>Decodes a route; <paramref name="includeCloned"/> accepts the RTM_F_CLONED answer of a route lookup.</summary>
    public static bool TryRead(in NetlinkMessage message, bool includeCloned, out KernelRoute route)
    {
        route = null!;
        var rtm = message.ReadFamilyHeader<RouteMessage>();
        if (rtm.Family is not (AddressFamilies.Inet or AddressFamilies.Inet6)) return false;
        if (!includeCloned && (rtm.Flags & RouteMessage.RTM_F_CLONED) != 0) return false;
        bool v6 = rtm.Family == AddressFamilies.Inet6;
        uint table = rtm.Table;
        IPAddress? dst = null, gateway = null, prefsrc = null;
        int oif = 0;
        uint metric = 0;
        foreach (var a in message.Attributes(RouteMessage.Size))
        {
            switch (a.Type)
            {
                case RouteAttr.Table: table = a.GetUInt32(); break;
                case RouteAttr.Dst: dst = a.GetAddress(); break;
                case RouteAttr.Gateway: gateway = a.GetAddress(); break;
                case RouteAttr.Oif: oif = a.GetInt32(); break;
                case RouteAttr.Priority: metric = a.GetUInt32(); break;
                case RouteAttr.PrefSrc: prefsrc = a.GetAddress(); break;
            }
        }
        dst ??= v6 ? IPAddress.IPv6Any : IPAddress.Any;
        route = new KernelRoute
        {
            Destination = NetlinkPrefix.Create(dst, rtm.DestinationLength, "rtm_dst_len"),
            Table = table,
            Protocol = rtm.Protocol,
            Type = (RouteType)rtm.Type,
            Scope = (RouteScope)rtm.Scope,
            Gateway = gateway,
            OutputInterface = oif,
            Metric = metric,
            PreferredSource = prefsrc,
        };
        return true;
    }
}
