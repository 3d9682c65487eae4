using System.Net;
using System.Text;
using Overlay.Core.Net;
using Grpc.Core;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound;
using Overlay.Core.Model;

namespace Overlay.Frr.Routing;

/// <summary><see cref="IFrrRouting"/> over per-daemon northbound clients (staticd, bfdd, zebra).</summary>
public sealed class FrrRouting : IFrrRouting
{
    private readonly Func<FrrDaemon, INorthboundClient> _clients;

    public FrrRouting(NorthboundClientFactory factory)
        : this((factory ?? throw new ArgumentNullException(nameof(factory))).For)
    {
    }

    /// <param name="clients">Returns the (long-lived) client of a daemon.</param>
    public FrrRouting(Func<FrrDaemon, INorthboundClient> clients)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
    }

    public Task<FrrCapabilities> GetCapabilitiesAsync(FrrDaemon daemon, CancellationToken cancellationToken = default) =>
        _clients(daemon).GetCapabilitiesAsync(cancellationToken);

    public Task<ApplyResult> AddVipRouteAsync(IpPrefix vip, StaticNexthop nexthop, CancellationToken cancellationToken = default)
    {
        RequireHost(vip);
        ArgumentNullException.ThrowIfNull(nexthop);
        var edit = nexthop.Type switch
        {
            // bh-type "null" is the plain blackhole; setting it creates the nexthop entry.
            StaticNexthopType.Blackhole => YangEdit.Update(YangPaths.StaticBlackholeType(vip), "null"),
            StaticNexthopType.Interface => YangEdit.Update(YangPaths.StaticInterfaceNexthop(vip, nexthop.Interface
                ?? throw new ArgumentException("An interface nexthop needs an interface name.", nameof(nexthop)))),
            _ => throw new ArgumentException($"VIP routes use a blackhole or interface nexthop, not {nexthop.Type}.", nameof(nexthop)),
        };
        return _clients(FrrDaemon.Staticd).ApplyAsync([edit], $"overlay: advertise {vip}", cancellationToken);
    }

    public Task<ApplyResult> RemoveVipRouteAsync(IpPrefix vip, CancellationToken cancellationToken = default)
    {
        RequireHost(vip);
        return DeleteIdempotentAsync(FrrDaemon.Staticd, YangPaths.StaticRoute(vip), $"overlay: withdraw {vip}", cancellationToken);
    }

    public async Task<IReadOnlyList<StaticRoute>> ListVipRoutesAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetSingleAsync(FrrDaemon.Staticd, YangPaths.Routing, NorthboundDataType.Config, cancellationToken).ConfigureAwait(false);
        return json is null ? [] : NorthboundParsers.ParseStaticRoutes(json).Where(r => r.Prefix.IsHost).ToList();
    }

    public Task<ApplyResult> AddBfdPeerAsync(BfdPeer peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var path = YangPaths.BfdSingleHop(peer.Peer, peer.Interface, peer.Vrf);
        YangEdit[] edits =
        [
            YangEdit.Update(path),
            YangEdit.Update(path + "/detection-multiplier", Checked(peer.DetectMultiplier, 2, 255, "detect multiplier").ToString(System.Globalization.CultureInfo.InvariantCulture)),
            YangEdit.Update(path + "/desired-transmission-interval", IntervalMicroseconds(peer.TransmitInterval, "transmit interval")),
            YangEdit.Update(path + "/required-receive-interval", IntervalMicroseconds(peer.ReceiveInterval, "receive interval")),
        ];
        return _clients(FrrDaemon.Bfdd).ApplyAsync(edits, $"overlay: bfd peer {peer.Peer} {peer.Interface}", cancellationToken);
    }

    public Task<ApplyResult> RemoveBfdPeerAsync(IPAddress peer, string interfaceName, string vrf = YangPaths.DefaultVrf, CancellationToken cancellationToken = default) =>
        DeleteIdempotentAsync(FrrDaemon.Bfdd, YangPaths.BfdSingleHop(peer, interfaceName, vrf), $"overlay: remove bfd peer {peer} {interfaceName}", cancellationToken);

    public async Task<IReadOnlyList<BfdSession>> GetBfdSessionsAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetSingleAsync(FrrDaemon.Bfdd, YangPaths.Bfdd, NorthboundDataType.State, cancellationToken).ConfigureAwait(false);
        return json is null ? [] : NorthboundParsers.ParseBfdSessions(json);
    }

    public async Task<IReadOnlyList<RibEntry>> GetRibAsync(IpPrefix? prefix = null, CancellationToken cancellationToken = default)
    {
        var json = await GetSingleAsync(FrrDaemon.Zebra, YangPaths.VrfLib, NorthboundDataType.State, cancellationToken).ConfigureAwait(false);
        if (json is null)
            return [];
        return NorthboundParsers.ParseRib(json)
            .Where(e => e.AfiSafi.EndsWith("-unicast", StringComparison.Ordinal) && (prefix is null || e.Prefix == prefix.Value))
            .ToList();
    }

    /// <summary>
    /// Deletes a subtree; FRR 8.4 rejects deleting a node that does not exist (EditCandidate
    /// INVALID_ARGUMENT "Failed to remove"), which for Overlay means "already gone".
    /// </summary>
    private async Task<ApplyResult> DeleteIdempotentAsync(FrrDaemon daemon, string path, string comment, CancellationToken cancellationToken)
    {
        try
        {
            return await _clients(daemon).ApplyAsync([YangEdit.Delete(path)], comment, cancellationToken).ConfigureAwait(false);
        }
        catch (FrrNorthboundException e) when (e.StatusCode == StatusCode.InvalidArgument && e.Method == "EditCandidate"
                                                && e.Detail.StartsWith("Failed to remove", StringComparison.Ordinal))
        {
            return ApplyResult.NoChange;
        }
    }

    /// <summary>
    /// One path, one answer. A config Get of a subtree with no configuration answers
    /// INVALID_ARGUMENT "Data path not found" in 8.4: that is an empty result, not an error.
    /// </summary>
    private async Task<string?> GetSingleAsync(FrrDaemon daemon, string path, NorthboundDataType type, CancellationToken cancellationToken)
    {
        var builder = new StringBuilder();
        try
        {
            await foreach (var data in _clients(daemon).GetAsync([path], type, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (builder.Length > 0)
                    throw new FrrParseException($"{daemon.ToDaemonName()}: Get {path} answered more than one data tree");
                builder.Append(data.Json);
            }
        }
        catch (FrrNorthboundException e) when (type == NorthboundDataType.Config && e.StatusCode == StatusCode.InvalidArgument
                                                && e.Detail == "Data path not found")
        {
            return null;
        }
        return builder.Length == 0 || string.IsNullOrWhiteSpace(builder.ToString()) ? null : builder.ToString();
    }

    private static void RequireHost(IpPrefix vip)
    {
        if (!vip.IsHost)
            throw new ArgumentException($"A VIP route is a host route (/32 or /128); {vip} is not.", nameof(vip));
    }

    private static int Checked(int value, int min, int max, string what) =>
        value < min || value > max ? throw new ArgumentOutOfRangeException(what, value, $"BFD {what} must be within {min}..{max}.") : value;

    private static string IntervalMicroseconds(TimeSpan interval, string what)
    {
        var microseconds = (long)interval.TotalMicroseconds;
        if (microseconds is < 10_000 or > 60_000_000)
            throw new ArgumentOutOfRangeException(what, interval, $"BFD {what} must be within 10 ms .. 60 s.");
        return microseconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
