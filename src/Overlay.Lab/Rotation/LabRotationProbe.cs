using System.Globalization;
using System.Text.Json;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Frr.Northbound;
using Overlay.Frr.Vty;
using InventoryModel = Overlay.Core.Inventory.Inventory;

namespace Overlay.Lab.Rotation;

/// <summary>
/// Reads the real state of lab nodes for a rotation's verifications: 'wg show' handshakes, ospfd's neighbors (JSON over
/// its vty), bfdd's peers ('show bfd peers json'), the kernel's route ('ip route show exact'), links ('ip link show').
/// </summary>
public sealed class LabRotationProbe(RunningLab lab, IReadOnlyDictionary<string, LabNode> nodes, InventoryModel inventory, RotationPlan plan,
    DateTimeOffset rotationStarted) : IRotationProbe
{
    public async Task<ProbeResult> CheckAsync(Verification v, DateTimeOffset phaseStarted, CancellationToken ct)
    {
        var n = nodes[v.Node];
        return v.Kind switch
        {
            VerificationKind.Configured => await ConfiguredAsync(n, v.Target, ct).ConfigureAwait(false),
            VerificationKind.Handshake => await HandshakeAsync(n, v.Target, ct).ConfigureAwait(false),
            VerificationKind.OspfFull => await OspfFullAsync(n, v.Target, ct).ConfigureAwait(false),
            VerificationKind.BfdUp => await BfdUpAsync(n, v.Target, ct).ConfigureAwait(false),
            VerificationKind.RouteVia => await RouteViaAsync(n, v, ct).ConfigureAwait(false),
            VerificationKind.InterfaceAbsent => (await lab.ExecAsync(n, $"ip link show {v.Target}", ct: ct).ConfigureAwait(false)).Succeeded
                ? ProbeResult.No("link exists") : ProbeResult.Yes("link gone"),
            _ => throw new ArgumentOutOfRangeException(nameof(v), v.Kind, "unknown verification"),
        };
    }

    private async Task<ProbeResult> ConfiguredAsync(LabNode n, string iface, CancellationToken ct)
    {
        string config = (await lab.VtyshAsync(n, "show running-config", ct).ConfigureAwait(false)).EnsureSuccess().StdOut;
        return config.Split('\n').Any(l => l.TrimEnd() == $"interface {iface}") ? ProbeResult.Yes("in running-config") : ProbeResult.No("not in running-config");
    }

    /// <summary>
    /// A handshake since the rotation started. Where the interface has an entry for the new key (the peers' side), that
    /// entry must have handshaken: in the in-place sequence the old entry shares the interface.
    /// </summary>
    private async Task<ProbeResult> HandshakeAsync(LabNode n, string iface, CancellationToken ct)
    {
        string text = (await lab.ExecAsync(n, $"wg show {iface} latest-handshakes", ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut;
        var entries = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2)
            .Select(f => (Key: f[0], At: long.Parse(f[1], CultureInfo.InvariantCulture))).ToList();
        var relevant = entries.Any(e => e.Key == plan.NewPublicKey) ? entries.Where(e => e.Key == plan.NewPublicKey).ToList() : entries;
        long since = rotationStarted.ToUnixTimeSeconds();   // wg reports whole seconds
        long latest = relevant.Count == 0 ? 0 : relevant.Max(e => e.At);
        return latest >= since && latest > 0 ? ProbeResult.Yes($"handshake at {latest}") : ProbeResult.No(latest == 0 ? "no handshake" : $"last handshake {latest} < {since}");
    }

    private async Task<ProbeResult> OspfFullAsync(LabNode n, string iface, CancellationToken ct)
    {
        var neighbors = await lab.Router(n).Show.GetOspfNeighborsAsync(ct).ConfigureAwait(false);
        var on = neighbors.Where(x => x.Interface is { } i && (i == iface || i.StartsWith(iface + ":", StringComparison.Ordinal))).ToList();
        if (on.Count == 0) return ProbeResult.No("no neighbor");
        return on.Any(x => x.State == OspfNeighborState.Full) ? ProbeResult.Yes("Full") : ProbeResult.No(string.Join(",", on.Select(x => x.StateText)));
    }

    private async Task<ProbeResult> BfdUpAsync(LabNode n, string iface, CancellationToken ct)
    {
        string json = (await lab.VtyshAsync(n, FrrDaemon.Bfdd, "show bfd peers json", ct).ConfigureAwait(false)).EnsureSuccess().StdOut;
        using var doc = JsonDocument.Parse(json);
        foreach (var peer in doc.RootElement.EnumerateArray())
        {
            if (!peer.TryGetProperty("interface", out var i) || i.GetString() != iface) continue;
            string status = peer.TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
            return status == "up" ? ProbeResult.Yes("up") : ProbeResult.No(status);
        }
        return ProbeResult.No("no BFD peer");
    }

    private async Task<ProbeResult> RouteViaAsync(LabNode n, Verification v, CancellationToken ct)
    {
        var dest = RotationTargets.RouteDestination(inventory, plan, v);
        string route = await lab.KernelRouteAsync(n, $"{dest}/32", ct).ConfigureAwait(false);
        var fields = route.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        int dev = Array.IndexOf(fields, "dev");
        string via = dev >= 0 && dev + 1 < fields.Length ? fields[dev + 1] : "";
        return via == v.Target ? ProbeResult.Yes($"{dest}/32 dev {via}") : ProbeResult.No(route.Length == 0 ? $"no route to {dest}/32" : $"{dest}/32 dev {via}");
    }
}
