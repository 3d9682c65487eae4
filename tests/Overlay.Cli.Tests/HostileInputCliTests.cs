using System.Text;
using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests;

/// <summary>What an operator sees for hostile or broken input: a located error, exit 2, nothing written (docs/security.md).</summary>
public sealed class HostileInputCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlayctl-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Inventory = """
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        topology: { type: fullMesh }
        nodes:
          - { name: a, id: 1, overlay: { v4: 10.0.0.1 }, endpoint: 192.0.2.1:51820, publicKey: zgEpvOms+BORm9262kwY8cwr5HwwmF2JuDOWAqiPjnU=, keyFile: KEYFILE }
          - { name: b, id: 2, overlay: { v4: 10.0.0.2 }, endpoint: 192.0.2.2:51820, publicKey: DTmae5TACE54Gn6n6XrS/QR9D4be7THjmDaUiN+hOW8= }
        """;

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    private static (int Code, string Out, string Err) Lint(string path, string[]? peers = null)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = LintCommand.Run(path, peers ?? [], null, false, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void A_shell_command_in_a_key_path_is_refused_and_nothing_is_rendered()
    {
        string path = Write("inv.yaml", Inventory.Replace("KEYFILE", "\"/etc/overlay/k; touch /tmp/pwned\""));
        string outDir = Path.Combine(_dir, "out");
        var stderr = new StringWriter();
        Assert.Equal(RenderCommand.Failed, RenderCommand.Run(path, outDir, null, false, false, TextWriter.Null, stderr));
        Assert.Contains("inv.yaml:4:", stderr.ToString());
        Assert.Contains("error INV005: keyFile '/etc/overlay/k; touch /tmp/pwned' contains ';'", stderr.ToString());
        Assert.False(Directory.Exists(outDir));
        Assert.Equal(LintCommand.Errors, Lint(path).Code);
    }

    [Fact]
    public void Invalid_utf8_is_located_for_the_inventory_and_for_peer_lists()
    {
        var bytes = Encoding.UTF8.GetBytes(Inventory.Replace("KEYFILE", "/etc/overlay/k")).ToList();
        bytes.InsertRange(bytes.IndexOf((byte)'g') + "gate: [".Length, new byte[] { 0xC3, 0x28 });
        var (code, stdout, _) = Lint(Write("inv.yaml", bytes.ToArray()));
        Assert.Equal(LintCommand.Errors, code);
        Assert.Contains("inv.yaml:1:8: error INV029: invalid UTF-8", stdout);

        string good = Write("good.yaml", Inventory.Replace("KEYFILE", "/etc/overlay/k"));
        string peers = Write("wg0.conf", [.. "[Interface]\nListenPort = 1\n# "u8, 0xFF, .. "\n"u8]);
        (code, stdout, _) = Lint(good, [$"a={peers}"]);
        Assert.Equal(LintCommand.Errors, code);
        Assert.Contains("wg0.conf:3:3: error CLI004: invalid UTF-8", stdout);
    }

    [Fact]
    public void Deep_nesting_is_an_error_with_exit_2_not_a_crash()
    {
        var (code, stdout, _) = Lint(Write("deep.yaml", "gate: " + new string('[', 100_000) + new string(']', 100_000) + "\n"));
        Assert.Equal(LintCommand.Errors, code);
        Assert.Contains("error INV030", stdout);
    }

    [Theory]
    [InlineData("010.0.1.2")]
    [InlineData("10.1")]
    [InlineData("0x0a.0.0.1")]
    public async Task Explain_refuses_ambiguous_addresses_before_asking_the_daemon(string destination)
    {
        var err = new StringWriter();
        int code = await ExplainCommand.RunAsync(Path.Combine(_dir, "no.sock"), false, destination, new Live.Io(TextWriter.Null, err, false), default);
        Assert.Equal(Live.Usage, code);
        Assert.Contains("is not an IP address", err.ToString());
    }
}
