using System.CommandLine;
using Overlay.Core.Api;
using Spectre.Console;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl drain [--vip NAME] / undrain [--vip NAME]: withdraw (or allow again) one VIP or all. The daemon
/// answers after its loop acted, so the printed VIP table is the result, not the request.
/// </summary>
internal static class DrainCommand
{
    public static Command Create(bool enter)
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var vip = new Option<string?>("--vip") { Description = "Only this VIP (default: all VIPs of this node)" };
        string name = enter ? "drain" : "undrain";
        var command = new Command(name, enter
            ? "Withdraw VIPs on purpose (maintenance); health no longer advertises them until undrain"
            : "End a drain; VIPs are advertised again when healthy")
        { vip, socket, output };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", enter, parse.GetValue(vip), Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, bool enter, string? vip, Live.Io io, CancellationToken ct) =>
        Live.RunAsync(socket, io, async client =>
        {
            string what = enter ? "drain" : "undrain";
            string path = enter ? ControlApiPaths.Drain : ControlApiPaths.Undrain;
            var r = await client.PostAsync($"{path}{(vip is null ? "" : "?vip=" + Uri.EscapeDataString(vip))}", ControlApiJson.Default.VipsResponse, ct);
            if (!r.Ok) return Live.Failed(r, io, what);
            if (json) { Live.PrintJson(r, io); return Live.Ok; }
            var console = io.Ansi();
            if (r.Value.Drain.File && !enter)
                console.WriteLine("note: the drain file is present; all VIPs stay drained until it is removed");
            VipsCommand.Render(r.Value.Vips, io, console);
            return Live.Ok;
        });
}
