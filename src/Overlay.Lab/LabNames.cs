using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Overlay.Lab;

/// <summary>
/// Every name a lab creates on the machine carries the prefix and the run id, so concurrent runs never
/// collide and the sweeper can tell which run a leftover belongs to.
/// </summary>
public static partial class LabNames
{
    /// <summary>Namespaces, FRR pathspaces and run directories are "olab-RUNID-…"; interfaces "olabRUNID…".</summary>
    public const string Prefix = "olab";

    /// <summary>Run directories live here, one per run: /tmp/olab-RUNID.</summary>
    public static string RunRoot { get; } = Path.GetTempPath();

    public const string NetnsDirectory = "/var/run/netns";
    public const string FrrStateDirectory = "/var/run/frr";
    public const string WireGuardSocketDirectory = "/var/run/wireguard";

    public static string NewRunId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    public static bool IsRunId(string s) => RunIdRegex().IsMatch(s);

    public static string Namespace(string runId, string node) => $"{Prefix}-{runId}-{node}";
    public static string RunDirectory(string runId) => Path.Combine(RunRoot, $"{Prefix}-{runId}");

    /// <summary>kind 'v' = veth, 'w' = WireGuard; side 'a' or 'b'. At most 4+6+1+3+1 = 15 characters.</summary>
    public static string Interface(string runId, char kind, int index, char side) => $"{Prefix}{runId}{kind}{index}{side}";

    /// <summary>The run id a machine-level name belongs to, if it is one of ours.</summary>
    public static string? RunIdOf(string name)
    {
        var m = OwnedNameRegex().Match(name);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>Run ids mentioned anywhere in a text (a process command line).</summary>
    public static IEnumerable<string> RunIdsIn(string text) =>
        EmbeddedRegex().Matches(text).Select(m => m.Groups[1].Value).Distinct();

    internal static void ValidateNodeName(string name)
    {
        if (!NodeRegex().IsMatch(name))
            throw new ArgumentException($"lab node name '{name}' is invalid: use 1-10 lowercase letters/digits starting with a letter (it becomes part of namespace names)", nameof(name));
    }

    [GeneratedRegex("^[0-9a-f]{6}$")] private static partial Regex RunIdRegex();
    [GeneratedRegex("^olab-?([0-9a-f]{6})(?:$|[-.vw])")] private static partial Regex OwnedNameRegex();
    [GeneratedRegex("olab-?([0-9a-f]{6})(?![0-9a-f])")] private static partial Regex EmbeddedRegex();
    [GeneratedRegex("^[a-z][a-z0-9]{0,9}$")] private static partial Regex NodeRegex();
}
