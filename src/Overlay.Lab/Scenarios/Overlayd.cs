using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using Overlay.Core.Api;
using Overlay.Core.Events;

namespace Overlay.Lab.Scenarios;

/// <summary>Where the real overlayd build is, and how the lab starts it ("dotnet overlayd.dll --config FILE", or the NativeAOT
/// executable itself when $OVERLAYD_DLL names one: scripts/publish.sh builds it).</summary>
public static class OverlaydBinary
{
    public const string EnvironmentVariable = "OVERLAYD_DLL";

    /// <summary>
    /// overlayd.dll or a native overlayd: $OVERLAYD_DLL, else overlayd.dll beside this assembly (test projects that reference
    /// Overlay.Daemon), else the newest build under src/Overlay.Daemon/bin of the source tree this assembly was built from.
    /// </summary>
    public static string? Find() => BuiltDll.Find(EnvironmentVariable, "overlayd.dll", "Overlay.Daemon");

    public static string Require() => Find() ?? throw new LabException(
        $"overlayd.dll not found: build src/Overlay.Daemon (dotnet build src/Overlay.Daemon) or set {EnvironmentVariable} (a .dll, or the NativeAOT overlayd from scripts/publish.sh)");

    public static LabProcessSpec Spec(string configPath, string? dll = null)
    {
        var (file, arguments) = BuiltDll.Command(dll ?? Require(), ["--config", configPath]);
        return new("overlayd", file, arguments)
        {
            Environment = new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" },
        };
    }
}

/// <summary>Finds a build of one of the solution's executables (overlayd, overlayctl) and says how to start it.</summary>
public static class BuiltDll
{
    /// <summary>
    /// $<paramref name="environmentVariable"/> (a framework-dependent .dll, or a native executable such as the NativeAOT
    /// build), else the .dll beside this assembly, else the newest build under src/PROJECT/bin of the source tree this
    /// assembly was built from.
    /// </summary>
    public static string? Find(string environmentVariable, string dllName, string project)
    {
        if (Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } env) return File.Exists(env) ? env : null;
        string beside = Path.Combine(AppContext.BaseDirectory, dllName);
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json"))) return beside;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var bin = new DirectoryInfo(Path.Combine(dir.FullName, "src", project, "bin"));
            if (!bin.Exists) continue;
            return bin.EnumerateFiles(dllName, SearchOption.AllDirectories)
                .Where(f => File.Exists(Path.ChangeExtension(f.FullName, ".runtimeconfig.json")))
                .OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault()?.FullName;
        }
        return null;
    }

    /// <summary>How to run <paramref name="build"/>: a .dll under the dotnet host, anything else (NativeAOT, apphost) directly.</summary>
    public static (string FileName, IReadOnlyList<string> Arguments) Command(string build, IEnumerable<string> arguments) =>
        build.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? (DotnetHost, [build, .. arguments]) : (build, [.. arguments]);

    /// <summary>The dotnet host running this process (where the SDK is installed), else "dotnet" from PATH.</summary>
    public static string DotnetHost =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
}

/// <summary>The lab's one-line text of an overlayd event (no time or sequence number: the lab prints those itself).</summary>
public static class OverlayEventText
{
    public static string Line(this OverlayEvent e) =>
        $"{e.Source} {e.Subject} {e.What}{(e.Old is null && e.New is null ? "" : $" {e.Old ?? "-"} -> {e.New ?? "-"}")}{(e.Reason is null ? "" : $" ({e.Reason})")}";
}

/// <summary>overlayd's control API over its Unix socket (HTTP+JSON), as overlayctl would use it.</summary>
public sealed class OverlaydApi : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private readonly HttpClient _http;

    public OverlaydApi(string socketPath)
    {
        SocketPath = socketPath;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = new Uri("http://overlayd/"), Timeout = TimeSpan.FromSeconds(5) };
    }

    public string SocketPath { get; }

    /// <summary>Events after <paramref name="since"/> (sequence numbers start at 1).</summary>
    public async Task<IReadOnlyList<OverlayEvent>> EventsAsync(long since = 0, CancellationToken ct = default)
    {
        // The contract's own records and context, as overlayctl reads them: no lab copy of the event to drift.
        var page = await _http.GetFromJsonAsync($"v1/events?since={since}", ControlApiJson.Default.EventsResponse, ct).ConfigureAwait(false);
        return page?.Events ?? [];
    }

    /// <summary>GET /v1/status as raw JSON (the daemon answers: it is up).</summary>
    public async Task<JsonElement> StatusAsync(CancellationToken ct = default) =>
        await _http.GetFromJsonAsync<JsonElement>("v1/status", Json, ct).ConfigureAwait(false);

    /// <summary>GET /v1/explain?dest=ADDRESS: the daemon's answer as raw JSON text.</summary>
    public Task<string> ExplainJsonAsync(string destination, CancellationToken ct = default) =>
        _http.GetStringAsync("v1/explain?dest=" + Uri.EscapeDataString(destination), ct);

    public void Dispose() => _http.Dispose();
}
