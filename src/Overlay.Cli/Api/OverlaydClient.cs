using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Overlay.Cli.Api;

/// <summary>An answer of the control API: HTTP status, the body as sent (what -o json prints) and its parsed root.</summary>
internal sealed class ApiResponse(HttpStatusCode status, string body) : IDisposable
{
    private readonly JsonDocument _doc = JsonDocument.Parse(body.Length == 0 ? "{}" : body);

    public HttpStatusCode Status { get; } = status;
    public string Body { get; } = body;
    public JsonElement Root => _doc.RootElement;
    public bool Ok => (int)Status is >= 200 and < 300;

    /// <summary>The API's error shape {"error","fix"}, as one line for stderr.</summary>
    public string ErrorText() =>
        Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty("error", out var e)
            ? e.GetString() + (Root.TryGetProperty("fix", out var f) && f.GetString() is { Length: > 0 } fix ? $" ({fix})" : "")
            : $"HTTP {(int)Status}";

    public void Dispose() => _doc.Dispose();
}

/// <summary>The daemon could not be reached on its socket; the message names the socket and the fix.</summary>
internal sealed class DaemonUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>HTTP+JSON client for overlayd's control API over its Unix socket.</summary>
internal sealed class OverlaydClient : IDisposable
{
    public const string DefaultSocket = "/run/overlay/overlayd.sock";
    public const string SocketVariable = "OVERLAY_SOCKET";

    private readonly HttpClient _http;

    public OverlaydClient(string socketPath, TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://overlayd"), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    public string SocketPath { get; }

    /// <summary>--socket wins, then $OVERLAY_SOCKET, then the config default.</summary>
    public static string ResolveSocket(string? option) =>
        !string.IsNullOrEmpty(option) ? option
        : Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } env ? env
        : DefaultSocket;

    public Task<ApiResponse> GetAsync(string pathAndQuery, CancellationToken ct) => SendAsync(HttpMethod.Get, pathAndQuery, ct);

    public Task<ApiResponse> PostAsync(string pathAndQuery, CancellationToken ct) => SendAsync(HttpMethod.Post, pathAndQuery, ct);

    private async Task<ApiResponse> SendAsync(HttpMethod method, string pathAndQuery, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(method, pathAndQuery);
            using var response = await _http.SendAsync(request, ct);
            string body = await response.Content.ReadAsStringAsync(ct);
            try { return new ApiResponse(response.StatusCode, body); }
            catch (JsonException ex)
            {
                throw new DaemonUnreachableException($"{SocketPath} answered {(int)response.StatusCode} with something that is not the control API's JSON ({ex.Message}); is this overlayd's socket?", ex);
            }
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException se)
        {
            throw new DaemonUnreachableException(Describe(se.SocketErrorCode), ex);
        }
        catch (HttpRequestException ex)
        {
            throw new DaemonUnreachableException($"overlayd on {SocketPath} did not answer properly: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new DaemonUnreachableException($"overlayd on {SocketPath} did not answer within {_http.Timeout.TotalSeconds:0}s; check 'systemctl status overlayd' and its log", ex);
        }
    }

    private string Describe(SocketError error) => error switch
    {
        _ when !File.Exists(SocketPath) => NotThere(),
        SocketError.ConnectionRefused =>
            $"nothing listens on {SocketPath} (connection refused): overlayd is not running; start it ('systemctl start overlayd') or point --socket/{SocketVariable} at the right socket",
        SocketError.AccessDenied =>
            $"permission denied on {SocketPath}: run as root or as a member of the socket's group (api.group in overlayd.yaml)",
        _ => $"cannot connect to overlayd on {SocketPath}: {error}; check that overlayd runs and that --socket/{SocketVariable} names its api.socket",
    };

    private string NotThere() =>
        $"overlayd's socket {SocketPath} does not exist: is overlayd running? Start it ('systemctl start overlayd') or pass --socket PATH / set {SocketVariable} to its api.socket";

    public void Dispose() => _http.Dispose();
}
