using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Diagnostics;
using Overlay.Core.Net;
using Overlay.Core.Yaml;
using static Overlay.Core.Diagnostics.NearMiss;

namespace Overlay.Core.Inventories;

// Structural helpers: mappings with known keys, typed scalars, suggestions.
internal sealed partial class InventoryReader
{
    private InventoryYaml? _yamlAccess;

    // The shared YAML accessor, worded in the inventory's codes and messages.
    private InventoryYaml Yaml => _yamlAccess ??= new InventoryYaml(_diagnostics);

    /// <summary>Checks that node is a mapping with only known keys; reports wrong type, unknown and duplicate keys.</summary>
    private YMap? Map(YNode? node, string what, string[] allowed)
    {
        var map = Yaml.Map(node, what);
        map?.Allow(allowed).ReportUnknown();
        return map;
    }

    private static YNode? Get(YMap? map, string key) => map?.Get(key);

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

    /// <summary>Where the mapping's first valid key's value is written.</summary>
    private static SourceLocation Loc(YMap? map) =>
        map?.Entries.FirstOrDefault(e => map.KnownKeys.Contains(e.Key.Value)).Value?.At ?? SourceLocation.None;

    private static YNode? Required(YMap map, string key, string who) => map.Required(key, who);

    internal static string RequiredHint(string key) => key switch
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

    private List<YNode>? Seq(YNode? node, string field) => Yaml.List(node, field);

    private void WrongType(YNode node, string field, string expected) => Yaml.WrongType(node, field, expected);

    private string? Str(YNode? node, string field) => node is null || node.IsNull ? null : Yaml.ScalarOf(node, field);

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
