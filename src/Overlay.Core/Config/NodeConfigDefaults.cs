using System.Net;

namespace Overlay.Core.Config;

/// <summary>
/// Every default of overlayd.yaml in one place: what overlayd assumes for a setting the file leaves out, and what render
/// writes when the inventory leaves it out (the inventory's <c>frr</c> and <c>daemon</c> sections start from these).
/// docs/overlayd-config.md lists the same values.
/// </summary>
public static class NodeConfigDefaults
{
    public const string ApiSocket = "/run/overlay/overlayd.sock";
    public const int ApiMode = 0b110_110_000; // 0660: owner and group, never other
    public static ApiConfig Api => new(ApiSocket, ApiMode, null);

    /// <summary>Where render points overlayd's Prometheus listener (overlayd itself serves no metrics without a metrics section).</summary>
    public static readonly IPEndPoint MetricsListen = new(IPAddress.Loopback, 9474);

    public const string FrrVtyDir = "/var/run/frr";
    public const string FrrGrpcHost = "127.0.0.1";
    public const int ZebraPort = 50051, StaticdPort = 50052, BfddPort = 50053;
    public static readonly FrrConfig Frr = new("", FrrVtyDir, new FrrGrpcConfig(FrrGrpcHost, ZebraPort, StaticdPort, BfddPort));

    /// <summary>A policy's settings where overlayd.yaml leaves them out: 1 s evaluation, rise 3, fall 2, no dampening.</summary>
    public static HealthPolicy Policy(string name) => new(
        name, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), 3, 2, 1,
        TimeSpan.FromSeconds(180), TimeSpan.FromSeconds(60), BfdRequirement.Required,
        new HoldDown(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2)), null, RoutingRequirements.None);

    /// <summary>A dampening block's settings where they are left out (and an inventory policy's, which dampens unless told otherwise).</summary>
    public static readonly Dampening Dampening = new(TimeSpan.FromSeconds(60), 1000, 2500, 800, 6000);

    /// <summary>100 ms x 3: a reset ~0.3 s after the far end went silent; retries after 0.25, 0.5, 1 … 30 s.</summary>
    public static readonly SessionWatchdogConfig Watchdog = new(TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30));

    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>overlayd without a drain file: drain only through the control API.</summary>
    public static readonly DrainConfig Drain = new(null, ShutdownTimeout);

    /// <summary>The drain file render writes when the inventory names none.</summary>
    public const string RenderedDrainFile = "/etc/overlay/drain";
}
