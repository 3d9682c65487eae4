namespace Overlay.Core.Diagnostics;

/// <summary>
/// What a reader's validators append to: every problem is collected, so one run reports them all (a fix-one-rerun
/// loop per error wastes an operator's time). Every error counts in <see cref="ErrorCount"/> (readers compare counts to
/// see whether a part read cleanly), but only the first <see cref="DiagnosticCap.PerCode"/> of each code are kept: a
/// file repeating one defect 700,000 times must not print 100 MB.
/// </summary>
internal sealed class DiagnosticList(string file = "")
{
    private readonly List<Diagnostic> _shown = [];
    private readonly Dictionary<string, int> _shownPerCode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Count, Diagnostic First)> _suppressed = new(StringComparer.Ordinal);

    /// <summary>The file being read, for readers that locate errors by line and column only.</summary>
    public string File => file;

    /// <summary>Errors reported so far, shown or not.</summary>
    public int ErrorCount { get; private set; }

    /// <summary>Findings reported so far, shown or not.</summary>
    public int Count { get; private set; }

    public void Add(Diagnostic d)
    {
        Count++;
        if (d.Severity == Severity.Error) ErrorCount++;
        int shown = _shownPerCode.GetValueOrDefault(d.Code);
        if (shown >= DiagnosticCap.PerCode)
        {
            _suppressed[d.Code] = _suppressed.TryGetValue(d.Code, out var s) ? (s.Count + 1, s.First) : (1, d);
            return;
        }
        _shownPerCode[d.Code] = shown + 1;
        _shown.Add(d);
    }

    public void Error(string code, SourceLocation at, string message, string? hint = null, string? path = null) =>
        Add(Diagnostic.Error(code, at, message, hint, path));

    /// <summary>The findings kept, without repeats, plus one summary per code that had more; in report order (file, line, column).</summary>
    public List<Diagnostic> ToSortedList()
    {
        var list = _shown.Distinct().ToList();
        foreach (var (code, (count, first)) in _suppressed.OrderBy(x => x.Key, StringComparer.Ordinal))
            list.Add(DiagnosticCap.Summary(code, first.Severity, first.Location, count));
        list.Sort(Diagnostic.Compare);
        return list;
    }
}
