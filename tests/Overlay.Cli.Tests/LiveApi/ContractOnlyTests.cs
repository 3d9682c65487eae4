using System.Text.RegularExpressions;

namespace Overlay.Cli.Tests.LiveApi;

/// <summary>
/// overlayctl reads the daemon's answers only as the contract's records (Overlay.Core.Api), never by property names
/// from a parsed document: a source that does fails here, naming the line. (Reflection-based serialization is caught
/// by the NativeAOT publish, whose trim/AOT warnings are errors.)
/// </summary>
public sealed class ContractOnlyTests
{
    private static readonly Regex ByName = new(@"\bJsonDocument\b|\bJsonElement\b|\bJsonNode\b|\.GetProperty\(|\.TryGetProperty\(", RegexOptions.Compiled);

    [Fact]
    public void Overlayctl_reads_no_JSON_by_property_name()
    {
        string root = Root();
        var findings = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src", "Overlay.Cli"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains("/obj/", StringComparison.Ordinal) || file.Contains("/bin/", StringComparison.Ordinal)) continue;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (ByName.IsMatch(lines[i]))
                    findings.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {lines[i].Trim()}");
        }
        Assert.True(findings.Count == 0, "read the control API through Overlay.Core.Api's records and ControlApiJson:\n" + string.Join('\n', findings));
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln above " + AppContext.BaseDirectory);
    }
}
