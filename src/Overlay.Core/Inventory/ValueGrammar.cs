using System.Text;
using System.Text.RegularExpressions;

namespace Overlay.Core.Inventories;

/// <summary>
/// The grammars of every free-text value that reaches a rendered file, a shell command, an FRR line, a unit name or a
/// file name (docs/security.md). Root runs what is rendered, so values are not quoted for each target but held to
/// grammars that no target can misread: ASCII letters, digits and a few punctuation marks, no whitespace, no shell,
/// YAML, FRR or wg-quick metacharacters ('#' starts a wg-quick comment, '%i' is substituted in its hooks).
/// Both readers check these with a located error; the renderers check them again before writing anything.
/// </summary>
public static partial class ValueGrammar
{
    /// <summary>Longest path accepted (PATH_MAX - 1).</summary>
    public const int MaxPath = 4095;

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")]
    private static partial Regex NodeNameRegex();
    [GeneratedRegex("^[a-z0-9]{1,5}$")]
    private static partial Regex ShortRegex();
    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,9}[a-z0-9])?$")]
    private static partial Regex VipNameRegex();
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?$")]
    private static partial Regex PolicyNameRegex();
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})?$")]
    private static partial Regex LabelRegex();
    [GeneratedRegex("^[a-z_][a-z0-9_-]{0,31}$")]
    private static partial Regex GroupRegex();
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9_-]{0,31})?$")]
    private static partial Regex PathspaceRegex();
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")]
    private static partial Regex InterfaceRegex();
    [GeneratedRegex("^[A-Za-z0-9._@+-]{1,255}$")]
    private static partial Regex PathSegmentRegex();
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex DnsLabelRegex();

    /// <summary>Inventory node name: 1-32 of [a-z0-9-], not starting or ending with '-'.</summary>
    public static bool IsNodeName(string s) => NodeNameRegex().IsMatch(s);

    /// <summary>A node's short alias (part of interface names): 1-5 of [a-z0-9].</summary>
    public static bool IsShort(string s) => ShortRegex().IsMatch(s);

    /// <summary>VIP name: 1-11 of [a-z0-9-] (the lease interface is ovl-NAME, 15 characters at most).</summary>
    public static bool IsVipName(string s) => VipNameRegex().IsMatch(s);

    /// <summary>Health policy name: 1-63 of [A-Za-z0-9-].</summary>
    public static bool IsPolicyName(string s) => PolicyNameRegex().IsMatch(s);

    /// <summary>An informational label (site) or a name in a hand-written overlayd.yaml: 1-63 of [A-Za-z0-9._-], starting with a letter or digit.</summary>
    public static bool IsLabel(string s) => LabelRegex().IsMatch(s);

    /// <summary>A group name as useradd/groupadd accept it by default: 1-32 of [a-z0-9_-], not starting with a digit or '-'.</summary>
    public static bool IsGroupName(string s) => GroupRegex().IsMatch(s);

    /// <summary>FRR's -N name (a directory under the vty folder): empty, or 1-32 of [A-Za-z0-9_-].</summary>
    public static bool IsPathspace(string s) => s.Length == 0 || PathspaceRegex().IsMatch(s);

    /// <summary>A Linux interface name for anything overlay names: 1-15 of [A-Za-z0-9_.-], not starting with '.' or '-'.</summary>
    public static bool IsInterfaceName(string s) => InterfaceRegex().IsMatch(s);

    /// <summary>
    /// An absolute path on a node: '/'-separated segments of [A-Za-z0-9._@+-], none empty, "." or "..", no trailing
    /// '/'. Inert in a shell word, a wg-quick hook, a systemd unit and YAML without any quoting.
    /// </summary>
    public static bool IsAbsolutePath(string s, out string? why)
    {
        why = null;
        if (s.Length == 0 || s[0] != '/') { why = "is not an absolute path"; return false; }
        if (s.Length > MaxPath) { why = $"is longer than {MaxPath} characters"; return false; }
        if (s == "/") { why = "is the root directory"; return false; }
        foreach (var segment in s[1..].Split('/'))
        {
            if (segment.Length == 0) { why = "has an empty segment ('//' or a trailing '/')"; return false; }
            if (segment is "." or "..") { why = $"has a '{segment}' segment"; return false; }
            if (!PathSegmentRegex().IsMatch(segment))
            {
                why = segment.Length > 255
                    ? "has a segment longer than 255 characters"
                    : $"contains {Describe(segment.First(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '+' or '-')))}";
                return false;
            }
        }
        return true;
    }

    public static bool IsAbsolutePath(string s) => IsAbsolutePath(s, out _);

    /// <summary>
    /// A DNS name for an endpoint: labels of [A-Za-z0-9-] (1-63, no leading or trailing '-'), at most 253 characters,
    /// the last label starting with a letter. The last rule keeps out what getaddrinfo would read as a number
    /// ("0x7f.1", "2130706433", "10.1"), and "localhost" is refused: an endpoint is another machine.
    /// </summary>
    public static bool IsHostName(string s, out string? why)
    {
        why = null;
        if (s.Length == 0 || s.Length > 253) { why = "must be 1 to 253 characters"; return false; }
        var labels = s.Split('.');
        foreach (var label in labels)
            if (!DnsLabelRegex().IsMatch(label))
            {
                why = label.Length == 0 ? "has an empty label" : "is not a DNS name (labels of letters, digits and '-')";
                return false;
            }
        if (!char.IsAsciiLetter(labels[^1][0])) { why = "looks numeric (its last label must start with a letter)"; return false; }
        if (labels[^1].Equals("localhost", StringComparison.OrdinalIgnoreCase)) { why = "is the local host"; return false; }
        return true;
    }

    /// <summary>A character as a message can show it: printable ASCII quoted, anything else as U+XXXX.</summary>
    public static string Describe(char c) =>
        c is >= ' ' and <= '~' ? $"'{c}'" : $"U+{(int)c:X4}";

    /// <summary>
    /// Text for a diagnostic: control characters, line and paragraph separators, bidi controls and other invisible
    /// characters escaped as \uXXXX so a hostile value cannot rewrite the terminal or forge lines; at most
    /// <paramref name="max"/> characters.
    /// </summary>
    public static string Printable(string s, int max = 400)
    {
        bool clean = s.Length <= max;
        if (clean)
            foreach (char c in s)
                if (NeedsEscape(c)) { clean = false; break; }
        if (clean) return s;
        var sb = new StringBuilder(Math.Min(s.Length, max) + 16);
        foreach (char c in s)
        {
            if (sb.Length >= max) { sb.Append("…"); break; }
            if (NeedsEscape(c)) sb.Append($"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\u00ad' or '\ufeff' or '\ufffd'
        || c is >= '\u200b' and <= '\u200f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';
}
