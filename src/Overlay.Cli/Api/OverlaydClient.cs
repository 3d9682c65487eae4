using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Overlay.Core.Api;

namespace Overlay.Cli.Api;

/// <summary>
/// An answer of the control API: HTTP status, the body as sent (what -o json prints), and the body read through the
/// contract's generated context: <see cref="Value"/> when the request succeeded, <see cref="Error"/> when it did not.
/// </summary>
internal sealed class ApiResponse<T>(HttpStatusCode status, string body, T? value, ApiError? error) where T : class
{
    public HttpStatusCode Status { get; } = status;
    public string Body { get; } = body;
    public bool Ok => (int)Status is >= 200 and < 300;

    /// <summary>The answer; set whenever <see cref="Ok"/>.</summary>
    public T Value => value ?? throw new InvalidOperationException($"HTTP {(int)Status} carries no {typeof(T).Name}");

    /// <summary>The API's error shape, when a failed request carried one.</summary>
    public ApiError? Error { get; } = error;

    /// <summary>The error and its fix, as one line for stderr.</summary>
    public string ErrorText() =>
        Error is { Error: { } e } ? e + (Error.Fix is { Length: > 0 } fix ? $" ({fix})" : "") : $"HTTP {(int)Status}";
}

/// <summary>The daemon could not be reached on its socket; the message names the socket and the fix.</summary>
internal sealed class DaemonUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>HTTP+JSON client for overlayd's control API over its Unix socket: one connection per request.</summary>
internal sealed class OverlaydClient(string socketPath, TimeSpan? timeout = null)
{
    public const string DefaultSocket = "/run/overlay/overlayd.sock";
    public const string SocketVariable = "OVERLAY_SOCKET";

    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(30);

    public string SocketPath { get; } = socketPath;

    /// <summary>--socket wins, then $OVERLAY_SOCKET, then the config default.</summary>
    public static string ResolveSocket(string? option) =>
        !string.IsNullOrEmpty(option) ? option
        : Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } env ? env
        : DefaultSocket;

    public Task<ApiResponse<T>> GetAsync<T>(string pathAndQuery, JsonTypeInfo<T> answer, CancellationToken ct) where T : class =>
        SendAsync(Http1.Get, pathAndQuery, answer, ct);

    public Task<ApiResponse<T>> PostAsync<T>(string pathAndQuery, JsonTypeInfo<T> answer, CancellationToken ct) where T : class =>
        SendAsync(Http1.Post, pathAndQuery, answer, ct);

    private async Task<ApiResponse<T>> SendAsync<T>(string method, string pathAndQuery, JsonTypeInfo<T> answer, CancellationToken ct) where T : class
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), deadline.Token);
            await socket.SendAsync(Http1.Request(method, pathAndQuery), SocketFlags.None, deadline.Token);
            // Connection: close, so the answer ends where the stream does.
            var received = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0) received.Write(buffer, 0, n);
            var (status, body) = Http1.ParseResponse(received.GetBuffer().AsSpan(0, (int)received.Length));
            try { return Read(status, body, answer); }
            catch (JsonException ex)
            {
                throw new DaemonUnreachableException($"{SocketPath} answered {(int)status} with something that is not the control API's JSON ({ex.Message}); is this overlayd's socket?", ex);
            }
        }
        catch (SocketException ex)
        {
            throw new DaemonUnreachableException(Describe(ex.SocketErrorCode), ex);
        }
        catch (InvalidDataException ex)
        {
            throw new DaemonUnreachableException($"overlayd on {SocketPath} did not answer properly: {ex.Message}; is this overlayd's socket?", ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new DaemonUnreachableException($"overlayd on {SocketPath} did not answer within {_timeout.TotalSeconds:0}s; check 'systemctl status overlayd' and its log", ex);
        }
    }

    /// <summary>The body through the contract's context: the answer on success, else the error shape (if any).</summary>
    private static ApiResponse<T> Read<T>(HttpStatusCode status, string body, JsonTypeInfo<T> answer) where T : class
    {
        if ((int)status is >= 200 and < 300)
            return new(status, body, JsonSerializer.Deserialize(body, answer) ?? throw new JsonException("the answer is null"), null);
        // Kestrel answers some refusals (an unknown path) without a body.
        return new(status, body, null, body.Length == 0 ? null : JsonSerializer.Deserialize(body, ControlApiJson.Default.ApiError));
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
}
