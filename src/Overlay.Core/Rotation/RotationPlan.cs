namespace Overlay.Core.Rotation;

public enum RotationStrategy
{
    /// <summary>Parallel tunnels with the new key, verified, traffic moved by OSPF cost, old tunnels removed.</summary>
    MakeBeforeBreak,
    /// <summary>The usual sequence: add the new key as a second peer entry, switch the node, remove the old entry.</summary>
    InPlace,
}

public enum RotationChangeKind
{
    GenerateKey,
    /// <summary>Write a WireGuard interface's configuration: Lines are the wg-quick file /etc/wireguard/TARGET.conf.</summary>
    WriteInterface,
    BringUp,
    TearDown,
    DeleteInterface,
    AddPeer,
    SetAllowedIps,
    RemovePeer,
    SwitchPrivateKey,
    /// <summary>FRR configuration lines, applied with 'vtysh -c "configure terminal" -c LINE ...' or in frr.conf.</summary>
    FrrConfig,
    ReplaceKeyFile,
    UpdateInventory,
}

public enum VerificationKind
{
    /// <summary>The interface exists with the expected configuration.</summary>
    Configured,
    /// <summary>A WireGuard handshake newer than the start of the phase.</summary>
    Handshake,
    OspfFull,
    BfdUp,
    /// <summary>The selected route to a destination leaves through a given interface.</summary>
    RouteVia,
    InterfaceAbsent,
}

/// <summary>One change on one node. <see cref="Lines"/> are exact: file contents, FRR lines or shell commands.</summary>
public sealed record NodeChange(string Node, RotationChangeKind Kind, string Target, IReadOnlyList<string> Lines);

/// <summary>What a phase waits for before the next may start: the check to run and the condition that must hold.</summary>
public sealed record Verification(string Node, VerificationKind Kind, string Target, string Check, string Condition);

public sealed record RotationPhase(
    int Number,
    string Title,
    /// <summary>Why the phase exists and why it cannot lose traffic (or where it can).</summary>
    string Why,
    IReadOnlyList<NodeChange> Changes,
    IReadOnlyList<Verification> WaitFor,
    /// <summary>How to undo this phase (after undoing the later ones).</summary>
    IReadOnlyList<NodeChange> Rollback,
    string RollbackNote);

/// <summary>A tunnel of the rotating node before and during rotation, as the plan uses it.</summary>
public sealed record RotatedTunnel(
    string Peer,
    string OldInterface,
    string NewInterface,
    string PeerOldInterface,
    string PeerNewInterface,
    int NewListenPort,
    int PeerNewListenPort,
    string NewLink,
    int Cost);

public sealed record RotationPlan(
    string Node,
    RotationStrategy Strategy,
    /// <summary>The new public key as given, or a placeholder when the plan was made before the key exists.</summary>
    string NewPublicKey,
    IReadOnlyList<RotatedTunnel> Tunnels,
    IReadOnlyList<RotationPhase> Phases,
    /// <summary>Where this strategy can lose traffic and for how long; empty when it cannot.</summary>
    string LossWindow,
    IReadOnlyList<string> Notes);

/// <summary>Both strategies for one node, so the operator sees why the slower one is the default.</summary>
public sealed record RotationPlans(RotationPlan MakeBeforeBreak, RotationPlan InPlace);
