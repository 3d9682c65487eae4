using System.Text.RegularExpressions;

namespace Overlay.Daemon.Tests;

/// <summary>
/// The metric names a PromQL expression selects (what a dashboard or rule needs a scrape to export). A small lexer,
/// not a parser: it skips strings, label matchers {…}, ranges […], the label lists of by/without/on/ignoring/
/// group_left/group_right, function and aggregation names (an identifier followed by "("), keywords and numbers.
/// Grafana's $variables are replaced first ($__interval-style ones by a duration, the rest by ".*").
/// </summary>
public static partial class PromQlNames
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
        "atan2", "inf", "nan", "start", "end",
        // Aggregation operators: "sum by (x) (…)" puts the label list between the name and its "(".
        "sum", "avg", "count", "min", "max", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
        "limitk", "limit_ratio",
    };

    private static readonly HashSet<string> LabelListKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right",
    };

    /// <summary>Grafana variables replaced so the expression is plain PromQL (promtool can parse it too).</summary>
    public static string WithoutGrafanaVariables(string expr) =>
        OtherVariable().Replace(IntervalVariable().Replace(expr, "5m"), ".*");

    public static IReadOnlyList<string> MetricNames(string expr)
    {
        var tokens = Lex(WithoutGrafanaVariables(expr));
        var names = new List<string>();
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t == "{") { i = Skip(tokens, i, "{", "}"); continue; }
            if (t == "[") { i = Skip(tokens, i, "[", "]"); continue; }
            if (!IsIdentifier(t)) continue;
            bool call = i + 1 < tokens.Count && tokens[i + 1] == "(";
            if (LabelListKeywords.Contains(t))
            {
                if (call) i = Skip(tokens, i + 1, "(", ")");
                continue;
            }
            if (call || Keywords.Contains(t)) continue;
            names.Add(t);
        }
        return names.Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool IsIdentifier(string t) => t.Length > 0 && (char.IsAsciiLetter(t[0]) || t[0] is '_' or ':');

    /// <summary>Index of the token closing the group opened at <paramref name="open"/>.</summary>
    private static int Skip(List<string> tokens, int open, string opener, string closer)
    {
        int depth = 0;
        for (int i = open; i < tokens.Count; i++)
        {
            if (tokens[i] == opener) depth++;
            else if (tokens[i] == closer && --depth == 0) return i;
        }
        throw new FormatException($"unbalanced '{opener}' in PromQL");
    }

    private static List<string> Lex(string s)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#') { while (i < s.Length && s[i] != '\n') i++; continue; } // PromQL comment
            if (c is '"' or '\'' or '`')
            {
                int j = i + 1;
                while (j < s.Length && s[j] != c) j += s[j] == '\\' && c != '`' ? 2 : 1;
                if (j >= s.Length) throw new FormatException("unterminated string in PromQL: " + s[i..]);
                tokens.Add("\"\""); // a string's content is never a metric name
                i = j + 1;
                continue;
            }
            if (char.IsAsciiLetter(c) || c is '_' or ':')
            {
                int j = i;
                while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] is '_' or ':')) j++;
                tokens.Add(s[i..j]);
                i = j;
                continue;
            }
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1])))
            {
                // Numbers and durations (5m, 1h30m, 0x1F, 1e3): one token, never a name.
                int j = i;
                while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] == '.')) j++;
                tokens.Add("0");
                i = j;
                continue;
            }
            tokens.Add(c.ToString());
            i++;
        }
        return tokens;
    }

    [GeneratedRegex(@"\$\{?__\w+\}?")]
    private static partial Regex IntervalVariable();

    [GeneratedRegex(@"\$\{?\w+(:\w+)?\}?")]
    private static partial Regex OtherVariable();
}
