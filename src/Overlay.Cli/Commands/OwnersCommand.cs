using System.CommandLine;
using System.Text;
using Overlay.Cli.Output;
using Overlay.Core.Fleet;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Remote.Fleet;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl owners INVENTORY [PREFIX]: for every VIP and announced subnet, which nodes originate it now (their OSPF
/// databases, bgpd's advertisements to the upstreams, overlayd's VIP states), which origin every other node prefers
/// (zebra's selected route), and where that differs from the inventory. Reads every node over its node shell, as plan.
/// Exit codes as plan: 0 everything as the inventory says, 2 differences found, 1 errors (a node unreadable or read
/// only in part, bad input, a PREFIX that matches nothing).
/// </summary>
internal static class OwnersCommand
{
    public const int AsIntended = 0;
    public const int Errors = 1;
    public const int Differences = 2;

    public static Command Create()
    {
        var o = new PlanCommand.Options();
        var prefix = new Argument<string?>("prefix") { Description = "Only the VIPs and subnets that overlap this prefix or address", Arity = ArgumentArity.ZeroOrOne };
        var socket = new Option<string?>("--overlayd-socket") { Description = "overlayd's control socket on the nodes; {node} is the node's name (default: the inventory's daemon.socket)" };
        var command = new Command("owners", "For every VIP and subnet: which nodes originate it now, which origin each node prefers, and where that differs from the inventory (exit 0 as intended, 2 differences, 1 errors)");
        foreach (var s in new Symbol[] { o.Inventory, prefix, o.Via, o.SshUser, o.SshHost, o.SshOption, o.LocalNode, o.Vtysh, socket, o.Output })
            PlanCommand.Add(command, s);
        command.SetAction((parse, ct) => RunAsync(new OwnersRequest(new FleetRequest(parse.GetRequiredValue(o.Inventory))
        {
            Transport = new RotateApplyRequest(parse.GetRequiredValue(o.Inventory), "", null)
            {
                Via = parse.GetValue(o.Via),
                SshUser = parse.GetValue(o.SshUser),
                SshHosts = parse.GetValue(o.SshHost) ?? [],
                SshOptions = parse.GetValue(o.SshOption) ?? [],
                LocalNode = parse.GetValue(o.LocalNode),
                Vtysh = parse.GetValue(o.Vtysh) ?? "vtysh",
            },
            Json = parse.GetValue(o.Output) == "json",
        }, parse.GetValue(prefix), parse.GetValue(socket)), Console.Out, Console.Error, null, ct));
        return command;
    }

    internal sealed record OwnersRequest(FleetRequest Fleet, string? Prefix, string? OverlaydSocket);

    internal static async Task<int> RunAsync(OwnersRequest r, TextWriter stdout, TextWriter stderr, INodeShell? shellOverride, CancellationToken ct)
    {
        var errors = new List<string>();
        IpPrefix? filter = null;
        if (r.Prefix is not null)
        {
            filter = FleetOwners.ParseFilter(r.Prefix, out var why);
            if (filter is null) errors.Add($"PREFIX {why}");
        }
        if (r.OverlaydSocket is { } s && !s.StartsWith('/')) errors.Add($"--overlayd-socket '{s}' must be an absolute path");
        var ctx = PlanCommand.Prepare(r.Fleet, stderr, shellOverride);
        if (ctx is null || errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine($"error: {e}");
            return Errors;
        }
        if (filter is { } f && !FleetOwners.Intended(ctx.Inventory).Any(p => p.Prefix.Overlaps(f)))
        {
            stderr.WriteLine($"error: PREFIX {f} overlaps no VIP or subnet of {r.Fleet.Inventory}; nothing was read");
            return Errors;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var reads = await Task.WhenAll(ctx.Nodes.Select(n =>
        {
            string socket = (r.OverlaydSocket ?? ctx.Inventory.Daemon.ApiSocket).Replace("{node}", n, StringComparison.Ordinal);
            return FleetOwnersReader.ReadAsync(ctx.Shell, ctx.Options, ctx.Inventory, n, socket, ct);
        })).ConfigureAwait(false);
        long readMs = sw.ElapsedMilliseconds;
        var report = FleetOwners.Join(ctx.Inventory, reads, filter);
        var partial = reads.Where(x => x.Routing is { Problems.Count: > 0 }).ToList();
        if (r.Fleet.Json) stdout.WriteLine(CliJson.Serialize(ToJson(report, reads, readMs), CliJson.Indented));
        else stdout.Write(Text(report, reads, ctx.Inventory, readMs));
        return report.Unreadable.Count > 0 || partial.Count > 0 ? Errors : report.HasDifferences ? Differences : AsIntended;
    }

    private static OwnersJson ToJson(OwnersReport report, IReadOnlyList<NodeOwnershipRead> reads, long readMs) => new(
        AsIntended: !report.HasDifferences,
        Errors: report.Unreadable.Count > 0 || reads.Any(x => x.Routing is { Problems.Count: > 0 }),
        readMs,
        reads.Select(x => new OwnersNodeJson(
            x.Node,
            x.Error,
            x.Routing?.Problems,
            x.Routing is null ? null : new OwnersOverlaydJson(
                x.Routing.Overlayd.Answering,
                x.Routing.Overlayd.Problem,
                x.Routing.Overlayd.Vips.Select(v => new OwnersVipJson(v.Name, v.Prefix, v.State, v.LeaseHeld, v.Reason))))),
        report.Rows.Select(row => new OwnersPrefixJson(
            row.Prefix.ToString(),
            row.Kind,
            row.Name,
            row.Intended,
            row.AsIntended,
            row.Originators.Select(o => new OwnersOriginatorJson(o.Node, o.Known, o.Intended, o.How)),
            row.Preferences.Select(p => new OwnersPreferenceJson(p.Observer, p.Origins, p.Protocol, p.Via)),
            row.Findings.Select(f => new OwnersFindingJson(f.Kind, f.Node, f.IsDifference, f.Text)))));

    // What 'owners -o json' prints (docs/cli.md); property order is output order.
    internal sealed record OwnersJson(bool AsIntended, bool Errors, long ReadMs, IEnumerable<OwnersNodeJson> Nodes, IEnumerable<OwnersPrefixJson> Prefixes);

    internal sealed record OwnersNodeJson(string Node, string? Error, IReadOnlyList<string>? Problems, OwnersOverlaydJson? Overlayd);

    internal sealed record OwnersOverlaydJson(bool Answering, string? Problem, IEnumerable<OwnersVipJson> Vips);

    internal sealed record OwnersVipJson(string Name, string Prefix, string State, bool LeaseHeld, string Reason);

    internal sealed record OwnersPrefixJson(
        string Prefix, OwnedKind Kind, string Name, IReadOnlyList<string> Intended, bool AsIntended,
        IEnumerable<OwnersOriginatorJson> Originators, IEnumerable<OwnersPreferenceJson> Preferences, IEnumerable<OwnersFindingJson> Findings);

    internal sealed record OwnersOriginatorJson(string Node, bool Known, bool Intended, IReadOnlyList<string> How);

    internal sealed record OwnersPreferenceJson(string Node, IReadOnlyList<string> Origins, string? Protocol, IReadOnlyList<string> Via);

    internal sealed record OwnersFindingJson(OwnerFindingKind Kind, string? Node, bool Difference, string Text);

    internal static string Text(OwnersReport report, IReadOnlyList<NodeOwnershipRead> reads, Inventory inventory, long readMs)
    {
        var sb = new StringBuilder();
        foreach (var x in reads.Where(x => x.Error is not null)) sb.Append($"node {x.Node}: ERROR {FleetOwnersReader.Printable(x.Error!, 400)}\n");
        foreach (var x in reads.Where(x => x.Routing is { Problems.Count: > 0 }))
            foreach (var p in x.Routing!.Problems) sb.Append($"node {x.Node}: PARTIAL {p}\n");
        // The preferences shown in the table: the hubs' (where traffic between sites turns), or every node's when there is no hub.
        var hubs = inventory.Nodes.Where(n => n.Role == NodeRole.Hub).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var rows = report.Rows.Select(row => new[]
        {
            row.Prefix.ToString(),
            row.Kind == OwnedKind.Vip ? $"vip {row.Name}" : "subnet",
            string.Join(",", row.Intended),
            row.Originators.Count == 0 ? "-" : string.Join(" ", row.Originators.Select(o => $"{o.Node}({string.Join("+", o.How.Select(Short))})")),
            string.Join(" ", row.Preferences.Where(p => hubs.Count == 0 || hubs.Contains(p.Observer))
                .Select(p => $"{p.Observer}->{(p.Protocol is null ? "none" : p.Origins.Count == 0 ? "?" + (p.Via.Count > 0 ? $"(via {string.Join(",", p.Via)})" : "") : string.Join(",", p.Origins))}")),
            row.AsIntended ? "ok" : "DIFFERS",
        }).ToList();
        var header = new[] { "PREFIX", "WHAT", "INVENTORY", "ORIGINATED BY", hubs.Count > 0 ? "HUBS PREFER" : "NODES PREFER", "STATE" };
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd() + "\n";
        sb.Append(Line(header));
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append(Line(rows[i]));
            foreach (var f in report.Rows[i].Findings)
                sb.Append($"    {(f.IsDifference ? "DIFF" : "note")}  {FleetOwnersReader.Printable(f.Text, 400)}\n");
        }
        int differ = report.Rows.Count(r => !r.AsIntended);
        sb.Append($"owners: {report.Rows.Count} prefix(es), {report.Rows.Count - differ} as intended, {differ} differ; {reads.Count} node(s) read in {readMs} ms, {report.Unreadable.Count} unreadable\n");
        return sb.ToString();
    }

    private static string Short(string how) => how switch
    {
        "ospf network" => "ospf",
        "ospf external" => "ospf-ext",
        _ when how.StartsWith("bgp to ", StringComparison.Ordinal) => "bgp:" + how["bgp to ".Length..],
        _ when how.StartsWith("local ", StringComparison.Ordinal) => "local",
        _ => how,
    };
}
