using System.CommandLine;
using System.Globalization;
using Overlay.Core.Api;
using Overlay.Core.Diagnostics;
using Overlay.Core.Explain;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl explain DEST: who owns the route to DEST, joined by the daemon from the kernel's lookup, the
/// WireGuard peer whose AllowedIPs match on the egress interface, FRR's RIB entry and the inventory owner.
/// Exit 1 when a finding is a problem (no route, a disagreement that drops traffic).
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var dest = new Argument<string>("destination") { Description = "An IP address (not a prefix), e.g. 10.20.1.5" };
        var command = new Command("explain", "Who owns the route to an address: kernel route, WireGuard peer, FRR RIB entry, inventory owner") { dest, socket, output };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", parse.GetValue(dest)!, Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, string destination, Live.Io io, CancellationToken ct)
    {
        // The one strict parser: "010.0.1.2" is refused rather than read as octal 8.0.1.2.
        if (!IpAddressText.TryParse(destination, out var address, out var why))
        {
            io.Err.WriteLine($"overlayctl explain: '{ValueGrammar.Printable(destination, 60)}' is not an IP address ({why}); pass one address, e.g. overlayctl explain 10.20.1.5");
            return Task.FromResult(Live.Usage);
        }
        return Live.RunAsync(socket, io, async client =>
        {
            var r = await client.GetAsync($"{ControlApiPaths.Explain}?dest={Uri.EscapeDataString(address.ToString())}", ControlApiJson.Default.ExplainResult, ct);
            if (!r.Ok) return Live.Failed(r, io, "explain");
            int code = r.Value.Findings.Any(f => f.Severity == FindingSeverity.Problem) ? Live.Unhealthy : Live.Ok;
            if (json) { Live.PrintJson(r, io); return code; }

            // The peer's inventory name is in the daemon's interface list, not in the join; one more cheap request.
            var peerNames = new Dictionary<string, string>(StringComparer.Ordinal);
            var peers = await client.GetAsync(ControlApiPaths.Peers, ControlApiJson.Default.PeersResponse, ct);
            if (peers.Ok)
                foreach (var p in peers.Value.Peers)
                    if (p.Interface is { } i && p.Peer is { } n) peerNames[i] = n;
            Render(r.Value, peerNames, io);
            return code;
        });
    }

    // Plain aligned text, not a Spectre grid: explain is the command people run in a hurry, and the table
    // library's first-use cost (JIT) was about half of its end-to-end time (docs/benchmarks.md).
    private static void Render(ExplainResult root, Dictionary<string, string> peerNames, Live.Io io)
    {
        var o = io.Out;
        void Line(string k, string v) => o.WriteLine($"{k,-12} {v}");

        Line("destination", root.Destination.ToString());
        Line("kernel", root.Kernel is { } k
            ? $"{k.Type} {k.MatchedPrefix?.ToString() ?? "(default)"} dev {k.Dev ?? "-"}{(k.Gateway is { } gw ? " via " + gw : "")}" +
              $"{(k.Protocol is { } pr ? " proto " + pr : "")}{(k.Metric is { } m ? " metric " + m.ToString(CultureInfo.InvariantCulture) : "")}"
            : "no route");
        Line("wireguard", root.Peer is { } p
            ? $"peer {(peerNames.TryGetValue(p.Interface, out var name) ? name + " " : "")}on {p.Interface}, " +
              $"key {p.PublicKey.ToBase64()}, allowed-ips match {p.AllowedIp}{(p.Endpoint is { } ep ? ", endpoint " + ep : "")}"
            : "no peer");
        Line("frr rib", root.Rib is { } rib
            ? $"{rib.Prefix} {rib.Protocol} [{rib.Distance.ToString(CultureInfo.InvariantCulture)}/{rib.Metric.ToString(CultureInfo.InvariantCulture)}]" +
              $"{string.Concat(rib.Nexthops.Select(n => $" via {n.Gateway?.ToString() ?? "directly"}{(n.Interface is { } ni ? " " + ni : "")}{(n.Active ? "" : " (inactive)")}"))}" +
              $"{(rib.Selected ? " selected" : " not-selected")}{(rib.Installed ? " installed" : " NOT-installed")}"
            : "no entry");
        Line("owner", root.Owner is { } ow ? $"{ow.Node} ({ow.Kind} {ow.Prefix})" : "no inventory node owns it");

        var findings = root.Findings;
        if (findings.Count == 0) return;
        o.WriteLine();
        int codeWidth = Math.Max(4, findings.Max(f => f.Code?.Length ?? 1));
        o.WriteLine($"{"SEVERITY",-9} {"CODE".PadRight(codeWidth)} FINDING");
        foreach (var f in findings)
        {
            string sev = f.Severity.ToString().ToLowerInvariant();
            string text = $"{sev,-9} {(f.Code ?? "-").PadRight(codeWidth)} {f.Message}";
            // Color only on a terminal; the word carries the meaning either way.
            o.WriteLine(io.Color && sev is "problem" or "warning" ? $"\u001b[{(sev == "problem" ? "31" : "33")}m{text}\u001b[0m" : text);
        }
    }
}
