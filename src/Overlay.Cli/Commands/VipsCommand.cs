using System.CommandLine;
using Overlay.Core.Api;
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
            var r = await client.GetAsync(ControlApiPaths.Vips, ControlApiJson.Default.VipsResponse, ct);
            if (!r.Ok) return Live.Failed(r, io, "vips");
            int code = r.Value.Vips.All(v => v.Healthy) ? Live.Ok : Live.Unhealthy;
            if (json) Live.PrintJson(r, io);
            else Render(r.Value.Vips, io, io.Ansi());
            return code;
        });

    internal static void Render(IReadOnlyList<VipView> vips, Live.Io io, IAnsiConsole console)
    {
        if (vips.Count == 0) { console.WriteLine("no VIPs configured"); return; }
        var t = Live.NewTable(io, "VIP", "PREFIX", "STATE", "HEALTH", "DESIRED", "RUNNING", "DRAINED", "LEASE", "FLAPS", "PENALTY", "REASON", "LAST APPLY");
        foreach (var v in vips)
            Live.Row(t, Live.Cell(v.Name), Live.Cell(v.Prefix), Live.Cell(v.State.ToString()), Live.Health(v.Healthy, io),
                Live.Cell(v.Desired), Live.Cell(v.Running), Live.Cell(v.Drained ? "yes" : "no"),
                Live.Cell($"{v.Lease}{(v.LeaseHeld ? "" : " (not held)")}"),
                Live.Cell(Live.Number(v.Flaps)), Live.Cell(Live.Number(v.Penalty)), Live.Cell(v.Reason), Live.Cell(StatusCommand.LastApply(v.LastApply)));
        console.Write(t);
    }
}
