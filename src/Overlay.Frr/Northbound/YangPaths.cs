using System.Net;
using System.Net.Sockets;
using Overlay.Core.Net;

namespace Overlay.Frr.Northbound;

/// <summary>
/// Every YANG data path Overlay sends to FRR (8.4 models), built in one place.
/// Key values are validated rather than escaped: nothing Overlay configures needs quotes or brackets.
/// </summary>
public static class YangPaths
{
    /// <summary>Root of zebra's VRF tree; its state holds the RIB (the only safe way to read it in 8.4).</summary>
    public const string VrfLib = "/frr-vrf:lib";

    public const string Routing = "/frr-routing:routing";

    public const string Bfdd = "/frr-bfdd:bfdd";

    public const string DefaultVrf = "default";

    /// <summary>staticd's instance in the default VRF.</summary>
    public const string Staticd =
        Routing + "/control-plane-protocols/control-plane-protocol[type='frr-staticd:staticd'][name='staticd'][vrf='default']/frr-staticd:staticd";

    /// <summary>YANG identity of the address family, e.g. <c>frr-routing:ipv4-unicast</c>.</summary>
    public static string UnicastAfiSafi(IpPrefix prefix) => prefix.IsIPv6 ? "frr-routing:ipv6-unicast" : "frr-routing:ipv4-unicast";

    /// <summary>All paths of one static prefix; deleting it withdraws the route.</summary>
    public static string StaticRoute(IpPrefix prefix) =>
        $"{Staticd}/route-list[prefix='{prefix}'][afi-safi='{UnicastAfiSafi(prefix)}']";

    public static string StaticRoutePath(IpPrefix prefix, int distance = 1, int tableId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(distance, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(distance, 255);
        ArgumentOutOfRangeException.ThrowIfNegative(tableId);
        return $"{StaticRoute(prefix)}/path-list[table-id='{tableId}'][distance='{distance}']";
    }

    /// <summary>A blackhole nexthop; created by setting its <c>bh-type</c> leaf (see <see cref="StaticBlackholeType"/>).</summary>
    public static string StaticBlackholeNexthop(IpPrefix prefix, int distance = 1) =>
        $"{StaticRoutePath(prefix, distance)}/frr-nexthops/nexthop[nh-type='blackhole'][vrf='default'][gateway=''][interface='(null)']";

    public static string StaticBlackholeType(IpPrefix prefix, int distance = 1) => StaticBlackholeNexthop(prefix, distance) + "/bh-type";

    /// <summary>An interface nexthop (a list entry with no leaf to set): the route lives only while the interface exists.</summary>
    public static string StaticInterfaceNexthop(IpPrefix prefix, string interfaceName, int distance = 1) =>
        $"{StaticRoutePath(prefix, distance)}/frr-nexthops/nexthop[nh-type='ifindex'][vrf='default'][gateway=''][interface='{ValidInterface(interfaceName)}']";

    public static string BfdSingleHop(IPAddress peer, string interfaceName, string vrf = DefaultVrf)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return $"{Bfdd}/bfd/sessions/single-hop[dest-addr='{ValidAddress(peer)}'][interface='{ValidInterface(interfaceName)}'][vrf='{ValidVrf(vrf)}']";
    }

    private static string ValidAddress(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0
            ? throw new ArgumentException($"BFD peer address '{address}' carries a scope id; give the interface separately.", nameof(address))
            : address.ToString();

    /// <summary>Linux interface names: 1..15 bytes, no '/', whitespace, or characters that would break a YANG key.</summary>
    public static string ValidInterface(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > 15 || name is "." or ".."
            || name.Any(c => c is '/' or '\'' or '"' or '[' or ']' or '=' || char.IsWhiteSpace(c) || char.IsControl(c) || c > 127))
            throw new ArgumentException($"'{name}' is not a usable interface name (1-15 ASCII characters without '/', quotes, brackets, '=' or spaces).", nameof(name));
        return name;
    }

    private static string ValidVrf(string vrf)
    {
        ArgumentException.ThrowIfNullOrEmpty(vrf);
        if (vrf.Length > 36 || vrf.Any(c => c is '\'' or '"' or '[' or ']' || char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new ArgumentException($"'{vrf}' is not a usable VRF name.", nameof(vrf));
        return vrf;
    }
}
