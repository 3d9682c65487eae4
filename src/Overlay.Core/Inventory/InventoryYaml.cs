using Overlay.Core.Diagnostics;
using Overlay.Core.Yaml;

namespace Overlay.Core.Inventories;

/// <summary>The shared YAML accessor worded for the inventory: INV codes, values named by what they are ("VIP 'web'", "listenPort").</summary>
internal sealed class InventoryYaml(DiagnosticList diagnostics) : YamlAccess
{
    public override void WrongType(YNode node, string name, YShape expected, string? key, string? fix) =>
        WrongType(node, name, fix ?? expected switch
        {
            YShape.Mapping => "a mapping (key: value lines)",
            YShape.List => "a list",
            _ => "a string",
        });

    /// <param name="expected">What the value must be, as the message says it: "a list", "a mapping of policy name to policy".</param>
    public void WrongType(YNode node, string field, string expected)
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
        diagnostics.Error(InventoryCodes.WrongType, node.At, $"{field} must be {expected}, got {node.Describe()}", hint);
    }

    public override void KeyNotScalar(YMap map, YNode key) => WrongType(key, $"a key in {map.Name}", "a plain name");

    public override void DuplicateKey(YMap map, YNode key, YNode first) =>
        diagnostics.Error(InventoryCodes.DuplicateKey, key.At, $"key '{key.Value}' appears twice in {map.Name}", $"the first is at line {first.At.Line}; remove one");

    public override void UnknownKey(YMap map, YNode key, string? nearest) =>
        diagnostics.Error(InventoryCodes.UnknownKey, key.At, $"unknown key '{key.Value}' in {map.Name}",
            nearest is not null ? $"did you mean '{nearest}'?" : $"allowed keys: {string.Join(", ", map.KnownKeys)}");

    /// <param name="context">Whose key it is: "a VIP", "node 'edge1'".</param>
    public override void MissingKey(YMap map, string key, string context) =>
        diagnostics.Error(InventoryCodes.MissingField, map.KeyAt(key)?.At ?? map.Node.At, $"{context} is missing required field '{key}'", InventoryReader.RequiredHint(key));
}
