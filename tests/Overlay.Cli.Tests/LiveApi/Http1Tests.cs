using System.Net;
using System.Text;
using Overlay.Cli.Api;

namespace Overlay.Cli.Tests.LiveApi;

/// <summary>The HTTP/1.1 slice overlayctl speaks to the control API (the live tests run it against Kestrel).</summary>
public sealed class Http1Tests
{
    private static (HttpStatusCode, string) Parse(string raw) => Http1.ParseResponse(Encoding.UTF8.GetBytes(raw));

    [Fact]
    public void A_request_is_one_bodiless_exchange_that_closes_the_connection()
    {
        Assert.Equal("GET /v1/explain?dest=10.1.2.3 HTTP/1.1\r\nHost: overlayd\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            Encoding.ASCII.GetString(Http1.Request(Http1.Get, "/v1/explain?dest=10.1.2.3")));
        Assert.Contains("POST /v1/drain HTTP/1.1\r\n", Encoding.ASCII.GetString(Http1.Request(Http1.Post, "/v1/drain")));
        Assert.EndsWith("Content-Length: 0\r\n\r\n", Encoding.ASCII.GetString(Http1.Request(Http1.Post, "/v1/drain")));
    }

    [Fact]
    public void Content_length_frames_the_body()
    {
        var (status, body) = Parse("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"error\":\"née\"}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("{\"error\":\"née\"", body); // 15 bytes: é is two
    }

    [Fact]
    public void Chunked_bodies_are_joined_and_extensions_and_trailers_ignored()
    {
        var (status, body) = Parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;x=y\r\n{\"a\":\r\nA\r\n\"bcdefgh\"}\r\n0\r\nX-Trailer: 1\r\n\r\n");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"a\":\"bcdefgh\"}", body);
    }

    [Fact]
    public void Without_framing_the_body_runs_to_the_end_of_the_stream()
    {
        var (status, body) = Parse("HTTP/1.0 200 OK\r\n\r\n{}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{}", body);
    }

    [Theory]
    [InlineData("", "closed without an answer")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", "no complete HTTP header")]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1.x status line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "body cut short: 2 of 10 bytes")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{}", "chunked body cut short")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", "bad chunk size 'zz'")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line")]
    public void What_is_not_a_complete_response_is_rejected_with_what_is_wrong(string raw, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Parse(raw));
        Assert.Contains(expected, ex.Message);
    }
}
