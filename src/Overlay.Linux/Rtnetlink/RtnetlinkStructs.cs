using System.Runtime.InteropServices;

namespace Overlay.Linux.Rtnetlink;

/// <summary>rtnetlink message types (<c>RTM_*</c>).</summary>
internal static class RtmType
{
    public const ushort NewLink = 16, DelLink = 17, GetLink = 18;
    public const ushort NewAddr = 20, DelAddr = 21, GetAddr = 22;
    public const ushort NewRoute = 24, DelRoute = 25, GetRoute = 26;
}

/// <summary>rtnetlink multicast groups (<c>RTNLGRP_*</c>), joined with NETLINK_ADD_MEMBERSHIP.</summary>
internal static class RtnlGroup
{
    public const uint Link = 1, Ipv4Ifaddr = 5, Ipv4Route = 7, Ipv6Ifaddr = 9, Ipv6Route = 11;
}

internal static class AddressFamilies
{
    public const byte Unspec = 0, Inet = 2, Inet6 = 10;
}

/// <summary><c>struct rtmsg</c> (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RouteMessage
{
    public const int Size = 12;
    public byte Family, DestinationLength, SourceLength, Tos, Table, Protocol, Scope, Type;
    public uint Flags;

    public const uint RTM_F_CLONED = 0x200;
    public const uint RTM_F_LOOKUP_TABLE = 0x1000;
}

internal static class RouteAttr
{
    public const ushort Dst = 1, Src = 2, Iif = 3, Oif = 4, Gateway = 5, Priority = 6, PrefSrc = 7, Multipath = 9, Table = 15;
}

/// <summary><c>struct ifinfomsg</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct InterfaceInfoMessage
{
    public const int Size = 16;
    public byte Family, Pad;
    public ushort Type;
    public int Index;
    public uint Flags, Change;
}

internal static class LinkAttr
{
    public const ushort IfName = 3, Mtu = 4, OperState = 16, LinkInfo = 18, ExtMask = 29;
    public const ushort InfoKind = 1;
    public const uint RTEXT_FILTER_SKIP_STATS = 1u << 3;
}

/// <summary><c>struct ifaddrmsg</c> (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct InterfaceAddressMessage
{
    public const int Size = 8;
    public byte Family, PrefixLength, Flags, Scope;
    public int Index;
}

internal static class AddrAttr
{
    public const ushort Address = 1, Local = 2, Flags = 8;
    public const uint IFA_F_NODAD = 0x02;
}
