using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Overlay.Core.Inventory;

internal enum YKind
{
    Scalar,
    Mapping,
    Sequence,
}

/// <summary>
/// A YAML node with its position. Built from YamlDotNet's parser events rather than its
/// representation model so duplicate keys become ordinary diagnostics instead of a load failure.
/// </summary>
internal sealed class YNode
{
    public required YKind Kind { get; init; }
    public required SourceLocation At { get; init; }
    public string Value { get; init; } = "";
    /// <summary>Plain (unquoted) scalar: only these may mean null/true/false/numbers.</summary>
    public bool Plain { get; init; }
    public List<(YNode Key, YNode Value)> Pairs { get; } = [];
    public List<YNode> Items { get; } = [];

    public bool IsNull => Kind == YKind.Scalar && Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public string Describe() => Kind switch
    {
        YKind.Mapping => "a mapping",
        YKind.Sequence => "a list",
        _ when IsNull => "nothing (null)",
        _ => $"'{Value}'",
    };
}

internal static class YamlTree
{
    /// <summary>Reads one document; a syntax error becomes a diagnostic and the result is null.</summary>
    public static YNode? Load(string text, string file, List<Diagnostic> diagnostics)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
                return null;
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, file, anchors);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, At(file, second.Start),
                    "a second YAML document in the inventory", "keep the whole inventory in one document; remove the '---' line"));
                return null;
            }
            return root;
        }
        catch (YamlException e)
        {
            diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, At(file, e.Start), "YAML syntax error: " + Clean(e.Message), "check indentation, colons and quotes on this line"));
            return null;
        }
    }

    private static YNode ReadNode(IParser parser, string file, Dictionary<string, YNode> anchors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var target)) return target;
            throw new YamlException(alias.Start, alias.End, $"unknown alias '*{alias.Value.Value}'");
        }
        YNode node;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            node = new YNode { Kind = YKind.Scalar, At = At(file, scalar.Start), Value = scalar.Value, Plain = scalar.Style == ScalarStyle.Plain };
            Remember(anchors, scalar.Anchor, node);
        }
        else if (parser.TryConsume<MappingStart>(out var ms))
        {
            node = new YNode { Kind = YKind.Mapping, At = At(file, ms.Start) };
            Remember(anchors, ms.Anchor, node);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(parser, file, anchors);
                var value = ReadNode(parser, file, anchors);
                node.Pairs.Add((key, value));
            }
        }
        else if (parser.TryConsume<SequenceStart>(out var ss))
        {
            node = new YNode { Kind = YKind.Sequence, At = At(file, ss.Start) };
            Remember(anchors, ss.Anchor, node);
            while (!parser.TryConsume<SequenceEnd>(out _))
                node.Items.Add(ReadNode(parser, file, anchors));
        }
        else
        {
            var e = parser.Current!;
            throw new YamlException(e.Start, e.End, $"unexpected {e.GetType().Name}");
        }
        return node;
    }

    private static void Remember(Dictionary<string, YNode> anchors, AnchorName anchor, YNode node)
    {
        if (!anchor.IsEmpty) anchors[anchor.Value] = node;
    }

    private static SourceLocation At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);

    // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the diagnostic carries the position already.
    private static string Clean(string message)
    {
        int i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith('(') && i > 0 ? message[(i + 3)..] : message;
    }
}
