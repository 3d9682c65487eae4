using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests;

public sealed class RotateApplyCommandTests
{
    private static readonly string Example = Path.Combine(Root(), "examples", "hub-spoke.yaml");
    private const string NewKey = "uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=";

    private static (int Code, string Out, string Err) Run(string node, string? key, string local, string? inventory = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = RotateApplyCommand.Apply(inventory ?? Example, node, key, local, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void On_the_node_it_refuses_and_names_every_node_it_would_touch_and_what_is_missing()
    {
        var (code, stdout, stderr) = Run("spoke1", NewKey, "spoke1");

        Assert.Equal(RotateApplyCommand.Refused, code);
        Assert.Equal("", stdout);
        Assert.Contains("refused: nothing was changed", stderr);
        Assert.Contains("spoke1 (this machine): 22 change(s), 21 check(s)", stderr);
        Assert.Contains("  hub1: 7 change(s), 7 check(s)", stderr);
        Assert.Contains("  spoke2: 7 change(s), 7 check(s)", stderr);
        Assert.Contains("a transport to run changes and read WireGuard/FRR state on 'hub1', 'hub2', 'spoke2'", stderr);
        Assert.Contains("a host agent for this machine", stderr);
    }

    [Fact]
    public void Elsewhere_it_refuses_and_says_where_to_run_it()
    {
        Assert.Contains("run it on 'spoke1' (this machine is 'hub1')", Run("spoke1", NewKey, "hub1").Err);
        var (code, _, stderr) = Run("spoke1", NewKey, "laptop");
        Assert.Equal(RotateApplyCommand.Refused, code);
        Assert.Contains("this machine ('laptop') is not a node of", stderr);
    }

    [Fact]
    public void Bad_input_exits_2_before_any_refusal()
    {
        var missing = Run("spoke1", null, "spoke1");
        Assert.Equal(RotateApplyCommand.BadInput, missing.Code);
        Assert.Contains("--new-public-key is required", missing.Err);

        var malformed = Run("spoke1", "not-a-key", "spoke1");
        Assert.Equal(RotateApplyCommand.BadInput, malformed.Code);
        Assert.StartsWith("--new-public-key: error:", malformed.Err);

        var unknown = Run("spoke9", NewKey, "spoke1");
        Assert.Equal(RotateApplyCommand.BadInput, unknown.Code);
        Assert.Contains("no node 'spoke9'", unknown.Err);
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln above " + AppContext.BaseDirectory);
    }
}
