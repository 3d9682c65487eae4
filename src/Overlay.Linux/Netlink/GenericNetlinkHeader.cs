using System.Runtime.InteropServices;

namespace Overlay.Linux.Netlink;

/// <summary><c>struct genlmsghdr</c>: the 4-byte family header of generic netlink messages.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct GenericNetlinkHeader(byte command, byte version)
{
    public const int Size = 4;
    public readonly byte Command = command;
    public readonly byte Version = version;
    private readonly ushort _reserved = 0;
}

/// <summary>The generic netlink controller ("nlctrl"), which maps family names to message types.</summary>
public static class GenericNetlinkController
{
    public const ushort FamilyId = 0x10;      // GENL_ID_CTRL
    public const byte CommandGetFamily = 3;   // CTRL_CMD_GETFAMILY
    public const byte Version = 1;
    public const ushort AttributeFamilyId = 1;    // CTRL_ATTR_FAMILY_ID (u16)
    public const ushort AttributeFamilyName = 2;  // CTRL_ATTR_FAMILY_NAME (string)
    public const ushort AttributeVersion = 3;     // CTRL_ATTR_VERSION (u32)
    public const ushort AttributeMulticastGroups = 7; // CTRL_ATTR_MCAST_GROUPS (nested)
}
