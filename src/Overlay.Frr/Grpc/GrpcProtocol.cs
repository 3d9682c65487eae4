using System.Globalization;
using System.Net;
using System.Text;

namespace Overlay.Frr.Grpc;

/// <summary>Pure pieces of the gRPC-over-HTTP/2 protocol: timeouts, status, message decoding.</summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";

    /// <summary>
    /// Encodes a timeout as the <c>grpc-timeout</c> header: at most 8 digits and a unit,
    /// rounded up so the server never sees a shorter deadline than the client's.
    /// </summary>
    public static string EncodeTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
            return "1n";
        const long maxValue = 99_999_999;
        var ticks = timeout.Ticks; // 100 ns
        (long perUnit, char unit)[] units =
        [
            (0, 'n'), // special: nanoseconds = ticks * 100
            (10, 'u'),
            (TimeSpan.TicksPerMillisecond, 'm'),
            (TimeSpan.TicksPerSecond, 'S'),
            (TimeSpan.TicksPerMinute, 'M'),
            (TimeSpan.TicksPerHour, 'H'),
        ];
        foreach (var (perUnit, unit) in units)
        {
            long value = perUnit == 0
                ? (ticks <= maxValue / 100 ? ticks * 100 : long.MaxValue)
                : (ticks + perUnit - 1) / perUnit;
            if (value <= maxValue)
                return value.ToString(CultureInfo.InvariantCulture) + unit;
        }
        return maxValue.ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>Parses <c>grpc-status</c>; anything unparsable is <see cref="GrpcStatusCode.Unknown"/>.</summary>
    public static GrpcStatusCode ParseStatus(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 0 and <= 16
            ? (GrpcStatusCode)code
            : GrpcStatusCode.Unknown;

    /// <summary>
    /// Decodes <c>grpc-message</c>: percent-encoded UTF-8. Malformed escapes are kept literally
    /// (the spec asks receivers to be lenient), so an error text is never lost.
    /// </summary>
    public static string DecodeMessage(string? value)
    {
        if (string.IsNullOrEmpty(value) || !value.Contains('%'))
            return value ?? string.Empty;
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length
                && byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// The gRPC status implied by a non-200 HTTP status when the server sent no <c>grpc-status</c>
    /// (the mapping from gRPC's "HTTP to gRPC status code mapping" document).
    /// </summary>
    public static GrpcStatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };
}
