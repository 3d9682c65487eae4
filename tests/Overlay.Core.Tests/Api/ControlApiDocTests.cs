using System.Net;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Overlay.Core.Api;
using Overlay.Core.Net;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Api;

/// <summary>
/// docs/control-api.md is generated from the contract (the endpoint table and the context's metadata), so it cannot
/// drift: this test fails when they differ; OVERLAY_UPDATE_GOLDEN=1 rewrites the page.
/// </summary>
public sealed class ControlApiDocTests
{
    private static string DocPath => Path.Combine(RepoPaths.Root, "docs", "control-api.md");

    [Fact]
    public void The_api_page_is_what_the_contract_generates()
    {
        string generated = Generate();
        if (RepoPaths.UpdateGolden) File.WriteAllText(DocPath, generated);
        Assert.True(File.Exists(DocPath) && File.ReadAllText(DocPath) == generated,
            "docs/control-api.md differs from what the contract generates (run the Core tests with OVERLAY_UPDATE_GOLDEN=1 and commit the page)");
    }

    [Fact]
    public void Every_record_an_endpoint_names_is_in_the_context()
    {
        foreach (var e in ControlApiEndpoints.All)
            foreach (var t in new[] { e.Body, e.Answer }.OfType<Type>())
                Assert.NotNull(ControlApiJson.Default.GetTypeInfo(t));
        Assert.NotNull(ControlApiJson.Default.GetTypeInfo(typeof(ApiError)));
    }

    internal static string Generate()
    {
        var sb = new StringBuilder();
        sb.Append("""
            # The control API

            <!-- Generated from src/Overlay.Core/Api (ControlApiEndpoints and the ControlApiJson context) by
                 tests/Overlay.Core.Tests/Api/ControlApiDocTests.cs; edit those, then run the Core tests with OVERLAY_UPDATE_GOLDEN=1. -->

            overlayd answers HTTP/1.1 with JSON on its Unix socket (`api.socket` in overlayd.yaml, default
            `/run/overlay/overlayd.sock`; see [overlayd-config.md](overlayd-config.md)), and Prometheus text on
            `GET /metrics` on its loopback TCP listener only. `overlayctl` (see [cli.md](cli.md)) is its client; `-o json`
            prints the answer as sent. Both sides read and write it only through the records below and their
            source-generated `JsonSerializerContext` (`Overlay.Core.Api.ControlApiJson`).

            On the wire: property names are camelCase, every property is written (`null` when unknown), enums are their
            names, times are ISO 8601 with offset, addresses and prefixes their usual text, keys base64. Requests are checked
            strictly before anything runs (docs/security.md): unknown or repeated query parameters and bodies an endpoint
            does not take are answered 400 with an `ApiError`, and nothing changes.

            ## Endpoints

            | Method | Path | Query | Body | Answer | Errors | What |
            |---|---|---|---|---|---|---|

            """);
        foreach (var e in ControlApiEndpoints.All)
        {
            string query = e.Query.Count == 0 ? "-" : string.Join("<br>", e.Query.Select(q => $"`{q.Name}`: {q.Meaning}"));
            string body = e.Body is null ? "-" : Link(e.Body) + " (optional)";
            string errors = string.Join("<br>", e.Errors.Select(x => $"{x.Status}: {x.When}"));
            sb.Append($"| {e.Method} | `{e.Path}` | {query} | {body} | {Link(e.Answer)} | {errors} | {e.Summary} |\n");
        }
        sb.Append($"| GET | `{ControlApiPaths.Metrics}` | - | - | Prometheus text (loopback TCP only; see [operations.md](operations.md)) | - | Every metric overlayd exports. |\n");

        sb.Append("\n## Records\n");
        var seen = new HashSet<Type>();
        var queue = new Queue<Type>();
        foreach (var t in ControlApiEndpoints.All.SelectMany(e => new[] { e.Answer, e.Body }).Append(typeof(ApiError)).OfType<Type>())
            if (seen.Add(t)) queue.Enqueue(t);
        while (queue.Count > 0)
        {
            var type = queue.Dequeue();
            var info = ControlApiJson.Default.GetTypeInfo(type)!;
            sb.Append($"\n### {type.Name}\n\n| Field | Type |\n|---|---|\n");
            // A [JsonIgnore] property is in the context's metadata but never travels (the shared models keep detail
            // the API does not carry, Core.Model's BfdSession and RibEntry), so the page leaves it out.
            foreach (var p in info.Properties.Where(p => !NeverTravels(p)))
            {
                sb.Append($"| `{p.Name}` | {Describe(p.PropertyType, p.IsGetNullable)} |\n");
                foreach (var inner in Records(p.PropertyType))
                    if (seen.Add(inner)) queue.Enqueue(inner);
            }
            if (ControlApiEndpoints.RecordNotes.TryGetValue(type, out var note)) sb.Append($"\n{note}\n");
        }
        return sb.ToString();
    }

    // The source generator keeps an ignored property of a type it has no metadata for as a getter-less placeholder.
    private static bool NeverTravels(JsonPropertyInfo p) =>
        p.Get is null || p.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), false).OfType<JsonIgnoreAttribute>()
            .Any(a => a.Condition == JsonIgnoreCondition.Always) == true;

    private static string Link(Type t) => $"[{t.Name}](#{t.Name.ToLowerInvariant()})";

    private static bool IsRecord(Type t) => t.IsClass && t != typeof(string) && t != typeof(IPAddress) && !IsList(t, out _);

    private static bool IsList(Type t, out Type element)
    {
        element = t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? t.GetGenericArguments()[0] : typeof(void);
        return element != typeof(void);
    }

    private static IEnumerable<Type> Records(Type t)
    {
        if (IsList(t, out var element)) t = element;
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (IsRecord(t)) yield return t;
    }

    private static string Describe(Type t, bool nullable)
    {
        string orNull = nullable ? " or null" : "";
        if (Nullable.GetUnderlyingType(t) is { } inner) return Describe(inner, false) + " or null";
        if (IsList(t, out var element)) return "list of " + Describe(element, false) + orNull;
        if (t.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(t).Select(n => $"`{n}`")) + orNull;
        string name = t switch
        {
            _ when t == typeof(string) => "string",
            _ when t == typeof(bool) => "bool",
            _ when t == typeof(int) || t == typeof(long) => "integer",
            _ when t == typeof(double) => "number",
            _ when t == typeof(DateTimeOffset) => "time",
            _ when t == typeof(IPAddress) => "IP address",
            _ when t == typeof(IpPrefix) => "prefix",
            _ when t == typeof(WireGuardKey) => "key (base64)",
            _ when IsRecord(t) => Link(t),
            _ => throw new InvalidOperationException($"the API doc does not know how {t} travels; add it to Describe"),
        };
        return name + orNull;
    }
}
