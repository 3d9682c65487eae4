using Overlay.Core.Inventories;

namespace Overlay.Core.Diagnostics;

public enum Severity
{
    Error,
    Warning,
    Info,
}

/// <summary>A position in a source file; lines and columns are 1-based (0 = unknown).</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public static readonly SourceLocation None = new("", 0, 0);
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// One finding about an input file, shared by the inventory reader, the overlayd.yaml reader and lint. Printed as
/// <c>file:line:col: error CODE: path: message (hint)</c>, the form editors and CI annotate.
/// </summary>
/// <param name="Hint">The fix, spelled out.</param>
/// <param name="Path">The setting in dotted form, e.g. "policies.default.rise" or "vips[1].prefix", where the reader knows it.</param>
public sealed record Diagnostic(string Code, Severity Severity, string File, int Line, int Column, string Message, string? Hint = null, string? Path = null)
{
    // Messages quote values from the file: escaped and bounded, so a hostile value cannot forge output lines or
    // drive the terminal (ValueGrammar.Printable).
    public static Diagnostic Error(string code, SourceLocation at, string message, string? hint = null, string? path = null) =>
        Create(code, Severity.Error, at, message, hint, path);

    public static Diagnostic Warning(string code, SourceLocation at, string message, string? hint = null) =>
        Create(code, Severity.Warning, at, message, hint, null);

    private static Diagnostic Create(string code, Severity severity, SourceLocation at, string message, string? hint, string? path) =>
        new(code, severity, at.File, at.Line, at.Column, ValueGrammar.Printable(message), hint is null ? null : ValueGrammar.Printable(hint),
            string.IsNullOrEmpty(path) ? null : ValueGrammar.Printable(path, 120));

    public SourceLocation Location => new(File, Line, Column);

    public override string ToString()
    {
        string severity = Severity switch { Severity.Error => "error", Severity.Warning => "warning", _ => "info" };
        string path = Path is null ? "" : Path + ": ";
        return Hint is null
            ? $"{File}:{Line}:{Column}: {severity} {Code}: {path}{Message}"
            : $"{File}:{Line}:{Column}: {severity} {Code}: {path}{Message} ({Hint})";
    }

    /// <summary>File, then line, then column, then code: the order diagnostics are reported in.</summary>
    public static int Compare(Diagnostic a, Diagnostic b)
    {
        int c = string.CompareOrdinal(a.File, b.File);
        if (c == 0) c = a.Line.CompareTo(b.Line);
        if (c == 0) c = a.Column.CompareTo(b.Column);
        if (c == 0) c = string.CompareOrdinal(a.Code, b.Code);
        return c == 0 ? string.CompareOrdinal(a.Message, b.Message) : c;
    }
}

/// <summary>
/// Bounds repeated findings: at most <see cref="PerCode"/> diagnostics of one code are reported, then one summary with
/// the count of the rest, so the output of a file that repeats one defect stays readable and small.
/// </summary>
public static class DiagnosticCap
{
    public const int PerCode = 25;

    public static Diagnostic Summary(string code, Severity severity, SourceLocation firstSuppressed, int count) =>
        new(code, severity, firstSuppressed.File, firstSuppressed.Line, firstSuppressed.Column,
            $"{count} more {code} finding(s) from here on are not shown",
            "fix the ones shown (they are likely the same mistake) and run again");

    /// <summary>The first <see cref="PerCode"/> of each code in list order, plus a summary per code that had more; sorted.</summary>
    public static List<Diagnostic> Apply(IEnumerable<Diagnostic> diagnostics)
    {
        var list = new DiagnosticList();
        foreach (var d in diagnostics) list.Add(d);
        return list.ToSortedList();
    }
}
