using Overlay.Linux.Rtnetlink;

namespace Overlay.Linux.Monitoring;

/// <summary>Something the kernel reported about links, addresses or routes of the monitored namespace.</summary>
public abstract record NetlinkEvent
{
    /// <summary>When the monitor read the notification (from its <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset Received { get; init; }
}

public enum LinkEventKind
{
    Added,
    Removed,
    /// <summary>Became up and running (IFF_UP and IFF_RUNNING).</summary>
    Up,
    /// <summary>Stopped being up and running.</summary>
    Down,
    /// <summary>Another attribute changed (name, MTU, flags) without an up/down transition.</summary>
    Changed,
}

public sealed record LinkEvent(LinkEventKind Kind, LinkInfo Link) : NetlinkEvent;

public enum NetlinkChangeKind
{
    Added,
    Removed,
}

public sealed record AddressEvent(NetlinkChangeKind Kind, InterfaceAddress Address) : NetlinkEvent;

/// <summary>A route appeared or changed (<see cref="NetlinkChangeKind.Added"/>, also for replaces) or was removed.</summary>
public sealed record RouteEvent(NetlinkChangeKind Kind, KernelRoute Route) : NetlinkEvent;

/// <summary>
/// The kernel dropped notifications because the monitor's receive buffer overflowed (ENOBUFS). Some
/// changes were lost: the consumer must re-read the state it cares about.
/// </summary>
public sealed record ResyncRequired(string Reason) : NetlinkEvent;
