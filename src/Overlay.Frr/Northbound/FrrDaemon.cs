namespace Overlay.Frr.Northbound;

/// <summary>The FRR daemons Overlay talks to. Each serves its own gRPC port and vty socket in 8.4.</summary>
public enum FrrDaemon
{
    Zebra,
    Staticd,
    Bfdd,
    Ospfd,
    Ospf6d,
    Bgpd,
}

public static class FrrDaemonNames
{
    /// <summary>The daemon's program name, as in <c>/usr/lib/frr/NAME</c> and <c>NAME.vty</c>.</summary>
    public static string ToDaemonName(this FrrDaemon daemon) => daemon switch
    {
        FrrDaemon.Zebra => "zebra",
        FrrDaemon.Staticd => "staticd",
        FrrDaemon.Bfdd => "bfdd",
        FrrDaemon.Ospfd => "ospfd",
        FrrDaemon.Ospf6d => "ospf6d",
        FrrDaemon.Bgpd => "bgpd",
        _ => throw new ArgumentOutOfRangeException(nameof(daemon), daemon, "unknown FRR daemon"),
    };
}
