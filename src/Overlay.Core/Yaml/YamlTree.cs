using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using Overlay.Core.Diagnostics;

namespace Overlay.Core.Yaml;

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

    /// <summary>The value under the first key named <paramref name="key"/>, null or not; null when this is no mapping or has no such key.</summary>
    public YNode? Field(string key)
    {
        foreach (var (k, v) in Pairs)
            if (k.Kind == YKind.Scalar && k.Value == key) return v;
        return null;
    }
}

/// <summary>Why a YAML stream could not be read. Each reader words it in its own diagnostics (codes, fixes).</summary>
internal enum YamlLoadFailure
{
    /// <summary>The parser's own error, at its position.</summary>
    Syntax,
    /// <summary>Nested deeper than <see cref="YamlTree.MaxDepth"/>.</summary>
    TooDeep,
    /// <summary>YamlDotNet's scanner failed without a position (some malformed flow collections); <see cref="YamlLoadError.UnclosedFlow"/> says whether a '[' or '{' was open.</summary>
    ScannerFailed,
    /// <summary>YamlDotNet refused a tag without a position ("Global tags must be valid URIs").</summary>
    InvalidTag,
}

/// <param name="At">The error's position; for failures without one, the last node read.</param>
/// <param name="Message">The parser's message without YamlDotNet's "(Line: …)" prefix.</param>
/// <param name="RawMessage">The exception's message as thrown.</param>
/// <param name="UnclosedFlow">For <see cref="YamlLoadFailure.ScannerFailed"/>: the innermost open flow collection and where it opened.</param>
internal sealed record YamlLoadError(YamlLoadFailure Failure, SourceLocation At, string Message, string RawMessage, (SourceLocation At, char Open)? UnclosedFlow = null);

/// <summary>A loaded stream: the first document's root, or why there is none.</summary>
internal sealed class YamlDocument
{
    /// <summary>The first document's root; null for an empty stream or when <see cref="Error"/> is set.</summary>
    public YNode? Root { get; init; }
    public YamlLoadError? Error { get; init; }
    /// <summary>Where a second document starts (its '---'), when there is one.</summary>
    public SourceLocation? SecondDocument { get; init; }
    /// <summary>Where the second document's root node starts; only when the following documents were read.</summary>
    public SourceLocation? SecondRoot { get; init; }
}

internal static class YamlTree
{
    /// <summary>
    /// Deepest nesting of mappings and lists accepted. An inventory needs about 6 levels, overlayd.yaml 5; the bound keeps
    /// a hostile file (tens of thousands of '[') from overflowing the stack, which no handler can catch.
    /// </summary>
    public const int MaxDepth = 64;

    private sealed class TooDeepException(Mark at) : Exception
    {
        public Mark At { get; } = at;
    }

    /// <summary>Reads the first document. Never throws for any input: a failure is returned in <see cref="YamlDocument.Error"/>.</summary>
    /// <param name="readFollowingDocuments">
    /// Also read the documents after the first (their syntax errors are errors; the nodes are dropped); otherwise
    /// reading stops at the second '---'.
    /// </param>
    public static YamlDocument Load(string text, string file, bool readFollowingDocuments = false)
    {
        var parser = new Parser(new StringReader(text));
        var state = new LoadState(file);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
                return new YamlDocument();
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, state, 0);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<DocumentStart>(out var second))
                return new YamlDocument { Root = root };
            var secondAt = At(file, second.Start);
            if (!readFollowingDocuments)
                return new YamlDocument { Root = root, SecondDocument = secondAt };
            SourceLocation? secondRoot = null;
            while (parser.TryConsume<DocumentStart>(out _))
            {
                secondRoot ??= At(file, parser.Current!.Start);
                state.Anchors.Clear(); // an alias never reaches into another document
                ReadNode(parser, state, 0);
                parser.Consume<DocumentEnd>();
            }
            return new YamlDocument { Root = root, SecondDocument = secondAt, SecondRoot = secondRoot };
        }
        catch (TooDeepException e)
        {
            return Failed(YamlLoadFailure.TooDeep, At(file, e.At), "", null);
        }
        catch (YamlException e)
        {
            return Failed(YamlLoadFailure.Syntax, At(file, e.Start), e.Message, null);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner fails this way (without a position) on some malformed flow collections.
            return Failed(YamlLoadFailure.ScannerFailed, state.Last, e.Message, state.OpenFlows.Count > 0 ? state.OpenFlows.Peek() : null);
        }
        catch (ArgumentException e)
        {
            // YamlDotNet refuses some tags this way ("Global tags must be valid URIs"), without a position (found by the
            // long fuzz run of the inventory reader).
            return Failed(YamlLoadFailure.InvalidTag, state.Last, e.Message, null);
        }
    }

    private static YamlDocument Failed(YamlLoadFailure failure, SourceLocation at, string raw, (SourceLocation, char)? unclosed) =>
        new() { Error = new YamlLoadError(failure, at, Clean(raw), raw, unclosed) };

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
