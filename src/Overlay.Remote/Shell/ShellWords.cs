using System.Text;
using System.Text.RegularExpressions;

namespace Overlay.Remote.Shell;

/// <summary>POSIX shell quoting, command templates and the name checks that keep inventory values out of code.</summary>
public static partial class ShellWords
{
    /// <summary>One word for <c>sh</c>: single-quoted unless it is plainly safe; a single quote becomes <c>'\''</c>.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && SafeWord().IsMatch(word) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    /// <summary>
    /// Splits an operator's template ("ip netns exec lab-{node}", "vtysh -N 'x {node}'") into words the way sh would
    /// for plain words and quotes (no expansions), then puts the node name into every <c>{node}</c>.
    /// </summary>
    public static IReadOnlyList<string> Expand(string template, string node)
    {
        ValidateNodeName(node);
        return [.. Split(template).Select(w => w.Replace("{node}", node, StringComparison.Ordinal))];
    }

    public static IReadOnlyList<string> Split(string template)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in template)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else if (c is '\\' or '$' or '`' or ';' or '|' or '&' or '<' or '>')
                throw new ArgumentException($"template '{template}': '{c}' is not supported; give plain words and quotes (the template is a command prefix, not a shell script)", nameof(template));
            else { current.Append(c); inWord = true; }
        }
        if (quote != '\0') throw new ArgumentException($"template '{template}': unterminated {quote}", nameof(template));
        if (inWord) words.Add(current.ToString());
        if (words.Count == 0) throw new ArgumentException("template is empty", nameof(template));
        return words;
    }

    /// <summary>Node names reach command lines (templates, messages): letters, digits, '.', '_', '-', not starting with '-'.</summary>
    public static void ValidateNodeName(string node)
    {
        if (!NodeName().IsMatch(node))
            throw new ArgumentException($"node name '{node}' cannot be used on a command line: use letters, digits, '.', '_' and '-', starting with a letter or digit", nameof(node));
    }

    /// <summary>An SSH destination host: a DNS name, IPv4 or IPv6 address; never something ssh could read as an option.</summary>
    public static bool IsValidHost(string host) => host.Length <= 253 && HostName().IsMatch(host);

    public static bool IsValidUser(string user) => UserName().IsMatch(user);

    /// <summary>A Linux interface name as wg-quick accepts it (its config file is NAME.conf).</summary>
    public static void ValidateInterfaceName(string iface)
    {
        if (!InterfaceName().IsMatch(iface))
            throw new ArgumentException($"interface name '{iface}' is not valid: 1-15 of letters, digits, '_', '=', '+', '.', '-'", nameof(iface));
    }

    [GeneratedRegex("^[A-Za-z0-9_@%+=:,./-]+$")] private static partial Regex SafeWord();
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")] private static partial Regex NodeName();
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9.:-]*$")] private static partial Regex HostName();
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")] private static partial Regex UserName();
    [GeneratedRegex("^[a-zA-Z0-9_=+.-]{1,15}$")] private static partial Regex InterfaceName();
}
