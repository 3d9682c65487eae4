using System.Text.Json;
using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests.Lint;

/// <summary>Exit codes and output shapes of 'overlayctl lint' and 'overlayctl rotate plan', on temporary files.</summary>
public sealed class LintAndRotateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlay-lint-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Base = """
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        topology:
          type: hubAndSpoke
          primary: { node: hub1, cost: 10 }
          secondary: { node: hub2, cost: SECONDARY }
        nodes:
          - { name: hub1, id: 1, short: h1, role: hub, overlay: { v4: 10.0.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU= }
          - { name: hub2, id: 2, short: h2, role: hub, overlay: { v4: 10.0.0.2 }, endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= }
          - { name: spoke1, id: 11, short: s1, overlay: { v4: 10.0.1.1 }, subnets: [10.1.1.0/24], endpoint: 198.51.100.11:51820, publicKey: LWuSTXwiLXih8cOVSH6DO3T7QwGcBViRGMgoAa8+tUc= }
        """;

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Code, string Out, string Err) Lint(string path, bool json = false, string[]? peers = null)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = LintCommand.Run(path, peers ?? [], null, json, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Clean_inventory_exits_0()
    {
        var (code, stdout, _) = Lint(Write("ok.yaml", Base.Replace("SECONDARY", "100")));
        Assert.Equal((0, ""), (code, stdout));
    }

    [Fact]
    public void Warnings_exit_1_with_file_line_col()
    {
        string path = Write("warn.yaml", Base.Replace("SECONDARY", "10"));
        var (code, stdout, _) = Lint(path);
        Assert.Equal(1, code);
        Assert.Matches(@"^.*warn\.yaml:5:\d+: warning OVL009: primary hub 'hub1' and secondary hub 'hub2' both have cost 10; .* \(give the secondary a higher cost than 10\)\n$", stdout);
    }

    [Fact]
    public void Errors_exit_2_and_json_has_the_findings()
    {
        string path = Write("err.yaml", Base.Replace("SECONDARY", "100"));
        string conf = Write("wg0.conf", """
            [Interface]
            ListenPort = 51820
            [Peer]
            PublicKey = DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8=
            AllowedIPs = 10.0.0.0/8
            [Peer]
            PublicKey = LWuSTXwiLXih8cOVSH6DO3T7QwGcBViRGMgoAa8+tUc=
            AllowedIPs = 10.1.1.0/24
            """);
        var (code, stdout, _) = Lint(path, json: true, peers: [$"hub1={conf}"]);
        Assert.Equal(2, code);
        using var doc = JsonDocument.Parse(stdout);
        var codes = doc.RootElement.GetProperty("diagnostics").EnumerateArray().Select(d => d.GetProperty("code").GetString()).ToList();
        Assert.Contains("OVL001", codes);
        var first = doc.RootElement.GetProperty("diagnostics").EnumerateArray().First(d => d.GetProperty("code").GetString() == "OVL001");
        Assert.Equal((8, 14), (first.GetProperty("line").GetInt32(), first.GetProperty("column").GetInt32()));
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("errors").GetInt32() >= 1);
    }

    [Fact]
    public void Unparseable_inventory_exits_2()
    {
        var (code, stdout, _) = Lint(Write("bad.yaml", "nodes: [\n"));
        Assert.Equal(2, code);
        Assert.Contains("error INV", stdout);
    }

    [Fact]
    public void Rotate_plan_prints_text_and_json()
    {
        string path = Write("ok.yaml", Base.Replace("SECONDARY", "100"));
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, RotateCommand.Plan(path, "spoke1", null, json: false, o, e));
        Assert.Contains("Phase 5:", o.ToString());
        Assert.Contains("exactly one", o.ToString());

        o = new StringWriter();
        Assert.Equal(0, RotateCommand.Plan(path, "spoke1", "LWuSTXwiLXih8cOVSH6DO3T7QwGcBViRGMgoAa8+tUc=", json: true, o, e));
        using var doc = JsonDocument.Parse(o.ToString());
        var mbb = doc.RootElement.GetProperty("makeBeforeBreak");
        Assert.Equal("makeBeforeBreak", mbb.GetProperty("strategy").GetString());
        Assert.Equal(5, mbb.GetProperty("phases").GetArrayLength());
        Assert.Equal("writeInterface", mbb.GetProperty("phases")[0].GetProperty("changes")[1].GetProperty("kind").GetString());

        e = new StringWriter();
        Assert.Equal(2, RotateCommand.Plan(path, "nope", null, json: false, new StringWriter(), e));
        Assert.Contains("no node 'nope'", e.ToString());
        Assert.Equal(2, RotateCommand.Plan(path, "spoke1", "not-a-key", json: false, new StringWriter(), e));
    }
}
