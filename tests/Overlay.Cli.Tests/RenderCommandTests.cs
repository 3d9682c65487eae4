using System.Text.Json;
using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests;

public sealed class RenderCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlayctl-render-").FullName;
    private static readonly string Example = Path.Combine(FindRoot(), "examples", "hub-spoke.yaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(string inventory, string outDir, string? node = null, bool check = false, bool json = false)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = RenderCommand.Run(inventory, outDir, node, check, json, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Renders_then_check_reports_no_drift()
    {
        string outDir = Path.Combine(_dir, "out");
        Assert.Equal(RenderCommand.Ok, Run(Example, outDir).Code);
        Assert.True(File.Exists(Path.Combine(outDir, "hub1", "frr", "frr.conf")));
        Assert.True(File.Exists(Path.Combine(outDir, "spoke4", "wireguard", "wg-s4-h2.conf")));
        var (code, stdout, _) = Run(Example, outDir, check: true);
        Assert.Equal(RenderCommand.Ok, code);
        Assert.Contains("up to date", stdout);
        Assert.Equal(["out"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName)); // no staging leftovers
    }

    [Fact]
    public void Check_lists_changed_missing_and_extra_files_and_exits_1()
    {
        string outDir = Path.Combine(_dir, "out");
        Run(Example, outDir);
        File.AppendAllText(Path.Combine(outDir, "hub1", "frr", "frr.conf"), "! hand edit\n");
        File.Delete(Path.Combine(outDir, "hub2", "overlayd.yaml"));
        File.WriteAllText(Path.Combine(outDir, "spoke1", "wireguard", "wg-old.conf"), "");
        var (code, stdout, _) = Run(Example, outDir, check: true);
        Assert.Equal(RenderCommand.Drift, code);
        Assert.Equal(["changed: hub1/frr/frr.conf", "missing: hub2/overlayd.yaml", "extra: spoke1/wireguard/wg-old.conf"],
            stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // Rendering again replaces each node folder as a whole.
        Assert.Equal(RenderCommand.Ok, Run(Example, outDir).Code);
        Assert.Equal(RenderCommand.Ok, Run(Example, outDir, check: true).Code);
        Assert.False(File.Exists(Path.Combine(outDir, "spoke1", "wireguard", "wg-old.conf")));
    }

    [Fact]
    public void Json_output_lists_files_and_drift()
    {
        string outDir = Path.Combine(_dir, "out");
        var (code, stdout, _) = Run(Example, outDir, node: "hub1", json: true);
        Assert.Equal(RenderCommand.Ok, code);
        using var doc = JsonDocument.Parse(stdout);
        var files = doc.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(8, files.Count); // frr.conf, overlayd.yaml, sysctl.d/60-overlay.conf, five WireGuard files
        Assert.All(files, f => Assert.Equal("written", f.GetProperty("status").GetString()));
        Assert.False(Directory.Exists(Path.Combine(outDir, "hub2")));

        var check = Run(Example, outDir, check: true, json: true);
        using var checkDoc = JsonDocument.Parse(check.Out);
        Assert.True(checkDoc.RootElement.GetProperty("drift").GetBoolean());
        Assert.Equal(RenderCommand.Drift, check.Code);
    }

    [Fact]
    public void Errors_print_file_line_col_exit_2_and_write_nothing()
    {
        string bad = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(bad, File.ReadAllText(Example).Replace("id: 12,", "id: twelve,").Replace("10.1.3.0/24", "10.1.3.1/24"));
        string outDir = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = Run(bad, outDir);
        Assert.Equal(RenderCommand.Failed, code);
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"{bad}:9:", lines[0]);
        Assert.Contains(": error INV003: id must be an integer, got 'twelve' (", lines[0]);
        Assert.Contains(": error INV007: subnets: '10.1.3.1/24' has host bits set", lines[1]);
        Assert.False(Directory.Exists(outDir));
        Assert.Equal(["bad.yaml"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Unknown_node_and_missing_file_exit_2()
    {
        Assert.Equal(RenderCommand.Failed, Run(Example, Path.Combine(_dir, "o"), node: "nobody").Code);
        var (code, _, stderr) = Run(Path.Combine(_dir, "missing.yaml"), Path.Combine(_dir, "o"));
        Assert.Equal(RenderCommand.Failed, code);
        Assert.Contains("INV026", stderr);
    }

    [Theory]
    [InlineData("render inv.yaml", true)]                       // -o is required
    [InlineData("render inv.yaml -o out --output yaml", true)]  // text or json only
    [InlineData("render inv.yaml -o out --output json --check --node a", false)]
    [InlineData("render inv.yaml --out out", false)]
    public void Command_line_is_validated(string line, bool hasErrors)
    {
        var root = new System.CommandLine.RootCommand { RenderCommand.Create() };
        Assert.Equal(hasErrors, root.Parse(line).Errors.Count > 0);
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln");
    }
}

public sealed class RenderLintTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlayctl-renderlint-").FullName;
    private static readonly string Example = Path.Combine(RenderCommandTests.FindRoot(), "examples", "hub-spoke.yaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Variant(string from, string to)
    {
        string text = File.ReadAllText(Example);
        Assert.Contains(from, text);
        string path = Path.Combine(_dir, "inv.yaml");
        File.WriteAllText(path, text.Replace(from, to));
        return path;
    }

    private static (int Code, string Out, string Err) Run(string inventory, string outDir, bool json = false)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = RenderCommand.Run(inventory, outDir, null, false, json, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Lint_errors_exit_2_and_write_nothing()
    {
        // Without 224.0.0.5 in the gate no OSPF hello gets through: the inventory parses, lint rejects it.
        string inv = Variant("gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]", "gate: [10.0.0.0/8, 224.0.0.6/32]");
        string outDir = Path.Combine(_dir, "out");

        var (code, stdout, stderr) = Run(inv, outDir);

        Assert.Equal(RenderCommand.Failed, code);
        Assert.Equal("", stdout);
        Assert.Contains($"{inv}:", stderr);
        Assert.Contains(": error OVL008: ", stderr);
        Assert.False(Directory.Exists(outDir));

        var asJson = Run(inv, outDir, json: true);
        Assert.Equal(RenderCommand.Failed, asJson.Code);
        using var doc = JsonDocument.Parse(asJson.Out);
        Assert.Contains(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("code").GetString() == "OVL008");
        Assert.Empty(doc.RootElement.GetProperty("files").EnumerateArray());
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Lint_warnings_are_printed_and_the_render_goes_ahead()
    {
        // Equal hub costs: spokes split traffic (OVL009, a warning).
        string inv = Variant("secondary: { node: hub2, cost: 100 }", "secondary: { node: hub2, cost: 10 }");
        string outDir = Path.Combine(_dir, "out");

        var (code, stdout, stderr) = Run(inv, outDir);

        Assert.Equal(RenderCommand.Ok, code);
        Assert.Contains(": warning OVL009: ", stderr);
        Assert.DoesNotContain(": error ", stderr);
        Assert.StartsWith("wrote ", stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "hub1", "frr", "frr.conf")));

        var asJson = Run(inv, Path.Combine(_dir, "out2"), json: true);
        using var doc = JsonDocument.Parse(asJson.Out);
        Assert.Contains(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("code").GetString() == "OVL009");
    }

    [Fact]
    public void Render_and_lint_write_diagnostics_json_the_same_way()
    {
        string missing = Path.Combine(_dir, "missing.yaml");
        const string Diagnostics = """
            {
              "diagnostics": [
                {
                  "code": "INV026",
                  "severity": "error",
                  "file": "PATH",
                  "line": 0,
                  "column": 0,
                  "message": "inventory file not found",
                  "hint": "check the path"
                }
              ],
            """;
        string head = Diagnostics.Replace("PATH", missing);

        var render = Run(missing, Path.Combine(_dir, "out"), json: true);
        Assert.Equal(head + "\n  \"files\": []\n}\n", render.Out);

        var stdout = new StringWriter();
        Assert.Equal(LintCommand.Errors, LintCommand.Run(missing, [], null, json: true, stdout, new StringWriter()));
        Assert.Equal(head + "\n  \"summary\": {\n    \"errors\": 1,\n    \"warnings\": 0,\n    \"info\": 0\n  }\n}\n", stdout.ToString());
    }
}
