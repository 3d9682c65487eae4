using System.Net;
using System.Net.Sockets;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Rtnetlink;

/// <summary>Encodes and decodes address messages (RTM_NEWADDR/DELADDR/GETADDR). Pure code.</summary>
internal static class AddressCodec
{
    public static void WriteChange(NetlinkWriter w, bool add, InterfaceAddress address, uint sequence)
    {
        bool v6 = address.Address.AddressFamily == AddressFamily.InterNetworkV6;
        var flags = NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack | (add ? NetlinkMessageFlags.Create | NetlinkMessageFlags.Excl : 0);
        int m = w.BeginMessage(add ? RtmType.NewAddr : RtmType.DelAddr, flags, sequence);
        w.Write(new InterfaceAddressMessage
        {
            Family = v6 ? AddressFamilies.Inet6 : AddressFamilies.Inet,
            PrefixLength = (byte)address.PrefixLength,
            Scope = (byte)address.Scope,
            Index = address.InterfaceIndex,
        });
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer (same on broadcast links).
        w.WriteAddress(AddrAttr.Local, address.Address);
        w.WriteAddress(AddrAttr.Address, address.Address);
        if (add && v6) w.WriteUInt32(AddrAttr.Flags, AddrAttr.IFA_F_NODAD);
        w.EndMessage(m);
    }

    public static void WriteDump(NetlinkWriter w, byte family, int interfaceIndex, uint sequence)
    {
        int m = w.BeginMessage(RtmType.GetAddr, NetlinkMessageFlags.Request | NetlinkMessageFlags.Dump, sequence);
        w.Write(new InterfaceAddressMessage { Family = family, Index = interfaceIndex });
        w.EndMessage(m);
    }

    public static bool TryRead(in NetlinkMessage message, out InterfaceAddress address)
    {
        address = null!;
        var ifa = message.ReadFamilyHeader<InterfaceAddressMessage>();
        if (ifa.Family is not (AddressFamilies.Inet or AddressFamilies.Inet6)) return false;
        IPAddress? local = null, peer = null;
        foreach (var a in message.Attributes(InterfaceAddressMessage.Size))
        {
            if (a.Type == AddrAttr.Local) local = a.GetAddress();
            else if (a.Type == AddrAttr.Address) peer = a.GetAddress();
        }
        var ip = local ?? peer;
        if (ip is null) return false;
        NetlinkPrefix.Create(ip, ifa.PrefixLength, "ifa_prefixlen"); // the length must fit the address
        address = new InterfaceAddress(ifa.Index, ip, ifa.PrefixLength) { Scope = (RouteScope)ifa.Scope };
        return true;
    }
}
