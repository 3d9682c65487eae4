using System.Text.RegularExpressions;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Source;

/// <summary>
/// One model of each thing: a type name is declared once across src/ (partial declarations of one type count once),
/// and no type shares the name of the namespace it lives in (which forces <c>using X = …</c> aliases on its users).
/// A source scan rather than reflection, so it covers every project without referencing them all.
/// </summary>
public sealed partial class TypeNameTests
{
    [Fact]
    public void No_type_name_is_declared_twice_in_src()
    {
        var duplicates = DuplicateTypeNames(Declarations(Path.Combine(RepoPaths.Root, "src")));
        Assert.True(duplicates.Count == 0, "type names declared more than once in src/ (give each thing one definition, or distinct names if they differ):\n"
            + string.Join("\n", duplicates));
    }

    [Fact]
    public void No_type_is_named_like_its_namespace()
    {
        var clashes = Declarations(Path.Combine(RepoPaths.Root, "src"))
            .Where(d => d.Namespace.Split('.')[^1] == d.Name)
            .Select(d => $"{d.Namespace}.{d.Name} ({d.File}:{d.Line})")
            .Distinct()
            .ToList();
        Assert.True(clashes.Count == 0, "types named like their namespace:\n" + string.Join("\n", clashes));
    }

    /// <summary>The check fails when it should: the same name in two namespaces is reported, partial halves of one type are not.</summary>
    [Fact]
    public void The_scan_reports_twins_and_ignores_partial_halves()
    {
        var root = Directory.CreateTempSubdirectory("typenames-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, "A.cs"), "namespace P.A;\npublic sealed record KernelRoute(int X);\npublic sealed partial class Twice { }\n");
            File.WriteAllText(Path.Combine(root.FullName, "B.cs"), "namespace P.B\n{\n    internal enum KernelRoute : byte { A }\n}\n");
            File.WriteAllText(Path.Combine(root.FullName, "C.cs"), "namespace P.A;\n// class Commented is not a declaration\ninternal sealed partial class Twice\n{\n    private readonly record struct Inner(int X);\n}\n");
            var duplicates = DuplicateTypeNames(Declarations(root.FullName));
            var twin = Assert.Single(duplicates);
            Assert.StartsWith("KernelRoute:", twin, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    internal sealed record Declaration(string Name, string Namespace, bool Partial, string File, int Line);

    internal static List<string> DuplicateTypeNames(IEnumerable<Declaration> declarations) =>
        declarations
            .GroupBy(d => d.Name, StringComparer.Ordinal)
            // Partial declarations of one type in one namespace are one type.
            .Select(g => (Name: g.Key, Types: g.GroupBy(d => d.Partial ? d.Namespace + "/partial" : d.File + ":" + d.Line).ToList()))
            .Where(g => g.Types.Count > 1)
            .Select(g => $"{g.Name}: " + string.Join(", ", g.Types.Select(t => $"{t.First().Namespace} ({t.First().File}:{t.First().Line})")))
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();

    internal static IEnumerable<Declaration> Declarations(string root)
    {
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin")) continue;
            string ns = "";
            int n = 0;
            foreach (var line in File.ReadLines(file))
            {
                n++;
                var nsMatch = NamespaceLine().Match(line);
                if (nsMatch.Success) { ns = nsMatch.Groups[1].Value; continue; }
                var m = TypeLine().Match(line);
                if (m.Success)
                    yield return new Declaration(m.Groups["name"].Value, ns, m.Groups["mods"].Value.Contains("partial", StringComparison.Ordinal), relative, n);
            }
        }
    }

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)\s*[;{]?\s*$")]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*(?:\[[^\]]*\]\s*)*(?<mods>(?:(?:public|internal|private|protected|file|static|sealed|abstract|readonly|partial|ref|unsafe|new)\s+)*)(?:record\s+struct|record\s+class|record|class|struct|enum|interface)\s+(?<name>[A-Z]\w*)")]
    private static partial Regex TypeLine();
}
