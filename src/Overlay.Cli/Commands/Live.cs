using System.CommandLine;
using System.Globalization;
using Overlay.Cli.Api;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Overlay.Cli.Commands;

/// <summary>
/// What the live nouns (status, peers, vips, events, explain, drain, undrain) share: the --socket and
/// -o options, exit codes, error handling and table output.
/// </summary>
internal static class Live
{
    public const int Ok = 0;
    /// <summary>Something is unhealthy, or explain found a problem.</summary>
    public const int Unhealthy = 1;
    /// <summary>Bad input (also when the daemon rejects the request as such, e.g. an unknown VIP).</summary>
    public const int Usage = 2;
    public const int Unreachable = 3;
    /// <summary>The daemon answered with an unexpected error.</summary>
    public const int DaemonError = 4;

    public static Option<string?> SocketOption() => new("--socket")
    {
        Description = $"overlayd's control socket (default: ${OverlaydClient.SocketVariable}, else {OverlaydClient.DefaultSocket})",
    };

    public static Option<string> OutputOption()
    {
        var o = new Option<string>("--output", "-o") { Description = "table (for people) or json (the API's JSON, for scripts)", DefaultValueFactory = _ => "table" };
        o.AcceptOnlyFromAmong("table", "json");
        return o;
    }

    /// <summary>Where a command writes; tests pass their own writers.</summary>
    public sealed record Io(TextWriter Out, TextWriter Err, bool Color)
    {
        public static Io FromConsole() => new(Console.Out, Console.Error,
            !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null);

        public IAnsiConsole Ansi()
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = Color ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = Color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(Out),
            });
            if (!Color) console.Profile.Width = 240; // pipes and files: no wrapping of long rows
            return console;
        }
    }

    /// <summary>Runs a request against the daemon and maps the failures every command shares to exit codes.</summary>
    public static async Task<int> RunAsync(string? socketOption, Io io, Func<OverlaydClient, Task<int>> body)
    {
        var client = new OverlaydClient(OverlaydClient.ResolveSocket(socketOption));
        try
        {
            return await body(client);
        }
        catch (DaemonUnreachableException ex)
        {
            io.Err.WriteLine("overlayctl: " + ex.Message);
            return Unreachable;
        }
    }

    /// <summary>Non-success answers: 4xx is the caller's input (exit 2), anything else the daemon's (exit 4).</summary>
    public static int Failed<T>(ApiResponse<T> r, Io io, string what) where T : class
    {
        io.Err.WriteLine($"overlayctl {what}: {r.ErrorText()}");
        return (int)r.Status is >= 400 and < 500 ? Usage : DaemonError;
    }

    /// <summary>-o json prints the API's answer as the daemon sent it.</summary>
    public static void PrintJson<T>(ApiResponse<T> r, Io io) where T : class => io.Out.WriteLine(r.Body);

    public static Table NewTable(Io io, params string[] columns)
    {
        var t = new Table { Border = io.Color ? TableBorder.Rounded : TableBorder.Simple };
        foreach (var c in columns) t.AddColumn(new TableColumn(c));
        return t;
    }

    /// <summary>Cells are plain text (never markup), so names with brackets print as they are.</summary>
    public static void Row(Table t, params IRenderable[] cells) => t.AddRow(cells);

    public static IRenderable Cell(string? text) => new Text(text ?? "-");

    /// <summary>A health word that reads the same without color.</summary>
    public static IRenderable Health(bool healthy, Io io) =>
        new Text(healthy ? "ok" : "UNHEALTHY", io.Color ? new Style(healthy ? Spectre.Console.Color.Green : Spectre.Console.Color.Red) : Style.Plain);

    public static string Age(double? seconds) => seconds switch
    {
        null => "never",
        < 1 => "<1 s ago",
        < 120 => $"{seconds.Value:0} s ago",
        < 7200 => $"{seconds.Value / 60:0} min ago",
        _ => $"{seconds.Value / 3600:0.0} h ago",
    };

    public static string Bytes(double? n) => n switch
    {
        null => "-",
        < 1024 => $"{n:0} B",
        < 1024 * 1024 => $"{n / 1024:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{n / (1024 * 1024):0.0} MiB",
        _ => $"{n / (1024L * 1024 * 1024):0.00} GiB",
    };

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "-";

    /// <summary>A number as the API's JSON writes it (shortest round-trip form).</summary>
    public static string Number(double n) => n.ToString(CultureInfo.InvariantCulture);
}
