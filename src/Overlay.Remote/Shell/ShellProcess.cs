using System.ComponentModel;
using System.Diagnostics;

namespace Overlay.Remote.Shell;

/// <summary>One local process with captured output, optional stdin and a deadline; the tree is killed when it passes.</summary>
internal static class ShellProcess
{
    public static async Task<ShellResult> RunAsync(string what, IReadOnlyList<string> argv, string? stdin, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new NodeShellException($"{what}: could not start {argv[0]}");
        }
        catch (Win32Exception e)
        {
            throw new NodeShellException($"{what}: could not start '{argv[0]}': {e.Message}", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                // Always close stdin: a script that reads it (cat, read) must see EOF, and ssh must not wait for a terminal.
                if (stdin is not null) await p.StandardInput.WriteAsync(stdin.AsMemory(), ct).ConfigureAwait(false);
                p.StandardInput.Close();
            }
            catch (IOException) { }   // the process exited before reading; its exit code says why
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                ct.ThrowIfCancellationRequested();
                throw new NodeShellException($"{what}: no answer within {timeout.TotalSeconds:0.#} s");
            }
            return new ShellResult(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }
}
