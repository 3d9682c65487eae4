using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using Overlay.Core.Diagnostics;

namespace Overlay.Core.Inventories;

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
        _ when !Plain => $"the quoted string \"{Value}\"",
        _ => $"'{Value}'",
    };
}

internal static class YamlTree
{
    /// <summary>
    /// Deepest nesting of mappings and lists accepted. An inventory needs about 6 levels; the bound keeps a hostile file
    /// (tens of thousands of '[') from overflowing the stack, which no handler can catch.
    /// </summary>
    public const int MaxDepth = 64;

    private sealed class TooDeepException(Mark at) : Exception
    {
        public Mark At { get; } = at;
    }

    /// <summary>Reads one document; a syntax error becomes a diagnostic and the result is null.</summary>
    public static YNode? Load(string text, string file, DiagnosticList diagnostics)
    {
        var parser = new Parser(new StringReader(text));
        var state = new LoadState(file);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
                return null;
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, state, 0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, At(file, second.Start),
                    "a second YAML document in the inventory", "keep the whole inventory in one document; remove the '---' line"));
                return null;
            }
            return root;
        }
        catch (TooDeepException e)
        {
            diagnostics.Add(Diagnostic.Error(InventoryCodes.LimitExceeded, At(file, e.At),
                $"the YAML is nested more than {MaxDepth} levels deep here", "an inventory needs only a few levels; look for unbalanced '[' or '{'"));
            return null;
        }
        catch (YamlException e)
        {
            diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, At(file, e.Start), "YAML syntax error: " + Clean(e.Message), "check indentation, colons and quotes on this line"));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way (without a position) on some malformed flow collections.
            if (state.OpenFlows.Count > 0)
            {
                var (at, open) = state.OpenFlows.Peek();
                char close = open == '[' ? ']' : '}';
                diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, at, $"YAML syntax error: the '{open}' opened here is never closed", $"add the closing '{close}'"));
            }
            else
            {
                diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, state.Last, "YAML syntax error after this point", "check indentation, brackets and quotes from here on"));
            }
            return null;
        }
        catch (ArgumentException e)
        {
            // YamlDotNet refuses some tags this way ("Global tags must be valid URIs"), without a position (found by the
            // long fuzz run of this reader).
            diagnostics.Add(Diagnostic.Error(InventoryCodes.Syntax, state.Last, "YAML syntax error after this point: " + Clean(e.Message),
                "an inventory needs no YAML tags ('!'); remove or quote the value"));
            return null;
        }
    }

    private sealed class LoadState(string file)
    {
        public string File { get; } = file;
        public Dictionary<string, YNode> Anchors { get; } = new(StringComparer.Ordinal);
        public Stack<(SourceLocation At, char Open)> OpenFlows { get; } = new();
        public SourceLocation Last { get; set; } = new(file, 1, 1);
    }

    private static YNode ReadNode(IParser parser, LoadState state, int depth)
    {
        string file = state.File;
        var anchors = state.Anchors;
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            state.Last = At(file, alias.Start);
            // Anchors are registered once their node is complete, so an alias cannot point into itself (a cycle).
            if (anchors.TryGetValue(alias.Value.Value, out var target)) return target;
            throw new YamlException(alias.Start, alias.End, $"unknown alias '*{alias.Value.Value}'");
        }
        YNode node;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            node = new YNode { Kind = YKind.Scalar, At = At(file, scalar.Start), Value = scalar.Value, Plain = scalar.Style == ScalarStyle.Plain };
            state.Last = node.At;
            Remember(anchors, scalar.Anchor, node);
        }
        else if (parser.TryConsume<MappingStart>(out var ms))
        {
            if (depth >= MaxDepth) throw new TooDeepException(ms.Start);
            node = new YNode { Kind = YKind.Mapping, At = At(file, ms.Start) };
            state.Last = node.At;
            bool flow = ms.Style == MappingStyle.Flow;
            if (flow) state.OpenFlows.Push((node.At, '{'));
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(parser, state, depth + 1);
                var value = ReadNode(parser, state, depth + 1);
                node.Pairs.Add((key, value));
            }
            if (flow) state.OpenFlows.Pop();
            Remember(anchors, ms.Anchor, node);
        }
        else if (parser.TryConsume<SequenceStart>(out var ss))
        {
            if (depth >= MaxDepth) throw new TooDeepException(ss.Start);
            node = new YNode { Kind = YKind.Sequence, At = At(file, ss.Start) };
            state.Last = node.At;
            bool flow = ss.Style == SequenceStyle.Flow;
            if (flow) state.OpenFlows.Push((node.At, '['));
            while (!parser.TryConsume<SequenceEnd>(out _))
                node.Items.Add(ReadNode(parser, state, depth + 1));
            if (flow) state.OpenFlows.Pop();
            Remember(anchors, ss.Anchor, node);
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
