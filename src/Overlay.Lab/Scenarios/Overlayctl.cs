using System.Diagnostics;

namespace Overlay.Lab.Scenarios;

/// <summary>One overlayctl run: exit code, output and the process's wall time (runtime start included).</summary>
public sealed record OverlayctlResult(int Code, string StdOut, string StdErr, TimeSpan Took);

/// <summary>The real overlayctl, run as an operator runs it ("dotnet overlayctl.dll ARGS", or the NativeAOT overlayctl when
/// $OVERLAYCTL_DLL names it; a process per call, no colours).</summary>
public static class Overlayctl
{
    public const string EnvironmentVariable = "OVERLAYCTL_DLL";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>overlayctl.dll or a native overlayctl: $OVERLAYCTL_DLL, else beside this assembly, else the newest build under src/Overlay.Cli/bin.</summary>
    public static string? Find() => BuiltDll.Find(EnvironmentVariable, "overlayctl.dll", "Overlay.Cli");

    public static string Require() => Find() ?? throw new LabException(
        $"overlayctl.dll not found: build src/Overlay.Cli (dotnet build src/Overlay.Cli) or set {EnvironmentVariable} (a .dll, or the NativeAOT overlayctl from scripts/publish.sh)");

    /// <summary>Runs overlayctl with <paramref name="args"/> in this process's namespace (the control socket is a file, reachable from here).</summary>
    public static async Task<OverlayctlResult> RunAsync(string dll, IEnumerable<string> args, CancellationToken ct = default)
    {
        var (file, arguments) = BuiltDll.Command(dll, args);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new LabException($"could not start overlayctl ({dll})");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            if (ct.IsCancellationRequested) throw;
            throw new TimeoutException($"overlayctl {string.Join(' ', args)}: no exit within {Timeout.TotalSeconds:0} s");
        }
        var took = sw.Elapsed;
        return new OverlayctlResult(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), took);
    }
}
