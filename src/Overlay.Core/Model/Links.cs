namespace Overlay.Core.Model;

/// <summary>
/// <c>IF_OPER_*</c> (RFC 2863 operational state) as rtnetlink reports it (IFLA_OPERSTATE): the values are the kernel's,
/// so the netlink codec reads it as is and the health model reads the same type. <see cref="NotPresent"/> also stands for
/// "the link does not exist".
/// </summary>
public enum LinkOperState : byte
{
    Unknown = 0,
    NotPresent = 1,
    Down = 2,
    LowerLayerDown = 3,
    Testing = 4,
    Dormant = 5,
    Up = 6,
}
