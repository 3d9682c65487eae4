using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Overlay.Frr.Routing;

/// <summary>Small readers for FRR's JSON (libyang output and vty "json" commands).</summary>
internal static class FrrJson
{
    public static JsonElement? Child(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : null;

    public static IEnumerable<JsonElement> Items(this JsonElement? element) =>
        element is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    public static string? String(this JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.String } e => e.GetString(),
        { ValueKind: JsonValueKind.Number } e => e.GetRawText(),
        _ => null,
    };

    /// <summary>Numbers arrive as JSON numbers, or as strings for 64-bit YANG types.</summary>
    public static long? Int64(this JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out var v) => v,
        { ValueKind: JsonValueKind.String } e when long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) => v,
        _ => null,
    };

    public static bool? Bool(this JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } e => e.GetString() switch { "true" => true, "false" => false, _ => null },
        _ => null,
    };

    /// <summary>A YANG <c>empty</c> leaf: libyang prints it as <c>[null]</c>; present = true.</summary>
    public static bool Flag(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.False;

    public static IPAddress? Address(this JsonElement? element) =>
        IPAddress.TryParse(element.String(), out var address) ? address : null;

    public static DateTimeOffset? Time(this JsonElement? element) =>
        DateTimeOffset.TryParse(element.String(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    /// <summary>Parses a document, turning syntax errors into a <see cref="FrrParseException"/> that names the source.</summary>
    public static JsonDocument Parse(string json, string source)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FrrParseException($"{source}: not valid JSON ({e.Message})", e);
        }
    }
}

/// <summary>FRR answered with data this client cannot read.</summary>
public sealed class FrrParseException(string message, Exception? inner = null) : Exception(message, inner);
