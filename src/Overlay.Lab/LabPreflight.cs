using Overlay.Frr.Northbound;
using Tmds.Linux;

namespace Overlay.Lab;

/// <summary>Whether this machine can run a lab, and if not, why (in words a test can skip with).</summary>
public static class LabPreflight
{
    public const string GrpcModulePath = "/usr/lib/x86_64-linux-gnu/frr/modules/grpc.so";

    public static bool IsRoot => LibC.geteuid() == 0u;

    /// <summary>Null when a lab with FRR and wireguard-go can run here; otherwise every missing piece and the fix.</summary>
    public static string? MissingRequirements(bool frr = true, bool wireGuard = true)
    {
        var missing = new List<string>();
        if (!OperatingSystem.IsLinux()) return "the lab needs Linux network namespaces";
        if (!IsRoot) missing.Add("not root (network namespaces and FRR need root; run as root)");
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/sbin/ip")) missing.Add("iproute2 'ip' missing (apt-get install iproute2)");
        if (frr)
        {
            if (!File.Exists(FrrDaemon.Zebra.BinaryPath()) || !File.Exists("/usr/bin/vtysh")) missing.Add("FRR missing (run frr/install.sh)");
            else if (!File.Exists(GrpcModulePath)) missing.Add($"FRR gRPC module missing at {GrpcModulePath} (run frr/install.sh)");
        }
        if (wireGuard)
        {
            if (!File.Exists("/usr/bin/wireguard-go")) missing.Add("wireguard-go missing (run frr/install.sh, or apt-get install wireguard-go)");
            if (!File.Exists("/usr/bin/wg")) missing.Add("wg missing (apt-get install wireguard-tools)");
            if (!File.Exists("/dev/net/tun")) missing.Add("/dev/net/tun missing (wireguard-go needs TUN)");
        }
        return missing.Count == 0 ? null : string.Join("; ", missing);
    }

    internal static void EnsureUsable(LabTopology topology)
    {
        bool frr = topology.Nodes.Any(n => n.FrrDaemons.Count > 0);
        bool wg = topology.Tunnels.Count > 0;
        if (MissingRequirements(frr, wg) is { } why) throw new LabException("cannot start the lab: " + why);
    }
}
