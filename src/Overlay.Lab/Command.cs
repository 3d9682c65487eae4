using System.Diagnostics;
using System.Text;

namespace Overlay.Lab;

/// <summary>What a finished command printed and returned.</summary>
public sealed record ExecResult(string Command, int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Returns this result, or throws one that names the command and shows its stderr.</summary>
    public ExecResult EnsureSuccess() => Succeeded ? this :
        throw new LabException($"'{Command}' exited with {ExitCode}: {(StdErr.Length > 0 ? StdErr.Trim() : StdOut.Trim())}");
}

public class LabException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A lab process died while the lab waited for it: waiting longer cannot help, so polls stop at once.</summary>
public sealed class LabProcessExitedException(LabProcess process, string whereToLook)
    : LabException($"{process} exited with {process.ExitCode}; see {whereToLook}")
{
    public LabProcess Process { get; } = process;
}

/// <summary>Short-lived commands (ip, wg, vtysh, ping) with captured output and a deadline.</summary>
internal static class Command
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<ExecResult> RunAsync(string fileName, IEnumerable<string> args, TimeSpan? timeout = null,
        string? stdin = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        string text = fileName + " " + string.Join(' ', psi.ArgumentList);
        using var p = Process.Start(psi) ?? throw new LabException($"could not start '{text}'");
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            p.StandardInput.Close();
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (ct.IsCancellationRequested) throw;
            throw new LabException($"'{text}' did not finish within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s");
        }
        return new ExecResult(text, p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public static ExecResult Run(string fileName, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null) =>
        RunAsync(fileName, args, timeout, stdin).GetAwaiter().GetResult();

    /// <summary>"ip netns exec NS sh -c COMMAND".</summary>
    public static Task<ExecResult> InNamespaceAsync(string ns, string shellCommand, TimeSpan? timeout = null, CancellationToken ct = default) =>
        RunAsync("ip", ["netns", "exec", ns, "sh", "-c", shellCommand], timeout, null, ct);

    internal static string Quote(IEnumerable<string> args)
    {
        var sb = new StringBuilder();
        foreach (var a in args)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(a.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"') ? "'" + a.Replace("'", "'\\''") + "'" : a);
        }
        return sb.ToString();
    }
}
