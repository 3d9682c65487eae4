using System.Net;
using System.Net.Sockets;
using Overlay.Core.Net;

namespace Overlay.Linux.Netlink;

/// <summary>A prefix from an address and a length read off the wire: a length the address cannot have is a format error.</summary>
internal static class NetlinkPrefix
{
    public static IpPrefix Create(IPAddress address, int length, string field)
    {
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (length < 0 || length > max)
            throw new NetlinkFormatException($"{field} is {length} for {address}; an {(max == 32 ? "IPv4" : "IPv6")} prefix length is 0..{max}");
        return IpPrefix.Create(address, length);
    }
}
