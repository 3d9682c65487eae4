using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Diagnostics;
using Overlay.Core.Net;
using static Overlay.Core.Diagnostics.NearMiss;

namespace Overlay.Core.Inventories;

// Structural helpers: mappings with known keys, typed scalars, suggestions.
internal sealed partial class InventoryReader
{
    /// <summary>Checks that node is a mapping with only known keys; reports wrong type, unknown and duplicate keys.</summary>
    private Dictionary<string, YNode>? Map(YNode? node, string what, string[] allowed)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Mapping)
        {
            WrongType(node, what, "a mapping (key: value lines)");
            return null;
        }
        var result = new Dictionary<string, YNode>(StringComparer.Ordinal);
        var keys = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (key, value) in node.Pairs)
        {
            if (key.Kind != YKind.Scalar)
            {
                WrongType(key, $"a key in {what}", "a plain name");
                continue;
            }
            if (keys.TryGetValue(key.Value, out var first))
            {
                Error(InventoryCodes.DuplicateKey, key.At, $"key '{key.Value}' appears twice in {what}", $"the first is at line {first.At.Line}; remove one");
                continue;
            }
            keys[key.Value] = key;
            if (Array.IndexOf(allowed, key.Value) < 0)
            {
                string? near = Nearest(key.Value, allowed);
                // A misspelt required key is one error, not also a missing field.
                if (near is not null) _nearMisses.Add((node, near));
                Error(InventoryCodes.UnknownKey, key.At, $"unknown key '{key.Value}' in {what}",
                    near is not null ? $"did you mean '{near}'?" : $"allowed keys: {string.Join(", ", allowed)}");
                continue;
            }
            result[key.Value] = value;
        }
        _keyNodes[node] = keys;
        return result;
    }

    private readonly HashSet<(YNode Mapping, string Key)> _nearMisses = [];

    private bool Misspelt(YNode mapping, string key) => _nearMisses.Contains((mapping, key));

    // Key nodes per mapping, for errors that point at a key rather than its value.
    private readonly Dictionary<YNode, Dictionary<string, YNode>> _keyNodes = new(ReferenceEqualityComparer.Instance);

    private SourceLocation? KeyLoc(YNode mapping, string key) =>
        _keyNodes.TryGetValue(mapping, out var keys) && keys.TryGetValue(key, out var k) ? k.At : null;

    private static YNode? Get(Dictionary<string, YNode>? map, string key) =>
        map is not null && map.TryGetValue(key, out var v) && !v.IsNull ? v : null;

    /// <summary>A lone '-' in a list: reported, because skipping it would silently drop a node or VIP.</summary>
    private bool EmptyEntry(YNode item, string list)
    {
        if (!item.IsNull) return false;
        Error(InventoryCodes.MissingField, item.At, $"empty entry in {list}", "fill in the entry or remove it (a lone '-', or '~' in a [list])");
        return true;
    }

    /// <summary>The entry's name, read before its keys are checked, so structural errors can say whose they are.</summary>
    private static string? EarlyName(YNode item) =>
        item.Kind == YKind.Mapping
            ? item.Pairs.FirstOrDefault(p => p.Key.Value == "name" && p.Value.Kind == YKind.Scalar && !p.Value.IsNull).Value?.Value
            : null;

    private static SourceLocation Loc(Dictionary<string, YNode>? map) =>
        map?.Values.FirstOrDefault()?.At ?? SourceLocation.None;

    private YNode? Required(Dictionary<string, YNode> map, YNode owner, string key, string who)
    {
        var v = Get(map, key);
        if (v is null && !Misspelt(owner, key))
            Error(InventoryCodes.MissingField, KeyLoc(owner, key) ?? owner.At, $"{who} is missing required field '{key}'", RequiredHint(key));
        return v;
    }

    private static string RequiredHint(string key) => key switch
    {
        "name" => "add name: <unique name>",
        "id" => "add id: <unique number 1..4095>; never reuse an id",
        "publicKey" => "add publicKey: <output of 'wg pubkey'>",
        "overlay" => "add overlay: { v4: <router id address> }",
        "v4" => "add v4: <this node's overlay IPv4 address>",
        "prefix" => "add prefix: <address>/32",
        "members" => "add members: [<node>, ...]",
        "type" => "add type: fullMesh or type: hubAndSpoke",
        "neighbor" => "add neighbor: <upstream router address>",
        "remoteAsn" => "add remoteAsn: <upstream AS number>",
        "node" => "add node: <hub node name>",
        "between" => "add between: [spoke-a, spoke-b]",
        _ => $"add {key}: ...",
    };

    private List<YNode>? Seq(YNode? node, string field)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Sequence)
        {
            WrongType(node, field, "a list");
            return null;
        }
        return node.Items;
    }

    private void WrongType(YNode node, string field, string expected)
    {
        string hint = expected switch
        {
            _ when field == "the inventory" => "an inventory is a mapping with the keys gate, nodes, topology and optionally defaults, frr, daemon, policies, vips",
            "a list" => $"write {field}: [a, b] or one '- item' per line",
            "a string" => "write a single value, quoted if it contains special characters",
            "an integer" => "write a whole number without quotes or units",
            "true or false" => "write true or false (yes/no/on/off are not accepted)",
            _ when expected.StartsWith("a mapping", StringComparison.Ordinal) => "indent 'key: value' lines under it",
            _ => $"expected {expected}",
        };
        Error(InventoryCodes.WrongType, node.At, $"{field} must be {expected}, got {node.Describe()}", hint);
    }

    private string? Str(YNode? node, string field)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Scalar) { WrongType(node, field, "a string"); return null; }
        return node.Value;
    }

    private string? Path(YNode? node, string field)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        if (!ValueGrammar.IsAbsolutePath(s, out var why))
        {
            string example = field switch
            {
                "keyFile" => InventoryDefaults.Standard.KeyFile,
                "vtyDir" => FrrSettings.Standard.VtyDir,
                "socket" => DaemonSettings.Standard.ApiSocket,
                "inventory" => "/etc/overlay/inventory.yaml",
                _ => DaemonSettings.Standard.DrainFile,
            };
            // Root runs what this path is written into (a wg-quick hook, rotation commands), so it is held to a grammar no shell can misread.
            if (!s.StartsWith('/'))
                Error(InventoryCodes.InvalidValue, node!.At, $"{field} '{s}' must be an absolute path", $"e.g. {example}");
            else
                Error(InventoryCodes.InvalidValue, node!.At, $"{field} '{s}' {why}",
                    $"use an absolute path of letters, digits and . _ @ + - between single '/', e.g. {example}");
            return null;
        }
        return s;
    }

    private int? Int(YNode? node, string field, int min, int max) => (int?)Long(node, field, min, max);

    private long? Long(YNode? node, string field, long min, long max)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Scalar || !long.TryParse(node.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
        {
            WrongType(node, field, "an integer");
            return null;
        }
        if (v < min || v > max)
        {
            Error(InventoryCodes.OutOfRange, node.At, $"{field} {v} is out of range {min}..{max}", null);
            return null;
        }
        return v;
    }

    private bool? Bool(YNode? node, string field)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind == YKind.Scalar && node.Plain && node.Value is "true" or "false")
            return node.Value == "true";
        WrongType(node, field, "true or false");
        return null;
    }

    private TimeSpan? Duration(YNode? node, string field)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        if (DurationText.TryParse(s, out var v, out var error)) return v;
        Error(InventoryCodes.InvalidDuration, node!.At, $"{field}: {error}", "durations need a unit: ms, s, m or h");
        return null;
    }

    private IpPrefix? Prefix(YNode? node, string field)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        if (!IpPrefix.TryParse(s, strict: false, out _, out var error))
        {
            Error(InventoryCodes.InvalidPrefix, node!.At, $"{field}: {error}", null);
            return null;
        }
        if (!IpPrefix.TryParse(s, strict: true, out var p, out error))
        {
            Error(InventoryCodes.HostBitsSet, node!.At, $"{field}: {error}", null);
            return null;
        }
        return p;
    }

    /// <param name="hostRole">What the address is ("a router id", "an upstream"): unspecified, loopback, multicast and broadcast addresses are refused; null accepts them.</param>
    private IPAddress? Address(YNode? node, string field, AddressFamily? family, string? hostRole = null)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        string kind = family switch { AddressFamily.InterNetwork => "an IPv4 address", AddressFamily.InterNetworkV6 => "an IPv6 address", _ => "an IP address" };
        if (!IpAddressText.TryParse(s, out var a, out var why))
        {
            if (why!.Contains("leading zero", StringComparison.Ordinal))
                Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{s}': {why}", "write every octet in plain decimal");
            else
                Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{s}' is not {kind}", s.Contains('/') ? $"write the address without a prefix length: {s[..s.IndexOf('/')]}" : null);
            return null;
        }
        if (family is { } f && a.AddressFamily != f)
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{s}' is not {kind}", family == AddressFamily.InterNetwork ? "put IPv6 addresses under v6" : "put IPv4 addresses under v4");
            return null;
        }
        if (hostRole is not null && IpAddressText.SpecialKind(a) is { } special)
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} {s} is a {special} address and cannot be {hostRole}", "use the unicast address of a real interface");
            return null;
        }
        return a;
    }
}
