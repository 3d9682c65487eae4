using Overlay.Core.Model;
using Overlay.Core.Net;
using Overlay.Frr.Northbound;

namespace Overlay.Frr.Vty;

/// <summary>
/// Routing state FRR 8.4 does not model over the northbound API (OSPF neighbors, BGP sessions and
/// table), read from the daemons' own JSON over their vty sockets.
/// </summary>
public interface IFrrShow
{
    Task<IReadOnlyList<OspfNeighbor>> GetOspfNeighborsAsync(CancellationToken cancellationToken = default);

    Task<BgpSummary> GetBgpSummaryAsync(CancellationToken cancellationToken = default);

    /// <summary>A prefix in bgpd's unicast table (exact match); null when not in the table.</summary>
    Task<BgpRoute?> GetBgpRouteAsync(IpPrefix prefix, CancellationToken cancellationToken = default);
}

public sealed class FrrShow(IVty vty) : IFrrShow
{
    private readonly IVty _vty = vty ?? throw new ArgumentNullException(nameof(vty));

    public async Task<IReadOnlyList<OspfNeighbor>> GetOspfNeighborsAsync(CancellationToken cancellationToken = default) =>
        ShowParsers.ParseOspfNeighbors(await _vty.ExecuteAsync(FrrDaemon.Ospfd, "show ip ospf neighbor json", cancellationToken).ConfigureAwait(false));

    public async Task<BgpSummary> GetBgpSummaryAsync(CancellationToken cancellationToken = default) =>
        ShowParsers.ParseBgpSummary(await _vty.ExecuteAsync(FrrDaemon.Bgpd, "show bgp summary json", cancellationToken).ConfigureAwait(false));

    public async Task<BgpRoute?> GetBgpRouteAsync(IpPrefix prefix, CancellationToken cancellationToken = default)
    {
        var command = $"show bgp {(prefix.IsIPv6 ? "ipv6" : "ipv4")} unicast {prefix} json";
        string output;
        try
        {
            output = await _vty.ExecuteAsync(FrrDaemon.Bgpd, command, cancellationToken).ConfigureAwait(false);
        }
        catch (FrrVtyException e) when (e.Status == VtyStatus.Warning && ShowParsers.IsNetworkNotInTable(e.Output))
        {
            return null;
        }
        return ShowParsers.ParseBgpRoute(output);
    }
}
