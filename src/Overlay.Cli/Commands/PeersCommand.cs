using System.CommandLine;
using Overlay.Core.Api;
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
            var r = await client.GetAsync(ControlApiPaths.Peers, ControlApiJson.Default.PeersResponse, ct);
            if (!r.Ok) return Live.Failed(r, io, "peers");
            var peers = r.Value;
            int code = peers.Peers.All(p => p.Healthy) ? Live.Ok : Live.Unhealthy;
            if (json) { Live.PrintJson(r, io); return code; }

            var console = io.Ansi();
            RenderPeers(peers.Peers, io, console);
            if (peers.Bfd.Count > 0)
            {
                console.WriteLine();
                var t = Live.NewTable(io, "BFD PEER", "INTERFACE", "STATE");
                foreach (var b in peers.Bfd) Live.Row(t, Live.Cell(b.Peer.ToString()), Live.Cell(b.Interface), Live.Cell(b.State.ToString()));
                console.Write(t);
            }
            if (peers.Routing is { } routing)
            {
                if (routing.OspfNeighbors.Count > 0)
                {
                    console.WriteLine();
                    var t = Live.NewTable(io, "OSPF NEIGHBOR", "ADDRESS", "INTERFACE", "STATE");
                    foreach (var n in routing.OspfNeighbors)
                        Live.Row(t, Live.Cell(n.RouterId.ToString()), Live.Cell(n.Address.ToString()), Live.Cell(n.Interface), Live.Cell(n.State.ToString()));
                    console.Write(t);
                }
                if (routing.BgpSessions.Count > 0)
                {
                    console.WriteLine();
                    var t = Live.NewTable(io, "BGP NEIGHBOR", "STATE");
                    foreach (var n in routing.BgpSessions) Live.Row(t, Live.Cell(n.Neighbor), Live.Cell(n.State));
                    console.Write(t);
                }
            }
            return code;
        });

    internal static void RenderPeers(IReadOnlyList<PeerStatus> peers, Live.Io io, IAnsiConsole console)
    {
        if (peers.Count == 0) { console.WriteLine("no WireGuard interfaces configured"); return; }
        var t = Live.NewTable(io, "INTERFACE", "PEER", "PUBLIC KEY", "ENDPOINT", "LINK", "LATEST HANDSHAKE", "RX", "TX", "BFD", "HEALTH", "REASONS");
        foreach (var p in peers)
        {
            string key = p.PublicKey is { Length: > 12 } k ? k[..12] + "…" : p.PublicKey ?? "-";
            Live.Row(t, Live.Cell(p.Interface), Live.Cell(p.Peer), Live.Cell(key), Live.Cell(p.Endpoint), Live.Cell(p.Link.ToString()),
                Live.Cell(Live.Age(p.HandshakeAgeSeconds)), Live.Cell(Live.Bytes(p.RxBytes)), Live.Cell(Live.Bytes(p.TxBytes)),
                Live.Cell(p.Bfd?.ToString()), Live.Health(p.Healthy, io), Live.Cell(string.Join("; ", p.Reasons)));
        }
        console.Write(t);
    }
}
