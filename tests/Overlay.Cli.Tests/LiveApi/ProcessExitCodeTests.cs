using System.Diagnostics;

namespace Overlay.Cli.Tests.LiveApi;

/// <summary>The built overlayctl as a process: usage errors are exit 2, an absent daemon exit 3 (docs/cli.md).</summary>
public sealed class ProcessExitCodeTests
{
    private static (int Code, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "overlayctl.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "overlayctl did not finish");
        return (p.ExitCode, err.Result);
    }

    [Theory]
    [InlineData("explain")]
    [InlineData("status", "--bogus")]
    [InlineData("peers", "-o", "yaml")]
    [InlineData("explain", "10.0.0.0/8", "--socket", "/nonexistent/overlayd.sock")]
    public void Usage_errors_exit_2(params string[] args)
    {
        var (code, err) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("overlayctl", err);
    }

    [Fact]
    public void An_absent_daemon_exits_3_naming_the_socket()
    {
        string socket = $"/tmp/ovl-cli-absent-{Guid.NewGuid():N}.sock";
        var (code, err) = Run("vips", "--socket", socket);
        Assert.Equal(3, code);
        Assert.Contains(socket, err);
    }
}
