using Overlay.Core.Net;
using Overlay.Core.Config;
using Overlay.Core.Model;

namespace Overlay.Core.Health;

public enum HealthReasonCode
{
    LinkDown,
    PeerMissing,
    NoHandshake,
    HandshakeStale,
    RxStalled,
    BfdMissing,
    BfdDown,
    TooFewHealthyInterfaces,
    OspfNeighborsMissing,
    BgpNotEstablished,
}

public sealed record HealthReason(HealthReasonCode Code, string Subject, string Message)
{
    public override string ToString() => $"{Subject}: {Message}";
}

public sealed record InterfaceVerdict(string Interface, bool Healthy, IReadOnlyList<HealthReason> Reasons, TimeSpan? HandshakeAge)
{
    public string Summary => Healthy ? "healthy" : string.Join("; ", Reasons.Select(r => r.Message));
}

public sealed record VipHealth(string Vip, bool Healthy, int HealthyInterfaces, int RequiredInterfaces, IReadOnlyList<HealthReason> Reasons)
{
    public string Summary => Healthy
        ? $"{HealthyInterfaces}/{RequiredInterfaces} interfaces healthy"
        : string.Join("; ", Reasons.Select(r => r.ToString()));
}

/// <summary>
/// Remembers when each interface's rx byte counter last grew. Rx progress is only meaningful where the
/// far end sends keepalives: an idle tunnel without keepalives legitimately receives nothing.
/// A counter that goes backwards (interface recreated) counts as progress from the new baseline.
/// </summary>
public sealed class RxProgressTracker
{
    private readonly Dictionary<string, (long Bytes, DateTimeOffset Since)> _last = new(StringComparer.Ordinal);

    public DateTimeOffset Observe(string iface, long rxBytes, DateTimeOffset now)
    {
        if (_last.TryGetValue(iface, out var prev) && prev.Bytes == rxBytes) return prev.Since;
        _last[iface] = (rxBytes, now);
        return now;
    }

    public void Forget(string iface) => _last.Remove(iface);
}

public static class HealthModel
{
    /// <summary>
    /// Judges one WireGuard interface from its four signals: link state, handshake age, rx progress where
    /// keepalives are expected, and the BFD session when the interface has one and the policy requires it.
    /// All failing signals are reported, not just the first, so status shows the whole picture.
    /// </summary>
    public static InterfaceVerdict EvaluateInterface(WgInterfaceConfig config, HealthPolicy policy, InterfaceObservation o, DateTimeOffset now)
    {
        var reasons = new List<HealthReason>();
        var name = config.Name;
        if (o.Link is not LinkOperState.Up and not LinkOperState.Unknown)
            // TUN devices (wireguard-go) report "unknown" while working; only explicit down states fail.
            reasons.Add(new(HealthReasonCode.LinkDown, name, o.Link == LinkOperState.NotPresent ? "interface does not exist" : $"link is {o.Link}"));

        TimeSpan? age = null;
        if (o.Peer is null)
            reasons.Add(new(HealthReasonCode.PeerMissing, name, $"no peer with key {config.PeerPublicKey} ({config.Peer})"));
        else
        {
            if (o.Peer.LastHandshake is not { } hs)
                reasons.Add(new(HealthReasonCode.NoHandshake, name, "no handshake yet"));
            else
            {
                age = now - hs;
                if (age < TimeSpan.Zero) age = TimeSpan.Zero;
                if (age > policy.HandshakeMaxAge)
                    reasons.Add(new(HealthReasonCode.HandshakeStale, name,
                        $"last handshake {DurationText.Format(Round(age.Value))} ago > {DurationText.Format(policy.HandshakeMaxAge)}"));
            }
            if (config.ExpectsRxProgress && o.LastRxProgress is { } progress && now - progress > policy.RxStallAfter)
                reasons.Add(new(HealthReasonCode.RxStalled, name,
                    $"no rx for {DurationText.Format(Round(now - progress))} (keepalive {DurationText.Format(config.Keepalive)}, stall after {DurationText.Format(policy.RxStallAfter)})"));
        }

        if (config.Bfd && policy.Bfd == BfdRequirement.Required)
        {
            if (o.Bfd is null)
                reasons.Add(new(HealthReasonCode.BfdMissing, name, $"no BFD session to {config.PeerAddress}"));
            else if (o.Bfd != BfdSessionState.Up)
                reasons.Add(new(HealthReasonCode.BfdDown, name, $"BFD to {config.PeerAddress} is {o.Bfd}"));
        }
        return new InterfaceVerdict(name, reasons.Count == 0, reasons, age);
    }

    /// <summary>
    /// A VIP is healthy when at least minHealthyInterfaces of its interfaces are healthy and every configured
    /// routing gate holds. Without a routing snapshot the gates count as failed: unknown is not healthy.
    /// </summary>
    public static VipHealth EvaluateVip(VipConfig vip, HealthPolicy policy, IReadOnlyDictionary<string, InterfaceVerdict> verdicts, RoutingSnapshot? routing)
    {
        var reasons = new List<HealthReason>();
        int healthy = 0;
        foreach (var name in vip.Interfaces)
        {
            if (verdicts.TryGetValue(name, out var v) && v.Healthy) healthy++;
        }
        if (healthy < policy.MinHealthyInterfaces)
        {
            reasons.Add(new(HealthReasonCode.TooFewHealthyInterfaces, vip.Name, $"{healthy} of {policy.MinHealthyInterfaces} required interfaces healthy"));
            foreach (var name in vip.Interfaces)
            {
                if (verdicts.TryGetValue(name, out var v)) reasons.AddRange(v.Reasons);
                else reasons.Add(new(HealthReasonCode.LinkDown, name, "no observation"));
            }
        }

        var req = policy.Require;
        if (req.OspfFullNeighbors > 0)
        {
            int full = routing?.OspfNeighbors.Count(n => n.State == OspfNeighborState.Full) ?? 0;
            if (routing is null || full < req.OspfFullNeighbors)
                reasons.Add(new(HealthReasonCode.OspfNeighborsMissing, "ospf",
                    routing is null ? "OSPF state unknown" : $"{full} OSPF neighbors Full < {req.OspfFullNeighbors} required"));
        }
        foreach (var addr in req.BgpEstablished)
        {
            // Policies name addresses; an unnumbered peer has none, so it never stands in for one.
            var s = routing?.BgpSessions.FirstOrDefault(b => addr.Equals(b.Address));
            if (s is not { Established: true })
                reasons.Add(new(HealthReasonCode.BgpNotEstablished, $"bgp {addr}",
                    routing is null ? "BGP state unknown" : s is null ? "no such BGP neighbor" : $"session is {s.State}"));
        }
        return new VipHealth(vip.Name, reasons.Count == 0, healthy, policy.MinHealthyInterfaces, reasons);
    }

    // WireGuard reports handshake times in whole seconds; finer ages would be noise in messages.
    private static TimeSpan Round(TimeSpan t) => TimeSpan.FromSeconds(Math.Round(t.TotalSeconds));
}
