using System.Globalization;
using System.Text.Json;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Frr.Vty;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Rotation;

/// <summary>
/// Reads the real state a rotation's verifications wait for, through <see cref="INodeShell"/> only:
/// <c>wg show IFACE latest-handshakes</c>, <c>show ip ospf neighbor json</c> (parsed by <see cref="ShowParsers"/>),
/// <c>show bfd peers json</c>, <c>ip route show exact</c>, <c>ip link show</c>, <c>show running-config</c>.
/// </summary>
public sealed class HostRotationProbe(INodeShell shell, Inventory inventory, RotationPlan plan, DateTimeOffset rotationStarted,
    HostRotationOptions? options = null) : IRotationProbe
{
    private readonly HostRotationOptions _o = options ?? new HostRotationOptions();

    public async Task<ProbeResult> CheckAsync(Verification v, DateTimeOffset phaseStarted, CancellationToken ct)
    {
        ShellWords.ValidateInterfaceName(v.Target);
        string iface = ShellWords.Quote(v.Target);
        return v.Kind switch
        {
            VerificationKind.Configured => Configured(await VtyshAsync(v.Node, "show running-config", ct).ConfigureAwait(false), v.Target),
            VerificationKind.Handshake => Handshake(await ReadAsync(v.Node, $"wg show {iface} latest-handshakes", ct).ConfigureAwait(false),
                plan.NewPublicKey, rotationStarted),
            VerificationKind.OspfFull => OspfFull(await VtyshAsync(v.Node, "show ip ospf neighbor json", ct).ConfigureAwait(false), v.Target),
            VerificationKind.BfdUp => BfdUp(await VtyshAsync(v.Node, "show bfd peers json", ct).ConfigureAwait(false), v.Target),
            VerificationKind.RouteVia => await RouteViaAsync(v, ct).ConfigureAwait(false),
            VerificationKind.InterfaceAbsent => (await ReadAsync(v.Node, $"if ip link show dev {iface} >/dev/null 2>&1; then echo present; else echo absent; fi", ct)
                .ConfigureAwait(false)).Trim() == "absent" ? ProbeResult.Yes("link gone") : ProbeResult.No("link exists"),
            _ => throw new ArgumentOutOfRangeException(nameof(v), v.Kind, "unknown verification"),
        };
    }

    private async Task<ProbeResult> RouteViaAsync(Verification v, CancellationToken ct)
    {
        var dest = RotationTargets.RouteDestination(inventory, plan, v);
        return RouteVia(await ReadAsync(v.Node, $"ip route show exact {dest}/32", ct).ConfigureAwait(false), $"{dest}/32", v.Target);
    }

    private Task<string> VtyshAsync(string node, string command, CancellationToken ct) =>
        ReadAsync(node, $"{_o.VtyshCommand(node)} -c {ShellWords.Quote(command)}", ct);

    private async Task<string> ReadAsync(string node, string script, CancellationToken ct)
    {
        var r = await shell.RunAsync(node, script, null, _o.CommandTimeout, ct).ConfigureAwait(false);
        // The executor counts a throwing check as "not yet", with this message as what it saw.
        if (!r.Succeeded) throw new HostAgentException($"{node}: exit {r.ExitCode}: {HostRotationAgent.Tail(r)}");
        return r.StdOut;
    }

    internal static ProbeResult Configured(string runningConfig, string iface) =>
        runningConfig.Split('\n').Any(l => l.TrimEnd() == $"interface {iface}") ? ProbeResult.Yes("in running-config") : ProbeResult.No("not in running-config");

    /// <summary>
    /// A handshake since the rotation started. Where the interface has an entry for the new key (the peers' side in the
    /// in-place sequence, where the old entry shares the interface), that entry must have handshaken.
    /// </summary>
    internal static ProbeResult Handshake(string latestHandshakes, string newPublicKey, DateTimeOffset rotationStarted)
    {
        var entries = latestHandshakes.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .Select(f => (Key: f[0], At: long.Parse(f[1], CultureInfo.InvariantCulture))).ToList();
        var relevant = entries.Any(e => e.Key == newPublicKey) ? entries.Where(e => e.Key == newPublicKey).ToList() : entries;
        long since = rotationStarted.ToUnixTimeSeconds();   // wg reports whole seconds
        long latest = relevant.Count == 0 ? 0 : relevant.Max(e => e.At);
        return latest >= since && latest > 0 ? ProbeResult.Yes($"handshake at {latest}") : ProbeResult.No(latest == 0 ? "no handshake" : $"last handshake {latest} < {since}");
    }

    internal static ProbeResult OspfFull(string neighborsJson, string iface)
    {
        var on = ShowParsers.ParseOspfNeighbors(neighborsJson).Where(x => x.Interface == iface).ToList();
        if (on.Count == 0) return ProbeResult.No("no neighbor");
        return on.Any(x => x.IsFull) ? ProbeResult.Yes("Full") : ProbeResult.No(string.Join(",", on.Select(x => x.StateText)));
    }

    internal static ProbeResult BfdUp(string peersJson, string iface)
    {
        using var doc = JsonDocument.Parse(peersJson);
        if (doc.RootElement.ValueKind != JsonValueKind.Array) return ProbeResult.No("no BFD peers");
        foreach (var peer in doc.RootElement.EnumerateArray())
        {
            if (!peer.TryGetProperty("interface", out var i) || i.GetString() != iface) continue;
            string status = peer.TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
            return status == "up" ? ProbeResult.Yes("up") : ProbeResult.No(status);
        }
        return ProbeResult.No("no BFD peer");
    }

    internal static ProbeResult RouteVia(string route, string prefix, string iface)
    {
        var fields = route.Trim().Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        int dev = Array.IndexOf(fields, "dev");
        string via = dev >= 0 && dev + 1 < fields.Length ? fields[dev + 1] : "";
        return via == iface ? ProbeResult.Yes($"{prefix} dev {via}") : ProbeResult.No(fields.Length == 0 ? $"no route to {prefix}" : $"{prefix} dev {via}");
    }
}
