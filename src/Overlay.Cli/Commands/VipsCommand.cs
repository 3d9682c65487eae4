using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Overlay.Cli.Commands;

/// <summary>overlayctl vips: each VIP's decision, desired vs running, drain. Exit 1 when a VIP is unhealthy.</summary>
internal static class VipsCommand
{
    public static Command Create()
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var command = new Command("vips", "Anycast VIPs: state, health, desired vs running, drain") { socket, output };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, Live.Io io, CancellationToken ct) =>
        Live.RunAsync(socket, io, async client =>
        {
            using var r = await client.GetAsync("/v1/vips", ct);
            if (!r.Ok) return Live.Failed(r, io, "vips");
            int code = r.Root.Arr("vips").All(v => v.Bool("healthy")) ? Live.Ok : Live.Unhealthy;
            if (json) Live.PrintJson(r, io);
            else Render(r.Root.Arr("vips"), io, io.Ansi());
            return code;
        });

    internal static void Render(IEnumerable<JsonElement> vips, Live.Io io, IAnsiConsole console)
    {
        var list = vips.ToList();
        if (list.Count == 0) { console.WriteLine("no VIPs configured"); return; }
        var t = Live.NewTable(io, "VIP", "PREFIX", "STATE", "HEALTH", "DESIRED", "RUNNING", "DRAINED", "LEASE", "FLAPS", "PENALTY", "REASON", "LAST APPLY");
        foreach (var v in list)
            Live.Row(t, Live.Cell(v.Str("name")), Live.Cell(v.Str("prefix")), Live.Cell(v.Str("state")), Live.Health(v.Bool("healthy"), io),
                Live.Cell(v.Str("desired")), Live.Cell(v.Str("running")), Live.Cell(v.Bool("drained") ? "yes" : "no"),
                Live.Cell($"{v.Str("lease")}{(v.Bool("leaseHeld") ? "" : " (not held)")}"),
                Live.Cell(v.Str("flaps")), Live.Cell(v.Str("penalty")), Live.Cell(v.Str("reason")), Live.Cell(StatusCommand.LastApply(v.Obj("lastApply"))));
        console.Write(t);
    }
}
