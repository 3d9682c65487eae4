namespace Overlay.Core.Inventory;

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
/// One finding about an input file, shared by the inventory parser and lint. Printed as
/// <c>file:line:col: error CODE: message (hint)</c>, the form editors and CI annotate.
/// </summary>
public sealed record Diagnostic(string Code, Severity Severity, string File, int Line, int Column, string Message, string? Hint = null)
{
    public static Diagnostic Error(string code, SourceLocation at, string message, string? hint = null) =>
        new(code, Severity.Error, at.File, at.Line, at.Column, message, hint);

    public static Diagnostic Warning(string code, SourceLocation at, string message, string? hint = null) =>
        new(code, Severity.Warning, at.File, at.Line, at.Column, message, hint);

    public SourceLocation Location => new(File, Line, Column);

    public override string ToString()
    {
        string severity = Severity switch { Severity.Error => "error", Severity.Warning => "warning", _ => "info" };
        return Hint is null
            ? $"{File}:{Line}:{Column}: {severity} {Code}: {Message}"
            : $"{File}:{Line}:{Column}: {severity} {Code}: {Message} ({Hint})";
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
