using System.Diagnostics;

namespace Overlay.Daemon.Tests;

/// <summary>promtool (Debian package prometheus, installed by scripts/test-deps.sh): found on PATH, or the test skips.</summary>
internal static class Promtool
{
    public static string Find()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "promtool")).FirstOrDefault(File.Exists);
        Skip.If(path is null, "promtool is not installed (Debian package prometheus; scripts/test-deps.sh installs it as root)");
        return path!;
    }

    /// <returns>The exit code and stdout followed by stderr (also written to the test output).</returns>
    public static (int ExitCode, string Output) Run(ITestOutputHelper output, string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(Find(), args) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        string text = stdout.Result + stderr.Result;
        output.WriteLine($"$ promtool {string.Join(' ', args)}  (exit {p.ExitCode})\n{text}");
        return (p.ExitCode, text);
    }
}
