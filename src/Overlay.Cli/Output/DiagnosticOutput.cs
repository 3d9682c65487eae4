using System.Text;
using System.Text.Json;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;

namespace Overlay.Cli.Output;

/// <summary>
/// How every command prints diagnostics: one <c>file:line:col: severity CODE: message (hint)</c> line each
/// as text, or an indented JSON object whose first member is the <c>diagnostics</c> array.
/// </summary>
internal static class DiagnosticOutput
{
    public static void WriteText(TextWriter writer, IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics) writer.WriteLine(d.ToString());
    }

    /// <summary>Writes <c>{ "diagnostics": [...], ...rest }</c> and a newline; <paramref name="rest"/> adds the command's own members.</summary>
    public static void WriteJson(TextWriter stdout, IReadOnlyList<Diagnostic> diagnostics, Action<Utf8JsonWriter> rest)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("diagnostics");
            foreach (var d in diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("code", d.Code);
                w.WriteString("severity", d.Severity.ToString().ToLowerInvariant());
                w.WriteString("file", d.File);
                w.WriteNumber("line", d.Line);
                w.WriteNumber("column", d.Column);
                w.WriteString("message", d.Message);
                if (d.Hint is null) w.WriteNull("hint");
                else w.WriteString("hint", d.Hint);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            rest(w);
            w.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
