using System.Text;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Render;

public class GoldenTests
{
    public static TheoryData<string> Examples => new() { "anycast-2dc", "anycast-wireguard", "hub-spoke", "mesh-40" };

    [Fact]
    public void Mesh40_example_is_the_generated_one()
    {
        string path = Path.Combine(RepoPaths.Examples, "mesh-40.yaml");
        string expected = Mesh40Generator.Generate();
        if (RepoPaths.UpdateGolden) File.WriteAllText(path, expected);
        Assert.Equal(expected, File.ReadAllText(path));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_renders_to_its_golden_folder(string example)
    {
        var files = RenderExample(example);
        string golden = Path.Combine(RepoPaths.Golden, example);
        if (RepoPaths.UpdateGolden)
        {
            if (Directory.Exists(golden)) Directory.Delete(golden, recursive: true);
            foreach (var f in files)
            {
                string p = Path.Combine(golden, f.RelativePath);
                Directory.CreateDirectory(Path.GetDirectoryName(p)!);
                File.WriteAllText(p, f.Content);
            }
        }

        var expected = Directory.Exists(golden)
            ? Directory.EnumerateFiles(golden, "*", SearchOption.AllDirectories)
                .ToDictionary(p => Path.GetRelativePath(golden, p).Replace('\\', '/'), File.ReadAllText)
            : [];
        var report = new StringBuilder();
        foreach (var f in files)
        {
            if (!expected.TryGetValue(f.RelativePath, out var want)) report.Append($"new file not in golden: {f.RelativePath}\n");
            else if (want != f.Content) report.Append($"differs: {f.RelativePath}\n{FirstDifference(want, f.Content)}");
        }
        foreach (var missing in expected.Keys.Except(files.Select(f => f.RelativePath)).Order(StringComparer.Ordinal))
            report.Append($"golden file no longer rendered: {missing}\n");
        Assert.True(report.Length == 0, $"render of {example} drifted from {golden} (OVERLAY_UPDATE_GOLDEN=1 regenerates):\n{report}");
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Render_is_deterministic_and_clean(string example)
    {
        var first = RenderExample(example);
        var second = RenderExample(example);
        Assert.Equal(first, second);
        Assert.Equal(first.Select(f => f.RelativePath).Order(StringComparer.Ordinal), first.Select(f => f.RelativePath));
        foreach (var f in first)
        {
            Assert.DoesNotContain('\r', f.Content);
            Assert.EndsWith("\n", f.Content);
            Assert.DoesNotContain("PrivateKey =", f.Content);
        }
    }

    internal static IReadOnlyList<RenderedFile> RenderExample(string example)
    {
        string file = $"examples/{example}.yaml";
        var result = InventoryParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, file)), file);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return Renderer.Render(result.Inventory!);
    }

    private static string FirstDifference(string want, string got)
    {
        var a = want.Split('\n');
        var b = got.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string x = i < a.Length ? a[i] : "<end of file>";
            string y = i < b.Length ? b[i] : "<end of file>";
            if (x != y) return $"  line {i + 1}:\n  - golden:   {x}\n  + rendered: {y}\n";
        }
        return "";
    }
}
