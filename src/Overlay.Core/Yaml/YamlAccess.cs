using Overlay.Core.Diagnostics;

namespace Overlay.Core.Yaml;

/// <summary>The shape a value was expected to have.</summary>
internal enum YShape
{
    Mapping,
    List,
    Scalar,
}

/// <summary>
/// The one way both YAML readers (the inventory and overlayd.yaml) get at a <see cref="YNode"/> tree: mappings with
/// known keys, lists, scalars, each checked for its shape. The mechanics live here; a reader subclasses it only to word
/// the problems in its own codes and messages, so the two files keep their documented diagnostics.
/// </summary>
internal abstract class YamlAccess
{
    /// <summary>A value has the wrong shape.</summary>
    /// <param name="name">How the reader named the value (a YAML path, or a description).</param>
    /// <param name="key">The key the value is under, when it is one; null for list items.</param>
    /// <param name="fix">The caller's own fix or expectation text, when it has one.</param>
    public abstract void WrongType(YNode node, string name, YShape expected, string? key, string? fix);

    /// <summary>A key that is a list or mapping.</summary>
    public abstract void KeyNotScalar(YMap map, YNode key);

    /// <summary>A key written twice: the second is reported and ignored, the first one counts.</summary>
    public abstract void DuplicateKey(YMap map, YNode key, YNode first);

    /// <summary>A key the reader never asked for; <paramref name="nearest"/> is a known key it is likely a typo of.</summary>
    public abstract void UnknownKey(YMap map, YNode key, string? nearest);

    /// <summary>A required key is absent (or null).</summary>
    /// <param name="context">The caller's text for the message: whose key it is, or the fix.</param>
    public abstract void MissingKey(YMap map, string key, string context);

    /// <summary>The mapping at <paramref name="node"/>; null when it is absent or null (nothing reported) or no mapping (reported).</summary>
    public YMap? Map(YNode? node, string name, string? key = null, string? fix = null) =>
        node is null || node.IsNull ? null : MapOf(node, name, key, fix);

    /// <summary>The mapping at <paramref name="node"/>, where a null is the wrong shape too (a list item must be there).</summary>
    public YMap? MapOf(YNode node, string name, string? key = null, string? fix = null)
    {
        if (node.Kind == YKind.Mapping) return new YMap(this, node, name);
        WrongType(node, name, YShape.Mapping, key, fix);
        return null;
    }

    /// <summary>The items of the list at <paramref name="node"/>; null when absent or null (nothing reported) or no list (reported).</summary>
    public List<YNode>? List(YNode? node, string name, string? key = null, string? fix = null)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind == YKind.Sequence) return node.Items;
        WrongType(node, name, YShape.List, key, fix);
        return null;
    }

    /// <summary>The text of a scalar (a null scalar's too); null, reported, when it is a list or mapping.</summary>
    public string? ScalarOf(YNode node, string name, string? key = null)
    {
        if (node.Kind == YKind.Scalar) return node.Value;
        WrongType(node, name, YShape.Scalar, key, null);
        return null;
    }
}

/// <summary>
/// A mapping being read. Remembers the keys the reader knows (asked for, or declared up front), so the rest can be
/// reported as unknown with a "did you mean"; duplicate and non-scalar keys are reported once, when it is made.
/// </summary>
internal sealed class YMap
{
    private readonly YamlAccess _access;
    private readonly Dictionary<string, (YNode Key, YNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly List<(YNode Key, YNode Value)> _ordered = [];
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly List<string> _knownOrdered = [];
    private readonly HashSet<string> _misspelt = new(StringComparer.Ordinal);

    internal YMap(YamlAccess access, YNode node, string name)
    {
        _access = access;
        Node = node;
        Name = name;
        foreach (var (key, value) in node.Pairs)
        {
            if (key.Kind != YKind.Scalar) { access.KeyNotScalar(this, key); continue; }
            if (_entries.TryGetValue(key.Value, out var first)) { access.DuplicateKey(this, key, first.Key); continue; }
            _entries[key.Value] = (key, value);
            _ordered.Add((key, value));
        }
    }

    /// <summary>The mapping itself.</summary>
    public YNode Node { get; }

    /// <summary>How diagnostics name this mapping: its YAML path in overlayd.yaml ("" at the top), a description ("VIP 'web'") in the inventory.</summary>
    public string Name { get; }

    /// <summary>The keys known here, in the order they became known.</summary>
    public IReadOnlyList<string> KnownKeys => _knownOrdered;

    /// <summary>The YAML path of a key in this mapping, when <see cref="Name"/> is a path.</summary>
    public string PathOf(string key) => Name.Length == 0 ? key : $"{Name}.{key}";

    /// <summary>Declares keys as valid here without reading them.</summary>
    public YMap Allow(params string[] keys)
    {
        foreach (var k in keys) Know(k);
        return this;
    }

    private void Know(string key)
    {
        if (_known.Add(key)) _knownOrdered.Add(key);
    }

    /// <summary>The value under <paramref name="key"/>; null when absent or null. The key becomes known.</summary>
    public YNode? Get(string key)
    {
        Know(key);
        return _entries.TryGetValue(key, out var e) && !e.Value.IsNull ? e.Value : null;
    }

    /// <summary>The value under a key that is there (null or not); throws when it is not.</summary>
    public YNode this[string key] => _entries[key].Value;

    /// <summary>Where the key itself is written; null when it is not.</summary>
    public YNode? KeyAt(string key) => _entries.TryGetValue(key, out var e) ? e.Key : null;

    /// <summary>The scalar keys with their values, first occurrences only, in file order.</summary>
    public IReadOnlyList<(YNode Key, YNode Value)> Entries => _ordered;

    /// <summary>
    /// Reports every key that is not known; from then on it reads as absent. A known key that an unknown one is likely
    /// a typo of counts as <see cref="IsMisspelt">misspelt</see>.
    /// </summary>
    public void ReportUnknown()
    {
        foreach (var (key, _) in _ordered)
        {
            if (_known.Contains(key.Value)) continue;
            _entries.Remove(key.Value);
            string? near = NearMiss.Nearest(key.Value, _knownOrdered);
            if (near is not null) _misspelt.Add(near);
            _access.UnknownKey(this, key, near);
        }
    }

    /// <summary>Whether an unknown key was reported as a likely typo of <paramref name="key"/>: a misspelt required key is one error, not also a missing one.</summary>
    public bool IsMisspelt(string key) => _misspelt.Contains(key);

    /// <summary>The value under a required key; when it is absent or null, reported (unless misspelt) and null.</summary>
    public YNode? Required(string key, string context)
    {
        var v = Get(key);
        if (v is null && !IsMisspelt(key)) _access.MissingKey(this, key, context);
        return v;
    }

    /// <summary>The text under <paramref name="key"/>; null when absent or null, or (reported) not a scalar.</summary>
    public string? Scalar(string key) => Get(key) is { } v ? _access.ScalarOf(v, PathOf(key), key) : null;

    /// <summary>The text under a required key; null when missing or not a scalar (both reported).</summary>
    public string? RequiredScalar(string key, string context) => Required(key, context) is { } v ? _access.ScalarOf(v, PathOf(key), key) : null;

    /// <summary>The mapping under <paramref name="key"/>; null when absent or null, or (reported) not a mapping.</summary>
    public YMap? Map(string key, string? name = null, string? fix = null) => _access.Map(Get(key), name ?? PathOf(key), key, fix);

    /// <summary>The items under <paramref name="key"/>; null when absent or null, or (reported) not a list.</summary>
    public List<YNode>? List(string key, string? name = null, string? fix = null) => _access.List(Get(key), name ?? PathOf(key), key, fix);

    /// <summary>Each item of the list under <paramref name="key"/> read by <paramref name="item"/> (given the item and its path); the nulls it returns are left out.</summary>
    public List<T> ListOf<T>(string key, Func<YNode, string, T?> item)
    {
        var result = new List<T>();
        if (List(key) is not { } items) return result;
        for (int i = 0; i < items.Count; i++)
            if (item(items[i], $"{PathOf(key)}[{i}]") is { } v) result.Add(v);
        return result;
    }
}
