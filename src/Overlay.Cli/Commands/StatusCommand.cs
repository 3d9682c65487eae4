using System.CommandLine;
using System.Globalization;
using Overlay.Core.Api;
using Spectre.Console;

namespace Overlay.Cli.Commands;

/// <summary>overlayctl status: the node, drain state, node findings, VIPs and peers in one view. Exit 1 when anything is unhealthy or a finding stands.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var command = new Command("status", "The daemon's view of this node: VIPs, peers, drain, owned routes") { socket, output };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, Live.Io io, CancellationToken ct) =>
        Live.RunAsync(socket, io, async client =>
        {
            var r = await client.GetAsync(ControlApiPaths.Status, ControlApiJson.Default.StatusResponse, ct);
            if (!r.Ok) return Live.Failed(r, io, "status");
            var status = r.Value;
            bool healthy = status.Vips.All(v => v.Healthy) && status.Peers.All(p => p.Healthy) && status.Findings.Count == 0;
            if (json) { Live.PrintJson(r, io); return healthy ? Live.Ok : Live.Unhealthy; }

            var console = io.Ansi();
            var d = status.Drain;
            string drained = d.All ? "all VIPs" + (d.File ? " (drain file present)" : "")
                : d.Vips.Count > 0 ? string.Join(", ", d.Vips) : "no";
            if (d.ShuttingDown) drained += " (shutting down)";
            console.WriteLine($"node        {status.Node}{(status.Site is { } site ? " (site " + site + ")" : "")}");
            console.WriteLine($"config      generation {status.ConfigGeneration.ToString(CultureInfo.InvariantCulture)}");
            console.WriteLine($"evaluated   {Live.Time(status.LastEvaluation)}");
            console.WriteLine($"drained     {drained}");
            console.WriteLine($"health      {(healthy ? "ok" : "UNHEALTHY")}");
            foreach (var f in status.Findings)
                console.WriteLine($"finding     {f.Code}: {f.Message} (fix: {f.Fix})");
            console.WriteLine();
            VipsCommand.Render(status.Vips, io, console);
            console.WriteLine();
            PeersCommand.RenderPeers(status.Peers, io, console);
            if (status.Routes.Count > 0)
            {
                console.WriteLine();
                var t = Live.NewTable(io, "ROUTE", "DESIRED", "RUNNING", "LAST APPLY");
                foreach (var x in status.Routes) Live.Row(t, Live.Cell(x.Subject), Live.Cell(x.Desired), Live.Cell(x.Running), Live.Cell(LastApply(x.LastApply)));
                console.Write(t);
            }
            return healthy ? Live.Ok : Live.Unhealthy;
        });

    internal static string LastApply(ChangeResult? a) => a is null ? "-"
        : $"{a.Operation} {(a.Ok ? "ok" : "FAILED: " + a.Error)} at {Live.Time(a.Time)} ({a.DurationMs:0.#} ms)";
}
