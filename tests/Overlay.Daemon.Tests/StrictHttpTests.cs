using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Overlay.Core.Events;

namespace Overlay.Daemon.Tests;

/// <summary>
/// Issue #13, item 10: a malformed request to the control API is answered 400 and changes nothing. Each request of
/// the corpus goes as raw bytes over the real Unix socket of a real overlayd (Kestrel, the middleware, the routes),
/// to every endpoint that takes a body (drain, undrain) and, for bodies, to those that take none.
/// </summary>
public sealed class StrictHttpTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);

    public async Task InitializeAsync()
    {
        _d.Healthy();
        await _d.StartAsync();
    }

    public async Task DisposeAsync() => await _d.DisposeAsync();

    private static string Chunked(string path, string chunks) =>
        $"POST {path} HTTP/1.1\r\nHost: overlayd\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}";

    private static string WithBody(string path, string body, string contentType = "application/json") =>
        $"POST {path} HTTP/1.1\r\nHost: overlayd\r\nContent-Type: {contentType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    /// <summary>Malformed requests for a POST endpoint that takes an optional {"vip": NAME} body.</summary>
    public static IEnumerable<(string Name, byte[] Request)> Corpus(string path)
    {
        (string, byte[]) T(string name, string request) => (name, Encoding.UTF8.GetBytes(request));
        yield return T("truncated JSON", WithBody(path, "{\"vip\":"));
        yield return T("not JSON", WithBody(path, "vip=web"));
        yield return T("JSON array", WithBody(path, "[\"web\"]"));
        yield return T("JSON string", WithBody(path, "\"web\""));
        yield return T("JSON null", WithBody(path, "null"));
        yield return T("JSON number", WithBody(path, "1"));
        yield return T("unknown member", WithBody(path, "{\"vp\":\"web\"}"));
        yield return T("wrong member type", WithBody(path, "{\"vip\":1}"));
        yield return T("duplicate member", WithBody(path, "{\"vip\":\"web\",\"vip\":\"web\"}"));
        yield return T("trailing comma", WithBody(path, "{\"vip\":\"web\",}"));
        yield return T("comment", WithBody(path, "{/* x */\"vip\":\"web\"}"));
        yield return T("two JSON values", WithBody(path, "{} {}"));
        yield return T("deep nesting", WithBody(path, new string('[', 5000) + new string(']', 5000)));
        yield return T("form content type", WithBody(path, "{\"vip\":\"web\"}", "application/x-www-form-urlencoded"));
        yield return T("query and body disagree", WithBody(path + "?vip=web", "{\"vip\":\"other\"}"));
        yield return T("unknown query parameter", $"POST {path}?vp=web HTTP/1.1\r\nHost: overlayd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        yield return T("repeated query parameter", $"POST {path}?vip=web&vip=web HTTP/1.1\r\nHost: overlayd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        yield return ("invalid UTF-8", [.. Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: overlayd\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{{\"vip\":\""), 0xff, 0xfe, 0x22, (byte)'}']);
        yield return T("chunk size not hex", Chunked(path, "zz\r\n{}\r\n0\r\n\r\n"));
        yield return T("chunk longer than its size", Chunked(path, "2\r\n{}XX\r\n0\r\n\r\n"));
        yield return T("chunk without CRLF", Chunked(path, "2\r\n{}0\r\n\r\n"));
        yield return T("chunk size overflow", Chunked(path, "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n"));
        // Kestrel reads Transfer-Encoding alone when Content-Length is also given (RFC 9112 section 6.1): the chunked body decides.
        yield return T("chunked with Content-Length, invalid body", $"POST {path} HTTP/1.1\r\nHost: overlayd\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{{]\r\n0\r\n\r\n");
        yield return T("unknown transfer coding", $"POST {path} HTTP/1.1\r\nHost: overlayd\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n");
        yield return T("bare LF request", $"POST {path} HTTP/1.1\nHost: overlayd\nContent-Length: 0\nConnection: close\n\n");
        yield return T("bare LF after one header", $"POST {path} HTTP/1.1\r\nHost: overlayd\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        yield return T("bare CR", $"POST {path} HTTP/1.1\rHost: overlayd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        yield return T("oversized body", WithBody(path, "{\"vip\":\"" + new string('a', 20_000) + "\"}"));
    }

    private static async Task<(int Status, string Text)> SendRawAsync(string socketPath, byte[] request)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        await s.SendAsync(request, SocketFlags.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(chunk, SocketFlags.None, cts.Token)) > 0) buffer.Write(chunk, 0, n);
        }
        catch (SocketException) { } // reset after the answer: Kestrel closes a connection it will not read further
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        var parts = text.Split(' ', 3);
        return (parts.Length > 1 && int.TryParse(parts[1], out int status) ? status : -1, text);
    }

    private async Task<(bool All, string[] Vips)> DrainAsync()
    {
        var d = JsonDocument.Parse(await _d.Api.GetStringAsync("/v1/vips")).RootElement.GetProperty("drain");
        return (d.GetProperty("all").GetBoolean(), d.GetProperty("vips").EnumerateArray().Select(v => v.GetString()!).ToArray());
    }

    private int OperatorEvents() =>
        _d.App!.Services.GetService(typeof(EventTimeline)) is EventTimeline t ? t.Since(0).Events.Count(e => e.Source == EventSource.Operator) : -1;

    [Theory]
    [InlineData("/v1/drain")]
    [InlineData("/v1/undrain")]
    public async Task Every_malformed_request_is_answered_400_and_changes_nothing(string path)
    {
        // Start from the state the endpoint would change: undrain needs a drained VIP to act on.
        if (path == "/v1/undrain") (await _d.Api.PostAsync("/v1/drain?vip=web", null)).EnsureSuccessStatusCode();
        var before = await DrainAsync();
        int events = OperatorEvents();
        var failures = new List<string>();
        foreach (var (name, request) in Corpus(path))
        {
            var (status, text) = await SendRawAsync(_d.SocketPath, request);
            output.WriteLine($"{name}: {status} {text.Split("\r\n\r\n", 2).ElementAtOrDefault(1)}");
            if (status != 400) failures.Add($"{name}: answered {status}");
            var after = await DrainAsync();
            if (after.All != before.All || !after.Vips.SequenceEqual(before.Vips)) failures.Add($"{name}: the drain state changed");
            if (OperatorEvents() != events) failures.Add($"{name}: an operator event was recorded");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Well_formed_requests_still_act_by_query_or_by_body()
    {
        var (status, text) = await SendRawAsync(_d.SocketPath, Encoding.UTF8.GetBytes(WithBody("/v1/drain", "{\"vip\":\"web\"}")));
        Assert.True(status == 200, text);
        Assert.Equal(["web"], (await DrainAsync()).Vips);
        (status, text) = await SendRawAsync(_d.SocketPath, Encoding.UTF8.GetBytes(Chunked("/v1/undrain", "d\r\n{\"vip\":\"web\"}\r\n0\r\n\r\n")));
        Assert.True(status == 200, text);
        Assert.Empty((await DrainAsync()).Vips);
        (await _d.Api.PostAsync("/v1/drain", null)).EnsureSuccessStatusCode(); // no body, no query: all VIPs
        Assert.True((await DrainAsync()).All);
        (status, text) = await SendRawAsync(_d.SocketPath, Encoding.UTF8.GetBytes(WithBody("/v1/undrain", "{}")));
        Assert.True(status == 200, text);
        Assert.False((await DrainAsync()).All);
    }

    [Theory]
    [InlineData("/v1/status")]
    [InlineData("/v1/peers")]
    [InlineData("/v1/vips")]
    [InlineData("/v1/events")]
    public async Task Endpoints_without_a_body_refuse_one_and_unknown_parameters(string path)
    {
        var body = Encoding.UTF8.GetBytes($"GET {path} HTTP/1.1\r\nHost: overlayd\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");
        Assert.Equal(400, (await SendRawAsync(_d.SocketPath, body)).Status);
        Assert.Equal(400, (await SendRawAsync(_d.SocketPath, Encoding.UTF8.GetBytes($"GET {path}?bogus=1 HTTP/1.1\r\nHost: overlayd\r\nConnection: close\r\n\r\n"))).Status);
        Assert.Equal(400, (await SendRawAsync(_d.SocketPath, Encoding.UTF8.GetBytes($"GET {path} HTTP/1.1\nHost: overlayd\nConnection: close\n\n"))).Status);
        Assert.Equal(200, (await SendRawAsync(_d.SocketPath, Encoding.UTF8.GetBytes($"GET {path} HTTP/1.1\r\nHost: overlayd\r\nConnection: close\r\n\r\n"))).Status);
    }
}
