using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Overlay.Cli.Commands;

/// <summary>overlayctl peers: like 'wg show' with handshake ages, transfer and health, plus BFD and routing neighbors.</summary>
internal static class PeersCommand
{
    public static Command Create()
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var command = new Command("peers", "WireGuard peers with handshake age, rx/tx, BFD and health; OSPF/BGP neighbors") { socket, output };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, Live.Io io, CancellationToken ct) =>
        Live.RunAsync(socket, io, async client =>
        {
            using var r = await client.GetAsync("/v1/peers", ct);
            if (!r.Ok) return Live.Failed(r, io, "peers");
            int code = r.Root.Arr("peers").All(p => p.Bool("healthy")) ? Live.Ok : Live.Unhealthy;
            if (json) { Live.PrintJson(r, io); return code; }

            var console = io.Ansi();
            RenderPeers(r.Root.Arr("peers"), io, console);
            var bfd = r.Root.Arr("bfd").ToList();
            if (bfd.Count > 0)
            {
                console.WriteLine();
                var t = Live.NewTable(io, "BFD PEER", "INTERFACE", "STATE");
                foreach (var b in bfd) Live.Row(t, Live.Cell(b.Str("peer")), Live.Cell(b.Str("interface")), Live.Cell(b.Str("state")));
                console.Write(t);
            }
            if (r.Root.Obj("routing") is { } routing)
            {
                var ospf = routing.Arr("ospfNeighbors").ToList();
                if (ospf.Count > 0)
                {
                    console.WriteLine();
                    var t = Live.NewTable(io, "OSPF NEIGHBOR", "ADDRESS", "INTERFACE", "STATE");
                    foreach (var n in ospf) Live.Row(t, Live.Cell(n.Str("routerId")), Live.Cell(n.Str("address")), Live.Cell(n.Str("interface")), Live.Cell(n.Str("state")));
                    console.Write(t);
                }
                var bgp = routing.Arr("bgpSessions").ToList();
                if (bgp.Count > 0)
                {
                    console.WriteLine();
                    var t = Live.NewTable(io, "BGP NEIGHBOR", "STATE");
                    foreach (var n in bgp) Live.Row(t, Live.Cell(n.Str("neighbor")), Live.Cell(n.Str("state")));
                    console.Write(t);
                }
            }
            return code;
        });

    internal static void RenderPeers(IEnumerable<JsonElement> peers, Live.Io io, IAnsiConsole console)
    {
        var list = peers.ToList();
        if (list.Count == 0) { console.WriteLine("no WireGuard interfaces configured"); return; }
        var t = Live.NewTable(io, "INTERFACE", "PEER", "PUBLIC KEY", "ENDPOINT", "LINK", "LATEST HANDSHAKE", "RX", "TX", "BFD", "HEALTH", "REASONS");
        foreach (var p in list)
        {
            string key = p.Str("publicKey") is { Length: > 12 } k ? k[..12] + "…" : p.Str("publicKey") ?? "-";
            Live.Row(t, Live.Cell(p.Str("interface")), Live.Cell(p.Str("peer")), Live.Cell(key), Live.Cell(p.Str("endpoint")), Live.Cell(p.Str("link")),
                Live.Cell(Live.Age(p.Num("handshakeAgeSeconds"))), Live.Cell(Live.Bytes(p.Num("rxBytes"))), Live.Cell(Live.Bytes(p.Num("txBytes"))),
                Live.Cell(p.Str("bfd")), Live.Health(p.Bool("healthy"), io), Live.Cell(string.Join("; ", p.Arr("reasons").Select(x => x.GetString()))));
        }
        console.Write(t);
    }
}
