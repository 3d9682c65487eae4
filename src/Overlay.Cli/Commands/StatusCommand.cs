using System.CommandLine;
using System.Text.Json;
using Overlay.Cli.Api;
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
            using var r = await client.GetAsync("/v1/status", ct);
            if (!r.Ok) return Live.Failed(r, io, "status");
            var findings = r.Root.Arr("findings").ToList();
            bool healthy = r.Root.Arr("vips").All(v => v.Bool("healthy")) && r.Root.Arr("peers").All(p => p.Bool("healthy")) && findings.Count == 0;
            if (json) { Live.PrintJson(r, io); return healthy ? Live.Ok : Live.Unhealthy; }

            var root = r.Root;
            var console = io.Ansi();
            var drain = root.Obj("drain");
            string drained = drain is { } d
                ? d.Bool("all") ? "all VIPs" + (d.Bool("file") ? " (drain file present)" : "")
                : d.Arr("vips").Any() ? string.Join(", ", d.Arr("vips").Select(v => v.GetString())) : "no"
                : "-";
            if (drain is { } sd && sd.Bool("shuttingDown")) drained += " (shutting down)";
            console.WriteLine($"node        {root.Str("node")}{(root.Str("site") is { } site ? " (site " + site + ")" : "")}");
            console.WriteLine($"config      generation {root.Str("configGeneration")}");
            console.WriteLine($"evaluated   {Live.Time(root.Str("lastEvaluation"))}");
            console.WriteLine($"drained     {drained}");
            console.WriteLine($"health      {(healthy ? "ok" : "UNHEALTHY")}");
            foreach (var f in findings)
                console.WriteLine($"finding     {f.Str("code")}: {f.Str("message")} (fix: {f.Str("fix")})");
            console.WriteLine();
            VipsCommand.Render(root.Arr("vips"), io, console);
            console.WriteLine();
            PeersCommand.RenderPeers(root.Arr("peers"), io, console);
            var routes = root.Arr("routes").ToList();
            if (routes.Count > 0)
            {
                console.WriteLine();
                var t = Live.NewTable(io, "ROUTE", "DESIRED", "RUNNING", "LAST APPLY");
                foreach (var x in routes) Live.Row(t, Live.Cell(x.Str("subject")), Live.Cell(x.Str("desired")), Live.Cell(x.Str("running")), Live.Cell(LastApply(x.Obj("lastApply"))));
                console.Write(t);
            }
            return healthy ? Live.Ok : Live.Unhealthy;
        });

    internal static string LastApply(JsonElement? a) => a is not { } x ? "-"
        : $"{x.Str("operation")} {(x.Bool("ok") ? "ok" : "FAILED: " + x.Str("error"))} at {Live.Time(x.Str("time"))} ({x.Num("durationMs"):0.#} ms)";
}
