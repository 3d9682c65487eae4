using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Overlay.Daemon.Api;

/// <summary>
/// The control API acts only on requests it fully understood. Before any handler runs, the whole body is read (so a
/// body Kestrel cannot frame, such as malformed chunked encoding, fails here and not after a drain was applied) and
/// checked: only drain/undrain take one, a JSON object with an optional "vip" string; query parameters are the
/// endpoint's own, each at most once. Anything else is answered 400 with the error and the fix, and changes nothing.
/// Bare-LF request lines and headers are refused by Kestrel itself (see <see cref="Hosting.DaemonHost"/>).
/// </summary>
internal static class StrictRequests
{
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>The members a body may have, per endpoint that takes a body.</summary>
    private static readonly Dictionary<string, string[]> BodyMembers = new(StringComparer.Ordinal)
    {
        ["/v1/drain"] = ["vip"],
        ["/v1/undrain"] = ["vip"],
    };

    private static readonly Dictionary<string, string[]> QueryKeys = new(StringComparer.Ordinal)
    {
        ["/v1/status"] = [],
        ["/v1/peers"] = [],
        ["/v1/vips"] = [],
        ["/v1/events"] = ["since", "max"],
        ["/v1/explain"] = ["dest"],
        ["/v1/drain"] = ["vip"],
        ["/v1/undrain"] = ["vip"],
    };

    /// <summary>The "vip" of a drain/undrain body, when it had one.</summary>
    public static string? BodyVip(HttpContext context) => context.Items.TryGetValue(BodyVipKey, out var v) ? v as string : null;

    private const string BodyVipKey = "overlay.body.vip";

    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "";
        if (!path.StartsWith("/v1/", StringComparison.Ordinal)) { await next(context); return; }

        if (QueryKeys.TryGetValue(path, out var keys))
        {
            foreach (var (key, values) in request.Query)
            {
                if (!keys.Contains(key, StringComparer.Ordinal))
                {
                    await Reject(context, $"unknown query parameter '{key}' for {path}",
                        keys.Length == 0 ? $"{path} takes no query parameters" : $"use only {string.Join(", ", keys.Select(k => "?" + k + "="))}");
                    return;
                }
                if (values.Count != 1)
                {
                    await Reject(context, $"query parameter '{key}' is given {values.Count} times", "give it once");
                    return;
                }
            }
        }

        // Transfer-Encoding with Content-Length: Kestrel drops the Content-Length and reads the chunked body (RFC 9112
        // section 6.1), then closes the connection, so the body below is checked like any other.
        byte[] body;
        try
        {
            body = await ReadBodyAsync(request, context.RequestAborted);
        }
        catch (TooLargeException)
        {
            await Reject(context, $"the request body is larger than {MaxBodyBytes} bytes", "send at most a small JSON object such as {\"vip\":\"NAME\"}");
            return;
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel's framing errors (bad chunk size, suffix, overflow, truncation): BadHttpRequestException and kin.
            await Reject(context, "malformed request body: " + ex.Message, "send the body with a correct Content-Length or well-formed chunked encoding");
            return;
        }

        if (body.Length > 0)
        {
            if (!BodyMembers.TryGetValue(path, out var members) || !HttpMethods.IsPost(request.Method))
            {
                await Reject(context, $"{request.Method} {path} takes no request body", "send the request without a body");
                return;
            }
            if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            {
                await Reject(context, $"the body's Content-Type is '{type}'", "send JSON with Content-Type: application/json");
                return;
            }
            var error = ParseBody(body, members, out var vip);
            if (error is not null)
            {
                await Reject(context, error, "send a JSON object such as {\"vip\":\"NAME\"} or no body (all VIPs)");
                return;
            }
            if (vip is not null)
            {
                if (request.Query.TryGetValue("vip", out var q) && q.ToString() != vip)
                {
                    await Reject(context, $"the body names VIP '{vip}' but the query names '{q}'", "name the VIP in one place");
                    return;
                }
                context.Items[BodyVipKey] = vip;
            }
        }
        request.Body = new MemoryStream(body, writable: false);
        await next(context);
    }

    /// <returns>An error message, or null when the body is a JSON object with only known members of the right type.</returns>
    internal static string? ParseBody(byte[] body, string[] members, out string? vip)
    {
        vip = null;
        // JsonDocument checks structure but not the bytes inside strings; reading one later would throw.
        if (!System.Text.Unicode.Utf8.IsValid(body)) return "the request body is not valid UTF-8";
        JsonDocument doc;
        try
        {
            // Strict UTF-8 and a small depth: this is a one-member object.
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 4, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException ex)
        {
            return "the request body is not valid JSON: " + ex.Message;
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return $"the request body is a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object";
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name)) return $"member '{p.Name}' appears twice";
                if (!members.Contains(p.Name, StringComparer.Ordinal)) return $"unknown member '{p.Name}' (known: {string.Join(", ", members)})";
                if (p.Value.ValueKind != JsonValueKind.String) return $"member '{p.Name}' must be a string";
                vip = p.Value.GetString();
            }
        }
        return null;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is > MaxBodyBytes) throw new TooLargeException();
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > MaxBodyBytes) throw new TooLargeException();
        }
        return buffer.ToArray();
    }

    private static Task Reject(HttpContext context, string error, string fix)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.Headers.Connection = "close";
        return context.Response.WriteAsJsonAsync(new ApiError(error, fix), ControlApiJson.Default.ApiError);
    }

    private sealed class TooLargeException : Exception;
}
