using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Inventories;

/// <summary>
/// Every file in BadInputs/ is a malformed inventory that starts with
/// <c># case: what is wrong (want CODE)</c> and then one <c># expect: LINE:COL CODE message | hint: ...</c>
/// line per diagnostic the parser must report: exactly those, in that order, and no inventory.
/// OVERLAY_UPDATE_GOLDEN=1 rewrites the expect lines from the parser (review the diff!).
/// </summary>
public class BadInputTests
{
    private const string ExpectPrefix = "# expect: ";

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(RepoPaths.BadInputs, "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void Corpus_has_at_least_60_cases() => Assert.True(Files().Count >= 60, $"only {Files().Count} bad inputs");

    [Theory]
    [MemberData(nameof(Files))]
    public void Bad_input_is_rejected_with_exact_diagnostics(string name)
    {
        string path = Path.Combine(RepoPaths.BadInputs, name);
        string text = File.ReadAllText(path);
        if (RepoPaths.UpdateGolden) text = RewriteExpectations(path, text, name);

        var lines = text.Split('\n');
        Assert.StartsWith("# case: ", lines[0]);
        var expected = lines.Skip(1).TakeWhile(l => l.StartsWith(ExpectPrefix, StringComparison.Ordinal)).Select(l => l[ExpectPrefix.Length..]).ToList();
        Assert.NotEmpty(expected);

        var result = InventoryParser.Parse(text, name);
        Assert.Null(result.Inventory);
        var actual = result.Diagnostics.Select(Format).ToList();
        Assert.True(expected.SequenceEqual(actual),
            $"{name}\nexpected:\n  {string.Join("\n  ", expected)}\nactual:\n  {string.Join("\n  ", actual)}");
        Assert.All(result.Diagnostics, d => Assert.Equal(name, d.File));

        // The case line names the code the file was written to provoke; it must be among those reported.
        string want = lines[0][(lines[0].LastIndexOf("(want ", StringComparison.Ordinal) + 6)..].TrimEnd(')');
        if (want != "*") Assert.Contains(want, result.Diagnostics.Select(d => d.Code));
        else Assert.True(result.Diagnostics.Select(d => d.Code).Distinct().Count() >= 3, "a combined case must report several kinds of error at once");
    }

    private static string Format(Diagnostic d) =>
        d.Hint is null ? $"{d.Line}:{d.Column} {d.Code} {d.Message}" : $"{d.Line}:{d.Column} {d.Code} {d.Message} | hint: {d.Hint}";

    private static string RewriteExpectations(string path, string text, string name)
    {
        var lines = text.Split('\n').ToList();
        string caseLine = lines[0];
        string body = string.Join('\n', lines.Skip(1).SkipWhile(l => l.StartsWith(ExpectPrefix, StringComparison.Ordinal)));
        // Expect lines shift the body down; iterate until the positions are stable.
        string current = caseLine + "\n" + body;
        for (int i = 0; i < 5; i++)
        {
            var diags = InventoryParser.Parse(current, name).Diagnostics;
            string next = caseLine + "\n" + string.Concat(diags.Select(d => ExpectPrefix + Format(d) + "\n")) + body;
            if (next == current) break;
            current = next;
        }
        File.WriteAllText(path, current);
        return current;
    }
}
