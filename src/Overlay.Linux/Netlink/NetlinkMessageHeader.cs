using System.Runtime.InteropServices;

namespace Overlay.Linux.Netlink;

/// <summary><c>struct nlmsghdr</c>: 16 bytes in host byte order in front of every netlink message.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NetlinkMessageHeader
{
    public const int Size = 16;

    /// <summary>Length of the message including this header (not padded).</summary>
    public uint Length;
    public ushort Type;
    public NetlinkMessageFlags Flags;
    public uint Sequence;
    public uint PortId;

    public override readonly string ToString() => $"nlmsg type={Type} flags={Flags} seq={Sequence} len={Length}";
}

/// <summary><c>NLM_F_*</c>. Values 0x100–0x800 mean different things for GET, NEW and DELETE/ACK messages.</summary>
[Flags]
public enum NetlinkMessageFlags : ushort
{
    None = 0,
    Request = 0x1,
    Multi = 0x2,
    Ack = 0x4,
    Echo = 0x8,
    DumpInterrupted = 0x10,
    DumpFiltered = 0x20,

    // GET requests
    Root = 0x100,
    Match = 0x200,
    Atomic = 0x400,
    Dump = Root | Match,

    // NEW requests
    Replace = 0x100,
    Excl = 0x200,
    Create = 0x400,
    Append = 0x800,

    // NLMSG_ERROR (ACK) replies
    Capped = 0x100,
    AckTlvs = 0x200,
}

/// <summary>Message types every netlink family shares (<c>NLMSG_*</c>); family types start at 16.</summary>
public static class NetlinkMessageType
{
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;
    public const ushort MinFamilyType = 16;
}

/// <summary>Netlink protocol numbers for <c>socket(AF_NETLINK, SOCK_RAW, protocol)</c>.</summary>
public enum NetlinkProtocol
{
    Route = 0,
    /// <summary>NETLINK_NETFILTER: conntrack (ctnetlink) and nftables.</summary>
    Netfilter = 12,
    Generic = 16,
}

/// <summary>Alignment rules shared by messages and attributes (both align to 4 bytes).</summary>
public static class NetlinkAlignment
{
    public const int Alignment = 4;
    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}
