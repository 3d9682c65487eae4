namespace Overlay.Core.Fleet;

/// <summary>One line of an FRR configuration with the lines nested under it (an interface's settings, a BFD profile's).</summary>
public sealed record FrrLine(string Text, IReadOnlyList<FrrLine> Children)
{
    public bool IsBlock => Children.Count > 0;
}

/// <summary>
/// FRR configuration text (a rendered frr.conf or <c>show running-config</c>) as a tree, in the shape the diff compares:
/// order-insensitive within a stanza (FRR prints an interface's settings sorted, the renderer in a fixed order),
/// separators and terminators dropped, lines FRR leaves out when they hold the default dropped, and lines this
/// project does not manage (version banner, hostname, logging, forwarding, vty) dropped so they are never touched.
/// </summary>
public static class FrrConfigTree
{
    /// <summary>Top-level lines that belong to the host, not to the overlay: never added, never removed.</summary>
    private static readonly string[] Unmanaged =
    [
        "frr ", "hostname ", "service ", "log ", "line vty", "no ip forwarding", "no ipv6 forwarding", "ip forwarding", "ipv6 forwarding",
        "agentx", "password ", "enable password ", "debug ", "Building configuration", "Current configuration", "username ",
    ];

    /// <summary>
    /// (stanza header prefix, line): what FRR 8.4 does not print because it is the default (measured with show
    /// running-config): a BFD profile's multiplier 3, and the OSPF network type of an interface that is point-to-point in
    /// the kernel (a WireGuard link), which FRR prints only while the link does not exist.
    /// </summary>
    private static readonly (string Parent, string Line)[] Defaults =
    [
        ("profile ", "detect-multiplier 3"),
        ("profile ", "receive-interval 300"),
        ("profile ", "transmit-interval 300"),
        ("interface ", "ip ospf network point-to-point"),
    ];

    /// <summary>Whether FRR leaves this line out of its running configuration when it holds (a desired line missing there is no change).</summary>
    internal static bool IsHiddenDefault(IReadOnlyList<string> path, string line) =>
        path.Count > 0 && Defaults.Any(d => path[^1].StartsWith(d.Parent, StringComparison.Ordinal) && d.Line == line);

    public static IReadOnlyList<FrrLine> Parse(string text)
    {
        var root = new List<FrrLine>();
        // (indent, children list of the line at that indent)
        var stack = new List<(int Indent, List<FrrLine> Children, string Text)>();
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r', ' ', '\t');
            string trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed.StartsWith('!') || trimmed is "end" or "exit" or "exit-address-family" or "exit-vrf" or "quit")
                continue;
            int indent = line.Length - trimmed.Length;
            while (stack.Count > 0 && stack[^1].Indent >= indent) stack.RemoveAt(stack.Count - 1);
            if (stack.Count == 0 && Unmanaged.Any(u => trimmed.StartsWith(u, StringComparison.Ordinal))) continue;
            var siblings = stack.Count == 0 ? root : stack[^1].Children;
            // A stanza written twice (bfd peers appended after the first 'bfd' block) is one stanza to FRR.
            if (siblings.FirstOrDefault(x => x.Text == trimmed) is { Children: List<FrrLine> same })
            {
                stack.Add((indent, same, trimmed));
                continue;
            }
            var children = new List<FrrLine>();
            siblings.Add(new FrrLine(trimmed, children));
            stack.Add((indent, children, trimmed));
        }
        return root;
    }

    /// <summary>Every line with its stanza path, depth first; for counts and tests.</summary>
    public static IEnumerable<(IReadOnlyList<string> Path, string Line)> Flatten(IReadOnlyList<FrrLine> tree, IReadOnlyList<string>? path = null)
    {
        path ??= [];
        foreach (var l in tree)
        {
            yield return (path, l.Text);
            foreach (var x in Flatten(l.Children, [.. path, l.Text])) yield return x;
        }
    }
}

public enum FrrChangeKind
{
    Add,
    Remove,
}

/// <summary>One line to add or remove, inside the stanzas of <see cref="Path"/> (outermost first).</summary>
public sealed record FrrChange(FrrChangeKind Kind, IReadOnlyList<string> Path, string Line)
{
    /// <summary>A whole stanza removed (its header is <see cref="Line"/>): its children go with it.</summary>
    public bool IsStanza { get; init; }

    public override string ToString() =>
        (Kind == FrrChangeKind.Add ? "+ " : "- ") + string.Concat(Path.Select(p => p + " / ")) + Line;
}

/// <summary>
/// The difference between FRR's running configuration and the rendered one, and the vtysh lines (configuration mode)
/// that turn one into the other without touching anything else. A setting that only changes value is set, not removed
/// first (removing 'ip ospf cost 10' before setting 20 would run the link at the default cost in between).
/// </summary>
public static class FrrDiff
{
    public static IReadOnlyList<FrrChange> Compute(IReadOnlyList<FrrLine> running, IReadOnlyList<FrrLine> desired)
    {
        var changes = new List<FrrChange>();
        Walk(running, desired, [], changes);
        return changes;
    }

    private static void Walk(IReadOnlyList<FrrLine> running, IReadOnlyList<FrrLine> desired, IReadOnlyList<string> path, List<FrrChange> changes)
    {
        var have = running.GroupBy(l => l.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var want = desired.GroupBy(l => l.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var addedKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in desired)
        {
            if (have.TryGetValue(d.Text, out var r)) Walk(r.Children, d.Children, [.. path, d.Text], changes);
            // A default FRR does not print is in force unless another value of the same setting is.
            else if (!d.IsBlock && FrrConfigTree.IsHiddenDefault(path, d.Text) && !running.Any(x => SettingKey(x.Text) is { } k && k == SettingKey(d.Text))) continue;
            else
            {
                AddAll(d, path, changes);
                if (SettingKey(d.Text) is { } added) addedKeys.Add(added);
            }
        }
        foreach (var r in running)
        {
            if (want.ContainsKey(r.Text)) continue;
            // The added line with the same setting overwrites it: no 'no' line, which would reset it to the default first.
            if (!r.IsBlock && SettingKey(r.Text) is { } key && addedKeys.Contains(key)) continue;
            changes.Add(new FrrChange(FrrChangeKind.Remove, path, r.Text) { IsStanza = r.IsBlock });
        }
    }

    private static void AddAll(FrrLine line, IReadOnlyList<string> path, List<FrrChange> changes)
    {
        changes.Add(new FrrChange(FrrChangeKind.Add, path, line.Text));
        foreach (var c in line.Children) AddAll(c, [.. path, line.Text], changes);
    }

    /// <summary>Single-valued settings: the line without its value. Null for lines that add an item (an address, a neighbor).</summary>
    internal static string? SettingKey(string line)
    {
        var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (w.Length == 0) return null;
        if (w[0] == "description") return "description";
        // 'ip prefix-list NAME seq N ...': FRR 8.4 replaces the entry with the same sequence number in place.
        if (w.Length >= 5 && w[0] is "ip" or "ipv6" && w[1] == "prefix-list" && w[3] == "seq") return string.Join(' ', w[..5]);
        // 'neighbor A route-map NAME in|out'
        if (w.Length == 5 && w[0] == "neighbor" && w[2] == "route-map") return $"neighbor {w[1]} route-map {w[4]}";
        if (w.Length == 4 && w[0] == "neighbor" && w[2] == "remote-as") return $"neighbor {w[1]} remote-as";
        string head = string.Join(' ', w[..^1]);
        return SingleValued.Contains(head) ? head : null;
    }

    private static readonly HashSet<string> SingleValued = new(StringComparer.Ordinal)
    {
        "ip ospf cost", "ip ospf hello-interval", "ip ospf dead-interval", "ip ospf area", "ip ospf network", "ip ospf bfd profile",
        "ospf router-id", "bgp router-id", "detect-multiplier", "receive-interval", "transmit-interval", "profile",
        "redistribute connected route-map", "redistribute static route-map",
    };

    /// <summary>
    /// vtysh lines for configuration mode ('configure terminal' not included): each change entered through its stanzas
    /// and left with 'exit' to the top. Removals of whole stanzas come after every addition and setting, so a route-map
    /// or BFD peer that is replaced exists again before the old one goes.
    /// </summary>
    public static IReadOnlyList<string> Commands(IReadOnlyList<FrrChange> changes)
    {
        var lines = new List<string>();
        IReadOnlyList<string> at = [];
        void Enter(IReadOnlyList<string> path)
        {
            int common = 0;
            while (common < at.Count && common < path.Count && at[common] == path[common]) common++;
            for (int i = at.Count; i > common; i--) lines.Add(ExitOf(at[i - 1]));
            for (int i = common; i < path.Count; i++) lines.Add(path[i]);
            at = path;
        }
        // Additions in tree order (a stanza's header before its children); then single-line removals; stanzas last.
        foreach (var c in changes.Where(c => c.Kind == FrrChangeKind.Add)) { Enter(c.Path); lines.Add(c.Line); at = AddedStanza(c, at); }
        foreach (var c in changes.Where(c => c.Kind == FrrChangeKind.Remove && !c.IsStanza)) { Enter(c.Path); lines.Add(NoOf(c.Line)); }
        foreach (var c in changes.Where(c => c.Kind == FrrChangeKind.Remove && c.IsStanza)) { Enter(c.Path); lines.Add(NoOf(c.Line)); }
        Enter([]);
        return lines;

        // Entering a stanza header moves vtysh into it: the next change's path must be compared from there.
        static IReadOnlyList<string> AddedStanza(FrrChange c, IReadOnlyList<string> at) =>
            IsStanzaHeader(c.Path, c.Line) ? [.. c.Path, c.Line] : at;
    }

    private static string ExitOf(string header) => header.StartsWith("address-family", StringComparison.Ordinal) ? "exit-address-family" : "exit";

    /// <summary>Lines that open a configuration node in vtysh (the rendered config's stanzas).</summary>
    internal static bool IsStanzaHeader(IReadOnlyList<string> path, string line) => path.Count == 0
        ? line.StartsWith("interface ", StringComparison.Ordinal) || line.StartsWith("router ", StringComparison.Ordinal)
          || line.StartsWith("route-map ", StringComparison.Ordinal) || line == "bfd"
        // Inside 'bfd', 'profile'/'peer' open nodes; inside a BFD peer, 'profile NAME' is a setting.
        : path is ["bfd"] ? line.StartsWith("profile ", StringComparison.Ordinal) || line.StartsWith("peer ", StringComparison.Ordinal)
        : path[0].StartsWith("router bgp", StringComparison.Ordinal) && line.StartsWith("address-family ", StringComparison.Ordinal);

    private static string NoOf(string line) => line.StartsWith("no ", StringComparison.Ordinal) ? line[3..] : "no " + line;
}
