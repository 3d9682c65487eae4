using System.Globalization;

namespace Overlay.Core.Net;

/// <summary>Durations in config files: an integer with a unit, "150ms", "3s", "2m", "1h". Plain numbers are rejected: "25" is ambiguous.</summary>
public static class DurationText
{
    /// <summary>The longest duration accepted: 10 years, far beyond any timer and far below TimeSpan's range.</summary>
    public const long MaxMilliseconds = 10L * 365 * 24 * 3_600_000;

    public static bool TryParse(string? text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text)) { error = "empty duration; write e.g. 250ms, 3s, 2m"; return false; }
        int i = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        if (i == 0 || !long.TryParse(text.AsSpan(0, i), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            error = $"'{text}' is not a duration; write e.g. 250ms, 3s, 2m";
            return false;
        }
        long? unit = text[i..] switch
        {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => null,
        };
        if (unit is null)
        {
            error = i == text.Length
                ? $"'{text}' has no unit; write {text}s or {text}ms"
                : $"'{text}' has an unknown unit '{text[i..]}'; use ms, s, m or h";
            return false;
        }
        // Bounded before multiplying: "9999999999999999h" must be an error, not an overflow or an exception.
        if (n > MaxMilliseconds / unit.Value)
        {
            error = $"'{text}' is longer than {MaxMilliseconds / 3_600_000}h";
            return false;
        }
        long ms = n * unit.Value;
        value = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var v, out var e) ? v : throw new FormatException(e);

    /// <summary>The shortest exact form: 1500ms, 3s, 2m.</summary>
    public static string Format(TimeSpan value)
    {
        long ms = (long)value.TotalMilliseconds;
        if (ms != 0 && ms % 3_600_000 == 0) return $"{ms / 3_600_000}h";
        if (ms != 0 && ms % 60_000 == 0) return $"{ms / 60_000}m";
        if (ms % 1000 == 0) return $"{ms / 1000}s";
        return $"{ms}ms";
    }
}
