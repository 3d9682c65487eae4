using System.CommandLine;
using System.Net;
using System.Text.Json;
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
            using var r = await client.GetAsync("/v1/explain?dest=" + Uri.EscapeDataString(address.ToString()), ct);
            if (!r.Ok) return Live.Failed(r, io, "explain");
            int code = r.Root.Arr("findings").Any(f => f.Str("severity") == "Problem") ? Live.Unhealthy : Live.Ok;
            if (json) { Live.PrintJson(r, io); return code; }

            // The peer's inventory name is in the daemon's interface list, not in the join; one more cheap request.
            var peerNames = new Dictionary<string, string>(StringComparer.Ordinal);
            using (var peers = await client.GetAsync("/v1/peers", ct))
                if (peers.Ok)
                    foreach (var p in peers.Root.Arr("peers"))
                        if (p.Str("interface") is { } i && p.Str("peer") is { } n) peerNames[i] = n;
            Render(r.Root, peerNames, io);
            return code;
        });
    }

    // Plain aligned text, not a Spectre grid: explain is the command people run in a hurry, and the table
    // library's first-use cost (JIT) was about half of its end-to-end time (docs/benchmarks.md).
    private static void Render(JsonElement root, Dictionary<string, string> peerNames, Live.Io io)
    {
        var o = io.Out;
        void Line(string k, string v) => o.WriteLine($"{k,-12} {v}");

        Line("destination", root.Str("destination") ?? "-");
        Line("kernel", root.Obj("kernel") is { } k
            ? $"{k.Str("type")} {k.Str("matchedPrefix") ?? "(default)"} dev {k.Str("dev") ?? "-"}{(k.Str("gateway") is { } gw ? " via " + gw : "")}" +
              $"{(k.Str("protocol") is { } pr ? " proto " + pr : "")}{(k.Str("metric") is { } m ? " metric " + m : "")}"
            : "no route");
        Line("wireguard", root.Obj("peer") is { } p
            ? $"peer {(p.Str("interface") is { } pi && peerNames.TryGetValue(pi, out var name) ? name + " " : "")}on {p.Str("interface")}, " +
              $"key {p.Str("publicKey")}, allowed-ips match {p.Str("allowedIp")}{(p.Str("endpoint") is { } ep ? ", endpoint " + ep : "")}"
            : "no peer");
        Line("frr rib", root.Obj("rib") is { } rib
            ? $"{rib.Str("prefix")} {rib.Str("protocol")} [{rib.Str("distance")}/{rib.Str("metric")}]" +
              $"{string.Concat(rib.Arr("nexthops").Select(n => $" via {n.Str("gateway") ?? "directly"}{(n.Str("interface") is { } ni ? " " + ni : "")}{(n.Bool("active") ? "" : " (inactive)")}"))}" +
              $"{(rib.Bool("selected") ? " selected" : " not-selected")}{(rib.Bool("installed") ? " installed" : " NOT-installed")}"
            : "no entry");
        Line("owner", root.Obj("owner") is { } ow ? $"{ow.Str("node")} ({ow.Str("kind")} {ow.Str("prefix")})" : "no inventory node owns it");

        var findings = root.Arr("findings").ToList();
        if (findings.Count == 0) return;
        o.WriteLine();
        int codeWidth = Math.Max(4, findings.Max(f => f.Str("code")?.Length ?? 1));
        o.WriteLine($"{"SEVERITY",-9} {"CODE".PadRight(codeWidth)} FINDING");
        foreach (var f in findings)
        {
            string sev = (f.Str("severity") ?? "-").ToLowerInvariant();
            string text = $"{sev,-9} {(f.Str("code") ?? "-").PadRight(codeWidth)} {f.Str("message")}";
            // Color only on a terminal; the word carries the meaning either way.
            o.WriteLine(io.Color && sev is "problem" or "warning" ? $"\u001b[{(sev == "problem" ? "31" : "33")}m{text}\u001b[0m" : text);
        }
    }
}
