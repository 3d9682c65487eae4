using Overlay.Core.Net;

namespace Overlay.Daemon.Writer;

/// <summary>
/// What a ledger entry is about. Typed, so a subject is built in one place; its text ("vip:NAME", "route:PREFIX",
/// "wgpeer:INTERFACE") is what the log, the event timeline and the control API show.
/// </summary>
public abstract record LedgerSubject
{
    private protected abstract string Kind { get; }
    private protected abstract string Key { get; }
    public sealed override string ToString() => Kind + ":" + Key;
}

/// <summary>A VIP's route in FRR.</summary>
public sealed record VipSubject(string Vip) : LedgerSubject
{
    private protected override string Kind => "vip";
    private protected override string Key => Vip;
}

/// <summary>One of overlayd's kernel routes.</summary>
public sealed record RouteSubject(IpPrefix Prefix) : LedgerSubject
{
    private protected override string Kind => "route";
    private protected override string Key => Prefix.ToString();
}

/// <summary>The WireGuard peer session of one interface (the session watchdog's resets).</summary>
public sealed record PeerSubject(string Interface) : LedgerSubject
{
    private protected override string Kind => "wgpeer";
    private protected override string Key => Interface;
}

/// <summary>Whether a subject is in place: known after a successful apply or a read, unknown before either.</summary>
public enum LedgerState { Unknown, Present, Absent }

public static class LedgerStates
{
    public static LedgerState Of(bool present) => present ? LedgerState.Present : LedgerState.Absent;

    /// <summary>The word the control API, the log and the timeline use ("present", "absent", "unknown").</summary>
    public static string Text(this LedgerState state) => state switch
    {
        LedgerState.Present => "present",
        LedgerState.Absent => "absent",
        _ => "unknown",
    };
}

/// <summary>Desired vs running vs last apply for one subject.</summary>
public sealed record LedgerEntry(LedgerSubject Subject, LedgerState Desired, LedgerState Running, ChangeResult? LastApply)
{
    /// <summary>The control API's view of the entry (its JSON shape: states as words).</summary>
    public ApplyRecord ToRecord() => new(Subject.ToString(), Desired.Text(), Running.Text(), LastApply);
}
