using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Overlay.Core.Api;
using Overlay.Core.Events;
using Spectre.Console;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl events [--since N] [--follow]: the daemon's event timeline. --follow polls for new events until
/// interrupted; with -o json it then prints one event object per line.
/// </summary>
internal static class EventsCommand
{
    public static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var socket = Live.SocketOption();
        var output = Live.OutputOption();
        var since = new Option<long>("--since") { Description = "Only events with a sequence number above N", DefaultValueFactory = _ => 0 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until interrupted" };
        var command = new Command("events", "The daemon's timeline: health changes, VIP decisions, writes, operator actions") { socket, output, since, follow };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(socket), parse.GetValue(output) == "json", parse.GetValue(since), parse.GetValue(follow), Live.Io.FromConsole(), ct));
        return command;
    }

    internal static Task<int> RunAsync(string? socket, bool json, long since, bool follow, Live.Io io, CancellationToken ct)
    {
        if (since < 0) { io.Err.WriteLine("overlayctl events: --since must be 0 or a sequence number"); return Task.FromResult(Live.Usage); }
        return Live.RunAsync(socket, io, async client =>
        {
            long last = since;
            bool first = true;
            while (true)
            {
                var r = await client.GetAsync($"{ControlApiPaths.Events}?since={last}", ControlApiJson.Default.EventsResponse, ct);
                if (!r.Ok) return Live.Failed(r, io, "events");
                var page = r.Value;
                if (page.Missed)
                    io.Err.WriteLine($"overlayctl events: events after {last} were dropped from the daemon's ring buffer before they were read");
                var events = page.Events;
                if (!follow && json) Live.PrintJson(r, io);
                // One object per line, written by the same contract the daemon wrote it with (so the same bytes).
                else if (json) foreach (var e in events) io.Out.WriteLine(JsonSerializer.Serialize(e, ControlApiJson.Default.OverlayEvent));
                else if (follow) foreach (var e in events) io.Out.WriteLine(Line(e));
                else Render(events, io);
                if (first && !follow && !json && events.Count == 0) io.Out.WriteLine($"no events after {last}");
                last = Math.Max(last, page.LastSeq);
                io.Out.Flush();
                if (!follow) return Live.Ok;
                first = false;
                try { await Task.Delay(FollowInterval, ct); }
                catch (OperationCanceledException) { return Live.Ok; } // Ctrl-C ends a follow normally
            }
        });
    }

    private static void Render(IReadOnlyList<OverlayEvent> events, Live.Io io)
    {
        if (events.Count == 0) return;
        var t = Live.NewTable(io, "SEQ", "TIME", "SOURCE", "SUBJECT", "WHAT", "CHANGE", "REASON");
        foreach (var e in events)
            Live.Row(t, Live.Cell(Seq(e)), Live.Cell(Live.Time(e.Time)), Live.Cell(e.Source.ToString()), Live.Cell(e.Subject),
                Live.Cell(e.What + Repeats(e)), Live.Cell(Change(e)), Live.Cell(e.Reason));
        io.Ansi().Write(t);
    }

    private static string Seq(OverlayEvent e) => e.Seq.ToString(CultureInfo.InvariantCulture);

    private static string Change(OverlayEvent e) => (e.Old, e.New) switch
    {
        (null, null) => "-",
        (var o, var n) => $"{o ?? "-"} -> {n ?? "-"}",
    };

    private static string Line(OverlayEvent e) =>
        $"{Seq(e),6} {Live.Time(e.Time)} {e.Source,-9} {e.Subject} {e.What}{Repeats(e)} {Change(e)}{(e.Reason is { } why ? " (" + why + ")" : "")}";

    /// <summary>A transient error the daemon counted in place instead of repeating (docs/security.md "Log and event floods").</summary>
    private static string Repeats(OverlayEvent e) => e.Repeats > 0 ? $" [x{e.Repeats + 1}, last {Live.Time(e.LastTime)}]" : "";
}
