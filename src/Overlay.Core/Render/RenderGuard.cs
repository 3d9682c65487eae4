using System.Text.RegularExpressions;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Core.Render;

/// <summary>
/// The last check before anything is written: every free-text value of the inventory that a renderer or the rotation
/// planner puts into a file, a shell command, an FRR line or a path must match its <see cref="ValueGrammar"/>. The
/// reader already refuses such values with a located error; this holds for inventories built any other way (tests,
/// tools), so no code path can render a value a shell, wg-quick or FRR would misread.
/// </summary>
internal static partial class RenderGuard
{
    [GeneratedRegex("^0?[0-7]{3}$")]
    private static partial Regex ModeRegex();

    public static void Check(Inventory inventory)
    {
        foreach (var n in inventory.Nodes)
        {
            Require(ValueGrammar.IsNodeName(n.Name), "node name", n.Name);
            Require(ValueGrammar.IsShort(n.Short), $"short name of node '{n.Name}'", n.Short);
            Require(n.Site is null || ValueGrammar.IsLabel(n.Site), $"site of node '{n.Name}'", n.Site ?? "");
            Require(ValueGrammar.IsAbsolutePath(n.KeyFile), $"keyFile of node '{n.Name}'", n.KeyFile);
            if (n.Endpoint is { } ep)
                Require(IpAddressText.TryParse(ep.Host, out _) || ValueGrammar.IsHostName(ep.Host, out _), $"endpoint host of node '{n.Name}'", ep.Host);
        }
        var frr = inventory.Frr;
        Require(ValueGrammar.IsPathspace(frr.Pathspace), "frr.pathspace", frr.Pathspace);
        Require(ValueGrammar.IsAbsolutePath(frr.VtyDir), "frr.vtyDir", frr.VtyDir);
        Require(IpAddressText.TryParse(frr.GrpcHost, out _), "frr.grpc.host", frr.GrpcHost);
        var d = inventory.Daemon;
        Require(ValueGrammar.IsAbsolutePath(d.ApiSocket), "daemon.socket", d.ApiSocket);
        Require(ValueGrammar.IsAbsolutePath(d.DrainFile), "daemon.drainFile", d.DrainFile);
        Require(d.ApiGroup is null || ValueGrammar.IsGroupName(d.ApiGroup), "daemon.group", d.ApiGroup ?? "");
        Require(ModeRegex().IsMatch(d.ApiMode), "daemon.mode", d.ApiMode);
        Require(System.Net.IPEndPoint.TryParse(d.MetricsListen, out _) && d.MetricsListen.All(c => char.IsAsciiHexDigit(c) || c is '.' or ':' or '[' or ']'),
            "daemon.metrics", d.MetricsListen);
        foreach (var p in inventory.Policies) Require(ValueGrammar.IsPolicyName(p.Name), "policy name", p.Name);
        foreach (var v in inventory.Vips)
        {
            Require(ValueGrammar.IsVipName(v.Name), "VIP name", v.Name);
            Require(ValueGrammar.IsPolicyName(v.Policy), $"policy of VIP '{v.Name}'", v.Policy);
        }
    }

    private static void Require(bool ok, string what, string value)
    {
        if (!ok)
            throw new ArgumentException($"refusing to render: {what} '{ValueGrammar.Printable(value, 80)}' does not match its grammar (docs/security.md)");
    }
}
