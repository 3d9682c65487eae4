using Overlay.Core.Diagnostics;
using Overlay.Core.Yaml;
using Overlay.Core.Net;

namespace Overlay.Core.Inventories;

// NAT UDP timeouts: defaults.natUdpTimeout, sites.NAME.natUdpTimeout, a node's natUdpTimeout (docs/nat.md).
internal sealed partial class InventoryReader
{
    private static readonly string[] SiteKeys = ["natUdpTimeout"];

    /// <summary>Site name → its NAT's UDP timeout, from the optional root 'sites' mapping.</summary>
    private readonly Dictionary<string, NatUdpTimeout> _siteNat = new(StringComparer.Ordinal);

    private NatUdpTimeout? _defaultNat;

    private NatUdpTimeout? NatTimeout(YNode? node, string field, NatTimeoutSource source)
    {
        if (Duration(node, field) is not { } t) return null;
        if (t < NatUdpTimeout.Min || t > NatUdpTimeout.Max || t.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            Error(InventoryCodes.TimerInvalid, node!.At, $"{field} {DurationText.Format(t)} must be whole seconds between {DurationText.Format(NatUdpTimeout.Min)} and {DurationText.Format(NatUdpTimeout.Max)}",
                "the NAT's idle timeout for UDP mappings, e.g. 30s for many home routers; measure it (docs/nat.md)");
            return null;
        }
        return new NatUdpTimeout(t, source, node!.At);
    }

    private void ReadSites(YMap root)
    {
        var node = Get(root, "sites");
        if (node is null || node.IsNull) return;
        if (node.Kind != YKind.Mapping) { WrongType(node, "sites", "a mapping of site name to site settings"); return; }
        foreach (var (key, value) in node.Pairs)
        {
            if (key.Kind != YKind.Scalar) { WrongType(key, "a site name", "a string"); continue; }
            if (_siteNat.ContainsKey(key.Value))
            {
                Error(InventoryCodes.DuplicateKey, key.At, $"site '{key.Value}' is listed twice", "merge the two entries");
                continue;
            }
            var m = Map(value, $"site '{key.Value}'", SiteKeys);
            if (m is not null && NatTimeout(Get(m, "natUdpTimeout"), "natUdpTimeout", NatTimeoutSource.Site) is { } t)
                _siteNat[key.Value] = t;
        }
    }

    /// <summary>A NATed node's timeout: its own, else its site's, else the defaults', else the standard 30 s.</summary>
    private NatUdpTimeout? ResolveNat(YMap m, string who, bool nat, string? site)
    {
        var own = NatTimeout(Get(m, "natUdpTimeout"), "natUdpTimeout", NatTimeoutSource.Node);
        if (!nat)
        {
            if (own is not null)
                Error(InventoryCodes.Conflict, own.Location, $"{who} has natUdpTimeout but is not behind NAT", "add nat: true, or remove natUdpTimeout");
            return null;
        }
        return own
            ?? (site is not null && _siteNat.TryGetValue(site, out var s) ? s : null)
            ?? _defaultNat
            ?? new NatUdpTimeout(NatUdpTimeout.Standard, NatTimeoutSource.Standard, SourceLocation.None);
    }
}
