using System.Text.RegularExpressions;

namespace Overlay.Frr.Northbound;

/// <summary>A northbound request known to harm a given FRR release.</summary>
/// <param name="Id">Short stable name used in errors and logs.</param>
/// <param name="FirstAffected">Oldest version known or assumed affected (inclusive).</param>
/// <param name="FixedIn">First version known to be fixed (exclusive); null = no fixed release known.</param>
/// <param name="StateReads">True when Get requests that read state (STATE or ALL) are affected.</param>
/// <param name="Safe">What to do instead.</param>
public sealed record FrrQuirk(
    string Id,
    FrrDaemon Daemon,
    Version FirstAffected,
    Version? FixedIn,
    Regex GetPath,
    bool StateReads,
    string Description,
    string Safe)
{
    public bool AffectsVersion(Version? version) =>
        version is null // unknown release: assume the worst
        || (version >= FirstAffected && (FixedIn is null || version < FixedIn));
}

/// <summary>
/// Requests this client refuses to send because they crash the router it manages.
/// Checked by the northbound client before every Get.
/// </summary>
public static class FrrQuirks
{
    public static IReadOnlyList<FrrQuirk> Known { get; } =
    [
        new FrrQuirk(
            Id: "zebra-keyed-ribs-get",
            Daemon: FrrDaemon.Zebra,
            // Measured crashing on 8.4.4. No release has been verified fixed, so every version is
            // treated as affected until one is measured and FixedIn is set.
            FirstAffected: new Version(0, 0),
            FixedIn: null,
            GetPath: new Regex(@"^/frr-vrf:lib/vrf\[[^/]*\]/frr-zebra:zebra/ribs(/|\[|$)", RegexOptions.CultureInvariant),
            StateReads: true,
            Description: "a state Get below /frr-vrf:lib/vrf[...]/frr-zebra:zebra/ribs segfaults zebra (lib_vrf_zebra_ribs_rib_get_next)",
            Safe: "Get /frr-vrf:lib (state) and filter the RIB client-side"),
    ];

    /// <summary>The quirk a Get would trigger on this daemon and release, or null when it is safe.</summary>
    public static FrrQuirk? FindForGet(FrrDaemon daemon, Version? version, NorthboundDataType type, string path)
    {
        var readsState = type is NorthboundDataType.State or NorthboundDataType.All;
        foreach (var quirk in Known)
        {
            if (quirk.Daemon == daemon && quirk.AffectsVersion(version) && (!quirk.StateReads || readsState)
                && quirk.GetPath.IsMatch(path))
                return quirk;
        }
        return null;
    }
}

/// <summary>The client refused a request that is known to crash the daemon it would go to.</summary>
public sealed class FrrRequestRefusedException(FrrQuirk quirk, FrrDaemon daemon, Version? version, string path)
    : InvalidOperationException(
        $"Refusing to send Get '{path}' to {daemon.ToDaemonName()} (FRR {version?.ToString() ?? "unknown version"}): " +
        $"{quirk.Description} [quirk {quirk.Id}]. Instead: {quirk.Safe}.")
{
    public FrrQuirk Quirk { get; } = quirk;
}
