using System.CommandLine;
using System.Globalization;
using Overlay.Core.Api;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl restart: the running overlayd starts the binary on disk, hands it the VIP leases and exits once it is
/// ready, without withdrawing anything (what SIGUSR2 does). Prints the new pid, or why the old process stayed.
/// </summary>
internal static class RestartCommand
{
    public static Command Create()
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var command = new Command("restart",
            "Restart overlayd without withdrawing its VIPs (upgrade): the new process adopts the leases; on failure the old one stays")
        { socket, output };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, Live.Io io, CancellationToken ct) =>
        Live.RunAsync(socket, io, async client =>
        {
            var r = await client.PostAsync(ControlApiPaths.Restart, ControlApiJson.Default.HandoffResult, ct);
            if (!r.Ok) return Live.Failed(r, io, "restart");
            if (json) { Live.PrintJson(r, io); return Live.Ok; }
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"overlayd restarted: pid {r.Value.NewPid} ready after {r.Value.ElapsedMs:F0} ms; no VIP was withdrawn"));
            return Live.Ok;
        });
}
