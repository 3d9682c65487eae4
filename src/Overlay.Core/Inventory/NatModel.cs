using Overlay.Core.Diagnostics;

namespace Overlay.Core.Inventories;

/// <summary>Where a node's NAT UDP timeout was taken from, most specific first.</summary>
public enum NatTimeoutSource
{
    /// <summary>The node's own <c>natUdpTimeout</c>.</summary>
    Node,
    /// <summary>Its site's entry under <c>sites:</c>.</summary>
    Site,
    /// <summary><c>defaults.natUdpTimeout</c>.</summary>
    Defaults,
    /// <summary>Nothing said: <see cref="NatUdpTimeout.Standard"/>.</summary>
    Standard,
}

/// <summary>
/// How long the NAT in front of a node keeps an idle UDP mapping: after that, packets from its peers die at the NAT
/// until the node sends again. Render derives the tunnel's keepalive from it (docs/nat.md).
/// </summary>
public sealed record NatUdpTimeout(TimeSpan Value, NatTimeoutSource Source, SourceLocation Location)
{
    /// <summary>
    /// The timeout assumed when the inventory says nothing: 30 s, Linux conntrack's default for UDP that has only been
    /// seen one way (<c>nf_conntrack_udp_timeout</c>), which many home routers (Linux inside) keep, and the interval
    /// WireGuard's own 25 s keepalive advice was made for. Some NATs hold longer (Linux's 120 s once replies were seen,
    /// RFC 4787's recommended 2 min or more), a few are shorter: measure yours and say so.
    /// </summary>
    public static readonly TimeSpan Standard = TimeSpan.FromSeconds(30);

    /// <summary>Accepted range of natUdpTimeout: at least 2 s (a keepalive must fit below it in whole seconds).</summary>
    public static readonly TimeSpan Min = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(65535);

    public string Describe(string? site) => Source switch
    {
        NatTimeoutSource.Node => "natUdpTimeout of the node",
        NatTimeoutSource.Site => $"natUdpTimeout of site '{site}'",
        NatTimeoutSource.Defaults => "defaults.natUdpTimeout",
        _ => "the documented default: Linux conntrack's UDP timeout, common in home routers",
    };
}
