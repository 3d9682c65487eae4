using System.Text.RegularExpressions;

namespace Overlay.Frr.Northbound;

/// <summary>A northbound request known to crash a given FRR release.</summary>
/// <param name="Id">Short stable name used in errors and logs.</param>
/// <param name="Daemon">The daemon affected; null = every daemon (a bug in FRR's shared gRPC module).</param>
/// <param name="FirstAffected">Oldest version known or assumed affected (inclusive).</param>
/// <param name="FixedIn">First version verified fixed (exclusive); null = none verified yet.</param>
/// <param name="Safe">What to do instead.</param>
public sealed record FrrQuirk(string Id, FrrDaemon? Daemon, Version FirstAffected, Version? FixedIn, string Description, string Safe)
{
    /// <summary>True for this daemon and release. An unknown release is assumed affected.</summary>
    public bool Affects(FrrDaemon daemon, Version? version) =>
        (Daemon is null || Daemon == daemon)
        && (version is null || (version >= FirstAffected && (FixedIn is null || version < FixedIn)));
}

/// <summary>
/// Requests this client refuses to send because they crash the router it manages. Both were
/// measured on 8.4.4; no release has been verified fixed, so every version is treated as affected
/// until one is measured and <see cref="FrrQuirk.FixedIn"/> is set.
/// </summary>
public static class FrrQuirks
{
    private static readonly Regex KeyedRibsPath =
        new(@"^/frr-vrf:lib/vrf\[[^/]*\]/frr-zebra:zebra/ribs(/|\[|$)", RegexOptions.CultureInvariant);

    /// <summary>A state Get below the keyed VRF's ribs segfaults zebra (lib_vrf_zebra_ribs_rib_get_next).</summary>
    public static FrrQuirk ZebraKeyedRibsGet { get; } = new(
        "zebra-keyed-ribs-get",
        FrrDaemon.Zebra,
        new Version(0, 0),
        FixedIn: null,
        "a state Get below /frr-vrf:lib/vrf[...]/frr-zebra:zebra/ribs segfaults zebra (lib_vrf_zebra_ribs_rib_get_next)",
        "Get /frr-vrf:lib (state) and filter the RIB client-side");

    /// <summary>
    /// Commit phase APPLY or ABORT frees the candidate's transaction but leaves the pointer set;
    /// DeleteCandidate then aborts it again (use after free) and the daemon dies.
    /// </summary>
    public static FrrQuirk DeleteCandidateAfterApplyOrAbort { get; } = new(
        "delete-candidate-after-apply-or-abort",
        Daemon: null,
        new Version(0, 0),
        FixedIn: null,
        "DeleteCandidate after a Commit phase APPLY or ABORT uses the freed transaction and crashes the daemon",
        "commit with phase ALL (ApplyAsync), or leave a candidate that went through APPLY/ABORT allocated");

    public static IReadOnlyList<FrrQuirk> Known { get; } = [ZebraKeyedRibsGet, DeleteCandidateAfterApplyOrAbort];

    /// <summary>The quirk a Get would trigger on this daemon and release, or null when it is safe.</summary>
    public static FrrQuirk? FindForGet(FrrDaemon daemon, Version? version, NorthboundDataType type, string path) =>
        type is NorthboundDataType.State or NorthboundDataType.All
        && ZebraKeyedRibsGet.Affects(daemon, version)
        && KeyedRibsPath.IsMatch(path)
            ? ZebraKeyedRibsGet
            : null;

    /// <summary>The quirk deleting a candidate would trigger, given the phased commits sent for it.</summary>
    public static FrrQuirk? FindForDeleteCandidate(FrrDaemon daemon, Version? version, bool applyOrAbortSent) =>
        applyOrAbortSent && DeleteCandidateAfterApplyOrAbort.Affects(daemon, version) ? DeleteCandidateAfterApplyOrAbort : null;
}

/// <summary>The client refused a request that is known to crash the daemon it would go to.</summary>
public sealed class FrrRequestRefusedException(FrrQuirk quirk, FrrDaemon daemon, Version? version, string request)
    : InvalidOperationException(
        $"Refusing to send {request} to {daemon.ToDaemonName()} (FRR {version?.ToString() ?? "unknown version"}): " +
        $"{quirk.Description} [quirk {quirk.Id}]. Instead: {quirk.Safe}.")
{
    public FrrQuirk Quirk { get; } = quirk;
}
