using System.Diagnostics;

namespace Overlay.Daemon.Tests;

/// <summary>The overlayd executable's contract with its operator: exit codes and error output.</summary>
public sealed class ProgramTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ovl-prog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "overlayd.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "overlayd did not exit");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Bad_config_prints_every_error_and_exits_2()
    {
        var path = Path.Combine(_dir, "overlayd.yaml");
        File.WriteAllText(path, "node: n1\nmetrics:\n  listen: 0.0.0.0:9474\npolicies:\n  default:\n    rise: 0\n    bogus: 1\n");
        var (code, _, err) = Run("--config", path);
        Assert.Equal(2, code);
        Assert.Contains($"{path}:3:11: error CFG014: metrics.listen:", err);
        Assert.Contains($"{path}:6:11: error CFG008: policies.default.rise:", err);
        Assert.Contains($"{path}:7:5: error CFG002: policies.default.bogus: unknown key", err);
        Assert.Contains("3 error(s)", err);
    }

    [Fact]
    public void Check_mode_validates_without_starting()
    {
        var path = Path.Combine(_dir, "overlayd.yaml");
        File.WriteAllText(path, "node: n1\n");
        var (code, stdout, _) = Run("--config", path, "--check");
        Assert.Equal(0, code);
        Assert.Contains("ok", stdout);
    }

    [Fact]
    public void Logs_are_json_lines_when_stdout_is_not_a_terminal()
    {
        var path = Path.Combine(_dir, "overlayd.yaml");
        var socket = Path.Combine(_dir, "overlayd.sock");
        File.WriteAllText(path, $"node: n1\napi:\n  socket: {socket}\n");
        // Another live daemon serves the control socket: a clean start failure, said in a JSON log line.
        using var other = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        other.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
        other.Listen();
        var (code, stdout, _) = Run("--config", path);
        Assert.Equal(1, code);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(l => l.Contains("cannot start"));
        var json = System.Text.Json.JsonDocument.Parse(line).RootElement;
        Assert.Equal("Fatal", json.GetProperty("Level").GetString());
        Assert.Contains("another process is serving", json.GetProperty("RenderedMessage").GetString());
        Assert.False(json.TryGetProperty("Exception", out _), "an expected refusal is said in one line, without a stack trace");
    }

    [Fact]
    public void Missing_config_argument_is_a_usage_error() => Assert.Equal(64, Run().Code);
}
