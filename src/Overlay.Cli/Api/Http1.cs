using System.Globalization;
using System.Net;
using System.Text;

namespace Overlay.Cli.Api;

/// <summary>
/// The slice of HTTP/1.1 that overlayctl needs to talk to overlayd's control API (Kestrel): one bodiless
/// GET or POST per connection ("Connection: close"), a response framed by Content-Length, chunked transfer
/// coding or the end of the stream. HttpClient does the same, but its first use cost about a fifth of an explain
/// call's CPU time (docs/benchmarks.md), which a CLI pays on every run.
/// </summary>
internal static class Http1
{
    // Method names as strings: System.Net.Http's HttpMethod would load that assembly (and its diagnostics) for nothing.
    public const string Get = "GET", Post = "POST";

    public static byte[] Request(string method, string pathAndQuery) =>
        Encoding.ASCII.GetBytes($"{method} {pathAndQuery} HTTP/1.1\r\nHost: overlayd\r\nAccept: application/json\r\nConnection: close\r\n" +
                                (method == Get ? "" : "Content-Length: 0\r\n") + "\r\n");

    /// <summary>Status and body of a complete response (everything the server sent until it closed).</summary>
    /// <exception cref="InvalidDataException">Not an HTTP/1.x response, or cut short.</exception>
    public static (HttpStatusCode Status, string Body) ParseResponse(ReadOnlySpan<byte> raw)
    {
        int headEnd = raw.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0) throw new InvalidDataException(raw.IsEmpty ? "the connection closed without an answer" : "no complete HTTP header");
        string[] lines = Encoding.ASCII.GetString(raw[..headEnd]).Split("\r\n");
        // "HTTP/1.1 200 OK": the reason phrase is optional.
        string[] statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal) ||
            !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status) || status is < 100 or > 999)
            throw new InvalidDataException($"not an HTTP/1.x status line: '{Printable(lines[0])}'");

        bool chunked = false;
        int? length = null;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) throw new InvalidDataException($"malformed header line '{Printable(line)}'");
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                length = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n
                    : throw new InvalidDataException($"bad Content-Length '{Printable(value)}'");
        }

        var rest = raw[(headEnd + 4)..];
        byte[] body = chunked ? Dechunk(rest)
            : length is { } len ? (rest.Length >= len ? rest[..len].ToArray() : throw new InvalidDataException($"body cut short: {rest.Length} of {len} bytes"))
            : rest.ToArray();
        return ((HttpStatusCode)status, Encoding.UTF8.GetString(body));
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> data)
    {
        var body = new List<byte>(data.Length);
        while (true)
        {
            int eol = data.IndexOf("\r\n"u8);
            if (eol < 0) throw new InvalidDataException("chunked body cut short (no chunk size)");
            var sizeText = data[..eol];
            if (sizeText.IndexOf((byte)';') is >= 0 and var ext) sizeText = sizeText[..ext]; // chunk extensions carry nothing for us
            if (!int.TryParse(Encoding.ASCII.GetString(sizeText).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int size) || size < 0)
                throw new InvalidDataException($"bad chunk size '{Printable(Encoding.ASCII.GetString(sizeText))}'");
            data = data[(eol + 2)..];
            if (size == 0) return [.. body]; // trailers, if any, are not used by the API
            if (data.Length < size + 2) throw new InvalidDataException($"chunked body cut short: chunk of {size} bytes, {Math.Max(0, data.Length - 2)} left");
            body.AddRange(data[..size]);
            data = data[(size + 2)..];
        }
    }

    private static string Printable(string s) => s.Length > 80 ? s[..80] + "…" : s;
}
