using System.Net;
using Overlay.Core.Diagnostics;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Net;

namespace Overlay.Core.Explain;

/// <summary>What the kernel answered for "ip route get DEST" (null fields where it said nothing).</summary>
public sealed record KernelRouteLookup(IpPrefix? MatchedPrefix, string? Dev, IPAddress? Gateway, string? Protocol, int? Metric, string Type = "unicast");

/// <summary>What the inventory says a node owns: its overlay addresses and the subnets it announces.</summary>
public sealed record InventoryOwnership(string Node, IReadOnlyList<IpPrefix> OverlayAddresses, IReadOnlyList<IpPrefix> AnnouncedSubnets);

public sealed record ExplainInput(
    IPAddress Destination,
    IReadOnlyList<WireGuardDevice> WireGuard,
    KernelRouteLookup? Kernel,
    IReadOnlyList<RibEntry> Rib,
    IReadOnlyList<InventoryOwnership> Inventory);

public enum FindingSeverity { Info, Warning, Problem }

public sealed record ExplainFinding(FindingSeverity Severity, string Code, string Message);

public sealed record PeerMatch(string Interface, WireGuardKey PublicKey, IpPrefix AllowedIp, string? Endpoint);

public sealed record OwnerMatch(string Node, IpPrefix Prefix, string Kind);

public sealed record ExplainResult(
    IPAddress Destination,
    KernelRouteLookup? Kernel,
    PeerMatch? Peer,
    RibEntry? Rib,
    OwnerMatch? Owner,
    IReadOnlyList<ExplainFinding> Findings);

/// <summary>Longest-prefix match, kept behind one function so a trie can replace the linear scan.</summary>
public static class PrefixMatch
{
    public static (IpPrefix Prefix, T Value)? Longest<T>(IEnumerable<(IpPrefix Prefix, T Value)> candidates, IPAddress address)
    {
        (IpPrefix Prefix, T Value)? best = null;
        foreach (var c in candidates)
            if (c.Prefix.Contains(address) && (best is null || c.Prefix.Length > best.Value.Prefix.Length))
                best = c;
        return best;
    }
}

/// <summary>
/// Answers "who owns this route": joins the kernel's lookup, the WireGuard peer that would accept the
/// packet on the egress interface (cryptokey routing: longest AllowedIPs match), FRR's best RIB entry and
/// the inventory owner, and says explicitly where they disagree or where nothing matches.
/// </summary>
public static class RouteExplainer
{
    public static ExplainResult Explain(ExplainInput input)
    {
        var dest = input.Destination;
        var findings = new List<ExplainFinding>();

        // Kernel
        var kernel = input.Kernel;
        if (kernel is null)
            findings.Add(new(FindingSeverity.Problem, "kernel-no-route", $"the kernel has no route to {dest}"));
        else if (kernel.Type is "blackhole" or "unreachable" or "prohibit")
            findings.Add(new(FindingSeverity.Warning, "kernel-" + kernel.Type, $"the kernel {kernel.Type}s {dest}{(kernel.MatchedPrefix is { } kp ? $" ({kp})" : "")}"));
        else
            findings.Add(new(FindingSeverity.Info, "kernel-route",
                $"the kernel sends {dest} out {kernel.Dev ?? "(no device)"}{(kernel.Gateway is null ? "" : $" via {kernel.Gateway}")}{(kernel.Protocol is null ? "" : $" (proto {kernel.Protocol})")}"));

        // WireGuard peer on the egress interface
        PeerMatch? peer = null;
        var egress = kernel?.Dev is { } dev ? input.WireGuard.FirstOrDefault(w => w.Name == dev) : null;
        if (kernel?.Dev is not null && egress is null)
            findings.Add(new(FindingSeverity.Info, "egress-not-wireguard", $"{kernel.Dev} is not a WireGuard interface of this node"));
        else if (egress is not null)
        {
            var match = PrefixMatch.Longest(egress.Peers.SelectMany(p => p.AllowedIPs.Select(a => (a, p))), dest);
            if (match is { } m)
            {
                peer = new PeerMatch(egress.Name, m.Value.PublicKey, m.Prefix, m.Value.Endpoint?.ToString());
                findings.Add(new(FindingSeverity.Info, "wg-peer", $"on {egress.Name}, peer {m.Value.PublicKey} admits {dest} via AllowedIPs {m.Prefix}"));
            }
            else
                findings.Add(new(FindingSeverity.Problem, "wg-no-peer",
                    $"no peer on {egress.Name} admits {dest} in its AllowedIPs: WireGuard drops the packet (ENOKEY)"));
        }

        // FRR RIB: the most specific prefix that has a selected route; else the most specific at all.
        var byPrefix = input.Rib.GroupBy(r => r.Prefix).Select(g => (g.Key, g.ToList()));
        var lpm = PrefixMatch.Longest(byPrefix.Select(x => (x.Key, x.Item2)), dest);
        RibEntry? rib = null;
        if (lpm is null)
            findings.Add(new(FindingSeverity.Warning, "frr-no-route", $"FRR's RIB has no route to {dest}"));
        else
        {
            var entries = lpm.Value.Value;
            rib = entries.FirstOrDefault(e => e.Selected) ?? entries.OrderBy(e => e.Distance).ThenBy(e => e.Metric).First();
            if (!rib.Selected)
                findings.Add(new(FindingSeverity.Warning, "frr-none-selected", $"FRR has {entries.Count} route(s) for {lpm.Value.Prefix} but none is selected"));
            else
                findings.Add(new(FindingSeverity.Info, "frr-route",
                    $"FRR selects {rib.Prefix} from {rib.Protocol} [{rib.Distance}/{rib.Metric}] via {string.Join(", ", rib.Nexthops.Select(Describe))}{(rib.Installed ? "" : " (not installed)")}"));
            if (rib.Selected && !rib.Installed)
                findings.Add(new(FindingSeverity.Problem, "frr-not-installed", $"FRR's selected route {rib.Prefix} is not installed in the kernel"));

            if (kernel?.Dev is { } kdev && rib.Selected)
            {
                var ifaces = rib.Nexthops.Where(n => n.Active || rib.Nexthops.All(x => !x.Active)).Select(n => n.Interface).Where(i => i is not null).ToList();
                if (ifaces.Count > 0 && !ifaces.Contains(kdev))
                    findings.Add(new(FindingSeverity.Problem, "kernel-frr-mismatch",
                        $"the kernel routes {dest} via {kdev} but FRR's selected route says {string.Join(", ", ifaces)}"));
            }
            if (kernel?.MatchedPrefix is { } kpfx && rib.Selected && kpfx != rib.Prefix)
                findings.Add(new(FindingSeverity.Warning, "prefix-mismatch",
                    $"the kernel matched {kpfx} but FRR's most specific route is {rib.Prefix}: a route outside FRR decides"));
        }

        // Inventory owner: overlay addresses beat announced subnets, then longest match.
        var owners = input.Inventory.SelectMany(o =>
            o.OverlayAddresses.Select(p => (p, new OwnerMatch(o.Node, p, "overlay-address")))
             .Concat(o.AnnouncedSubnets.Select(p => (p, new OwnerMatch(o.Node, p, "announced-subnet"))))).ToList();
        var owner = PrefixMatch.Longest(owners.Where(x => x.Item2.Kind == "overlay-address"), dest)?.Value
                    ?? PrefixMatch.Longest(owners, dest)?.Value;
        if (owner is null)
            findings.Add(new(FindingSeverity.Warning, "inventory-no-owner", $"no inventory node owns {dest}"));
        else
        {
            findings.Add(new(FindingSeverity.Info, "inventory-owner", $"inventory: {owner.Node} owns {owner.Prefix} ({owner.Kind})"));
            var rivals = owners.Where(x => x.p.Contains(dest) && x.p.Length == owner.Prefix.Length && x.Item2.Node != owner.Node && x.Item2.Kind == owner.Kind)
                .Select(x => x.Item2.Node).Distinct().ToList();
            if (rivals.Count > 0)
                findings.Add(new(FindingSeverity.Info, "inventory-anycast", $"{owner.Prefix} is also owned by {string.Join(", ", rivals)} (anycast)"));
        }

        return new ExplainResult(dest, kernel, peer, rib, owner, findings);
    }

    private static string Describe(RibNexthop n) =>
        (n.Gateway, n.Interface) switch
        {
            (null, null) => "(none)",
            (null, { } i) => i,
            ({ } g, null) => g.ToString(),
            ({ } g, { } i) => $"{g} dev {i}",
        } + (n.Active ? "" : " (inactive)");
}
