using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;

namespace Overlay.Core.Lint;

/// <summary>A lint rule: a stable id (never reused), its severity and a one-line title.</summary>
public sealed record LintRule(string Id, Severity Severity, string Title)
{
    public override string ToString() => $"{Id} {Severity.ToString().ToLowerInvariant()}: {Title}";
}

/// <summary>
/// Every rule lint knows. Ids are stable: CI filters and suppressions refer to them, so a retired
/// rule keeps its number and a new rule takes the next free one.
/// </summary>
public static class LintRules
{
    public static readonly LintRule OverlappingAllowedIps = new("OVL001", Severity.Error,
        "AllowedIPs of two peers on one interface overlap (cryptokey routing sends to only one of them)");
    public static readonly LintRule NoEndpoint = new("OVL002", Severity.Error,
        "neither end of a tunnel has an endpoint, so no handshake can start");
    public static readonly LintRule NatWithoutKeepalive = new("OVL003", Severity.Warning,
        "a node behind NAT has a tunnel without persistent keepalive");
    public static readonly LintRule DuplicatePublicKey = new("OVL004", Severity.Error,
        "the same WireGuard public key is used twice");
    public static readonly LintRule DuplicateOverlayAddress = new("OVL005", Severity.Error,
        "the same overlay address is used twice");
    public static readonly LintRule DuplicateListenPort = new("OVL006", Severity.Error,
        "two WireGuard interfaces on one host listen on the same UDP port");
    public static readonly LintRule InterfaceNameTooLong = new("OVL007", Severity.Error,
        "an interface name is longer than Linux's 15 characters");
    public static readonly LintRule GateBlocksRouting = new("OVL008", Severity.Error,
        "the AllowedIPs gate does not admit the routing protocol's traffic");
    public static readonly LintRule EqualHubCost = new("OVL009", Severity.Warning,
        "primary and secondary hub have the same cost, so failover order is ambiguous");
    public static readonly LintRule SpokeWithoutHub = new("OVL010", Severity.Error,
        "a spoke has no tunnel to any hub");
    public static readonly LintRule VipMemberWithoutUpstream = new("OVL011", Severity.Warning,
        "a VIP announced upstream by some members has a member without a BGP upstream");
    public static readonly LintRule AsymmetricPeering = new("OVL012", Severity.Error,
        "a node lists a peer that does not list it back");
    public static readonly LintRule OverlappingSubnets = new("OVL013", Severity.Warning,
        "announced subnets of two nodes overlap");
    public static readonly LintRule KeyFileExposed = new("OVL014", Severity.Error,
        "a private key file is readable by group or others");
    public static readonly LintRule SecondaryHubCheaper = new("OVL015", Severity.Warning,
        "the secondary hub has a lower cost than the primary, so it carries the traffic");
    public static readonly LintRule KeepaliveOutlivesNat = new("OVL016", Severity.Warning,
        "a NAT tunnel's keepalive is not shorter than the NAT's UDP timeout, so the mapping expires between keepalives");
    public static readonly LintRule AnycastClientUnwatched = new("OVL018", Severity.Warning,
        "a client of an anycast endpoint has neither the session watchdog nor a persistent keepalive");

    public static readonly LintRule HubTrafficThroughSpoke = new("OVL017", Severity.Warning,
        "OSPF prefers a path between the hubs through a spoke, which does not forward");

    public static IReadOnlyList<LintRule> All { get; } =
    [
        OverlappingAllowedIps, NoEndpoint, NatWithoutKeepalive, DuplicatePublicKey, DuplicateOverlayAddress,
        DuplicateListenPort, InterfaceNameTooLong, GateBlocksRouting, EqualHubCost, SpokeWithoutHub,
        VipMemberWithoutUpstream, AsymmetricPeering, OverlappingSubnets, KeyFileExposed, SecondaryHubCheaper, KeepaliveOutlivesNat, HubTrafficThroughSpoke,
        AnycastClientUnwatched,
    ];

    internal static Diagnostic Report(this LintRule rule, SourceLocation at, string message, string hint) =>
        new(rule.Id, rule.Severity, at.File, at.Line, at.Column, ValueGrammar.Printable(message), ValueGrammar.Printable(hint));
}
