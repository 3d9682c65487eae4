using System.Net;
using System.Net.Sockets;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Linux.Rtnetlink;

/// <summary>Routing protocol ids (<c>rtm_protocol</c>, "proto" in <c>ip route</c>).</summary>
public static class RouteProtocols
{
    public const byte Unspecified = 0;
    public const byte Redirect = 1;
    public const byte Kernel = 2;
    public const byte Boot = 3;
    public const byte Static = 4;

    /// <summary>
    /// Overlay's own protocol id. Every route Overlay writes carries it, and Overlay only ever
    /// replaces or deletes routes carrying it. 98 is unassigned in the kernel's rtnetlink.h
    /// (0–18, 42, 84, 99, 186–192), iproute2's rt_protos and FRR (186–198). Name it in
    /// <c>/etc/iproute2/rt_protos.d/overlay.conf</c> ("98 overlay") to see "proto overlay" in <c>ip route</c>.
    /// </summary>
    public const byte Overlay = 98;
}

/// <summary>Well-known routing table ids.</summary>
public static class RouteTables
{
    public const uint Unspecified = 0;
    public const uint Compat = 252;
    public const uint Default = 253;
    public const uint Main = 254;
    public const uint Local = 255;
}

/// <summary><c>RTN_*</c>.</summary>
public enum RouteType : byte
{
    Unspecified = 0,
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
}

/// <summary><c>RT_SCOPE_*</c>.</summary>
public enum RouteScope : byte
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

/// <summary>
/// A kernel route. The kernel identifies a route by (table, destination, metric) — plus TOS for IPv4,
/// which Overlay leaves 0 — see <see cref="Key"/>. The defaults describe an Overlay unicast route in
/// the main table.
/// </summary>
public sealed record KernelRoute
{
    public required IpPrefix Destination { get; init; }
    public uint Table { get; init; } = RouteTables.Main;
    public byte Protocol { get; init; } = RouteProtocols.Overlay;
    public RouteType Type { get; init; } = RouteType.Unicast;
    public RouteScope Scope { get; init; } = RouteScope.Universe;
    public IPAddress? Gateway { get; init; }
    /// <summary>Outgoing interface index (RTA_OIF); 0 when the route has none.</summary>
    public int OutputInterface { get; init; }
    /// <summary>RTA_PRIORITY ("metric"). The kernel stores IPv6 metric 0 as 1024; <see cref="Normalize"/> does the same.</summary>
    public uint Metric { get; init; }
    public IPAddress? PreferredSource { get; init; }

    public RouteKey Key => new(Table, Destination, EffectiveMetric);

    private uint EffectiveMetric => Destination.IsIPv6 && Metric == 0 ? Ipv6DefaultMetric : Metric;

    internal const uint Ipv6DefaultMetric = 1024;

    /// <summary>The route as the kernel will report it back (IPv6 default metric, IPv6 routes have universe scope).</summary>
    public KernelRoute Normalize() => Destination.IsIPv6
        ? this with { Metric = EffectiveMetric, Scope = RouteScope.Universe }
        : this;

    public override string ToString()
    {
        var s = new System.Text.StringBuilder();
        if (Type != RouteType.Unicast) s.Append(Type.ToString().ToLowerInvariant()).Append(' ');
        s.Append(Destination);
        if (Gateway is not null) s.Append(" via ").Append(Gateway);
        if (OutputInterface != 0) s.Append(" dev #").Append(OutputInterface);
        s.Append(" table ").Append(Table).Append(" proto ").Append(Protocol);
        if (Metric != 0) s.Append(" metric ").Append(Metric);
        if (PreferredSource is not null) s.Append(" src ").Append(PreferredSource);
        return s.ToString();
    }
}

/// <summary>What makes two kernel routes the same route: the second one replaces the first.</summary>
public readonly record struct RouteKey(uint Table, IpPrefix Destination, uint Metric);

/// <summary>Which routes to list; null fields match everything.</summary>
public sealed record RouteQuery
{
    public uint? Table { get; init; }
    public byte? Protocol { get; init; }
    public AddressFamily? Family { get; init; }
}

public enum RouteOperation
{
    /// <summary>Create; fails with EEXIST if a route with the same key exists.</summary>
    Add,
    /// <summary>Create or replace a route of Overlay's protocol.</summary>
    Replace,
    /// <summary>Delete a route of Overlay's protocol.</summary>
    Delete,
}

public readonly record struct RouteChange(RouteOperation Operation, KernelRoute Route)
{
    public override string ToString() => $"{Operation.ToString().ToLowerInvariant()} {Route}";
}

/// <summary>One change the kernel (or Overlay's protocol guard) refused.</summary>
public sealed record RouteFailure(RouteChange Change, int Errno, string? Message)
{
    public string ErrnoName => Interop.LinuxException.NameOf(Errno);
    public override string ToString() =>
        $"{Change}: {ErrnoName} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(Errno)}){(Message is null ? "" : ": " + Message)}";
}

public sealed record RouteBatchResult(int Succeeded, IReadOnlyList<RouteFailure> Failures)
{
    public bool IsSuccess => Failures.Count == 0;
    public override string ToString() => $"{Succeeded} applied, {Failures.Count} failed";
}

/// <summary>The outcome of <see cref="IRouteTable.SetAsync"/>.</summary>
public sealed record RouteSetResult(int Added, int Replaced, int Deleted, int Unchanged, IReadOnlyList<RouteFailure> Failures)
{
    public bool IsSuccess => Failures.Count == 0;
    public override string ToString() =>
        $"{Added} added, {Replaced} replaced, {Deleted} deleted, {Unchanged} unchanged, {Failures.Count} failed";
}

/// <summary>A network interface as rtnetlink reports it.</summary>
public sealed record LinkInfo(int Index, string Name, uint Flags, LinkOperState OperState, uint Mtu, string? Kind)
{
    public const uint IFF_UP = 0x1;
    public const uint IFF_RUNNING = 0x40;
    public const uint IFF_LOWER_UP = 0x10000;

    /// <summary>Administratively up (IFF_UP).</summary>
    public bool IsAdminUp => (Flags & IFF_UP) != 0;
    /// <summary>Up and running: IFF_UP and IFF_RUNNING (operational state UP or UNKNOWN, as for TUN).</summary>
    public bool IsUp => IsAdminUp && (Flags & IFF_RUNNING) != 0;
}

/// <summary>An address on an interface (the address and its prefix length, e.g. 10.0.0.1/24).</summary>
public sealed record InterfaceAddress(int InterfaceIndex, IPAddress Address, int PrefixLength)
{
    public RouteScope Scope { get; init; } = RouteScope.Universe;
    public override string ToString() => $"{Address}/{PrefixLength} dev #{InterfaceIndex}";
}
