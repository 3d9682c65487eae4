namespace Overlay.Linux.Netlink;

/// <summary>A netlink message or attribute whose lengths do not fit the buffer it was read from.</summary>
public sealed class NetlinkFormatException(string message) : FormatException(message);
