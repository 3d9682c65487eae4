namespace Overlay.Core.Diagnostics;

/// <summary>
/// "did you mean" for both YAML readers: the candidate nearest to a misspelt key or value, by case-insensitive edit
/// distance, ties broken by name so the hint is the same on every run.
/// </summary>
internal static class NearMiss
{
    public static string? Suggest(string given, IEnumerable<string> candidates) =>
        Nearest(given, candidates) is { } best ? $"did you mean '{best}'?" : null;

    /// <summary>The nearest candidate within max(2, a third of the given length) edits, or null.</summary>
    public static string? Nearest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates.OrderBy(c => c, StringComparer.Ordinal))
        {
            int d = string.Equals(c, given, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(given.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) { best = c; bestDistance = d; }
        }
        int limit = Math.Max(2, given.Length / 3);
        return best is not null && bestDistance <= limit ? best : null;
    }

    private static int Distance(string s, string t)
    {
        var prev = new int[t.Length + 1];
        var cur = new int[t.Length + 1];
        for (int j = 0; j <= t.Length; j++) prev[j] = j;
        for (int i = 1; i <= s.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= t.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[t.Length];
    }
}
