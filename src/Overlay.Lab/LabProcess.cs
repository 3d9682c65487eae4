using System.Diagnostics;
using Overlay.Linux.Interop;
using Tmds.Linux;

namespace Overlay.Lab;

/// <summary>How a long-running process in a node is started; kept so the lab can restart it.</summary>
public sealed record LabProcessSpec(string Name, string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A process running in a node's namespace, started as "ip netns exec NS setsid PROGRAM ARGS" (ip and
/// setsid both exec, so <see cref="Pid"/> is the program itself). Its stdout/stderr go to <see cref="OutputPath"/>.
/// </summary>
public sealed class LabProcess : IDisposable
{
    public const int SIGTERM = 15;
    public const int SIGKILL = 9;
    public const int SIGHUP = 1;

    private readonly Process _process;
    private readonly StreamWriter _output;
    private readonly Lock _outputLock = new();
    private bool _outputClosed;

    private LabProcess(LabNode node, LabProcessSpec spec, Process process, StreamWriter output, string outputPath)
    {
        Node = node; Spec = spec; _process = process; _output = output; OutputPath = outputPath;
        Pid = process.Id;
        StartedAt = DateTimeOffset.UtcNow;
    }

    public LabNode Node { get; }
    public LabProcessSpec Spec { get; }
    public string Name => Spec.Name;
    public int Pid { get; }
    public DateTimeOffset StartedAt { get; }
    public string OutputPath { get; }
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    internal static LabProcess Start(LabNode node, LabProcessSpec spec, string outputPath)
    {
        var psi = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["netns", "exec", node.Namespace, "setsid", spec.FileName, .. spec.Arguments]) psi.ArgumentList.Add(a);
        foreach (var (k, v) in spec.Environment) psi.Environment[k] = v;
        var output = new StreamWriter(new FileStream(outputPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new LabException($"could not start {spec.Name} in {node.Namespace}");
        }
        catch
        {
            output.Dispose();
            throw;
        }
        var lp = new LabProcess(node, spec, process, output, outputPath);
        process.OutputDataReceived += (_, e) => lp.Append(e.Data);
        process.ErrorDataReceived += (_, e) => lp.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lp;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_outputLock)
        {
            if (!_outputClosed) _output.WriteLine(line);
        }
    }

    /// <summary>Sends a signal (SIGKILL, SIGTERM, …). A process that is already gone is not an error.</summary>
    public void Signal(int signal)
    {
        if (_process.HasExited) return;
        if (LibC.kill(Pid, signal) != 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != LibC.ESRCH)
            throw LinuxException.FromLastError($"kill -{signal}", $"{Name} (pid {Pid}) in {Node.Namespace}");
    }

    public void Kill() => Signal(SIGKILL);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stops the process (SIGTERM, then SIGKILL after <paramref name="grace"/>) and waits for it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Signal(SIGTERM);
        if (await WaitForExitAsync(grace).ConfigureAwait(false)) return;
        Signal(SIGKILL);
        await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    public void Dispose()
    {
        try { Signal(SIGKILL); } catch (IOException) { }
        _process.WaitForExit(5000);
        lock (_outputLock)
        {
            _outputClosed = true;
            _output.Dispose();
        }
        _process.Dispose();
    }

    public override string ToString() => $"{Name}@{Node.Name} (pid {Pid})";
}
