using System.Net;

namespace Overlay.Lab;

/// <summary>How a lab NAT router behaves (see <see cref="LabTopology.AddNat"/>).</summary>
public sealed record NatOptions
{
    /// <summary>
    /// How long a UDP mapping that has only seen packets one way lives without traffic
    /// (the router namespace's <c>net.netfilter.nf_conntrack_udp_timeout</c>; Linux's default is 30 s).
    /// </summary>
    public TimeSpan UdpTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a UDP mapping that has seen traffic both ways lives without traffic
    /// (<c>net.netfilter.nf_conntrack_udp_timeout_stream</c>; Linux's default is 120 s). Null: the same as
    /// <see cref="UdpTimeout"/>, which is what a home router with one "UDP timeout" setting does.
    /// </summary>
    public TimeSpan? UdpStreamTimeout { get; init; }

    /// <summary>
    /// True: every new mapping gets a random public port (nftables <c>masquerade random</c>, as carrier-grade NATs do),
    /// so a mapping that is lost and re-made shows up at the far end as a new endpoint. False: the source port is kept
    /// when it is free (many home routers).
    /// </summary>
    public bool RandomPorts { get; init; } = true;

    public TimeSpan EffectiveStreamTimeout => UdpStreamTimeout ?? UdpTimeout;
}

/// <summary>
/// A NAT router of a lab: masquerades what the inside network sends out of the outside link. Each lab node is its
/// own network namespace, so the conntrack table and its timeouts belong to this router alone.
/// </summary>
public sealed class LabNat
{
    internal LabNat(LabNode router, LabLink inside, LabLink outside, NatOptions options)
    {
        Router = router; Inside = inside; Outside = outside; Options = options;
    }

    public LabNode Router { get; }
    public LabLink Inside { get; }
    public LabLink Outside { get; }
    public NatOptions Options { get; }

    /// <summary>The node behind the NAT (the other end of <see cref="Inside"/>).</summary>
    public LabNode InsideNode => Inside.PeerOf(Router);

    /// <summary>The address the inside node's packets carry once NATed (the router's outside address).</summary>
    public IPAddress PublicAddress => Outside.AddressOf(Router);

    /// <summary>The router's inside address: the inside node's default gateway.</summary>
    public IPAddress InsideGateway => Inside.AddressOf(Router);

    /// <summary>The nftables table the lab loads in the router (its only table).</summary>
    public const string NftTable = "olabnat";

    /// <summary>The ruleset: masquerade out of the outside interface, and an (empty) forward chain where a block rule goes.</summary>
    internal string NftRuleset() => $$"""
        table ip {{NftTable}} {
          chain forward {
            type filter hook forward priority filter; policy accept;
          }
          chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            oifname "{{Outside.InterfaceOf(Router)}}" masquerade{{(Options.RandomPorts ? " random" : "")}}
          }
        }

        """;

    public override string ToString() => $"NAT {Router.Name} ({InsideNode.Name} behind {PublicAddress})";
}

/// <summary>One UDP entry of a NAT router's conntrack table (a mapping), as /proc/net/nf_conntrack lists it.</summary>
/// <param name="Source">The original sender (an inside address for an outgoing mapping).</param>
/// <param name="ReplyDestination">Where replies are addressed: for a NATed flow, the public address and port.</param>
/// <param name="Replied">False while the entry is [UNREPLIED] (packets seen one way only).</param>
/// <param name="SecondsLeft">The entry's remaining lifetime in seconds.</param>
public sealed record NatMapping(IPEndPoint Source, IPEndPoint Destination, IPEndPoint ReplySource, IPEndPoint ReplyDestination, bool Replied, int SecondsLeft)
{
    /// <summary>True when the router rewrote the source: the flow was NATed.</summary>
    public bool IsTranslated => !Source.Equals(ReplyDestination);

    public override string ToString() =>
        $"udp {Source} -> {Destination}{(IsTranslated ? $" as {ReplyDestination}" : "")}{(Replied ? "" : " [UNREPLIED]")} ({SecondsLeft} s left)";
}
