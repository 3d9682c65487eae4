using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Overlay.Frr.Tests.Support;

/// <summary>
/// Test-only namespace helpers: run `ip`, and open a TCP socket inside a named network namespace
/// (the lab's NetNamespace: setns on a dedicated thread; the socket then works from any thread).
/// </summary>
internal static class TestNetns
{
    public static bool IsRoot => Environment.UserName == "root" || Tmds.Linux.LibC.geteuid() == 0u;


    public static string NewId() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>A TCP stream opened inside the namespace (through the lab's Overlay.Linux NetNamespace).</summary>
    public static async Task<Stream> ConnectAsync(string ns, DnsEndPoint endPoint, CancellationToken cancellationToken) =>
        new NetworkStream(await Overlay.Lab.RunningLab.ConnectTcpAsync(ns, endPoint.Host, endPoint.Port, cancellationToken), ownsSocket: true);

    public static string Run(string file, params string[] args)
    {
        var (code, output) = TryRun(file, args);
        if (code != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {output}");
        return output;
    }

    public static (int Code, string Output) TryRun(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    public static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        T last = await probe();
        while (!done(last))
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds} s; last value: {last}");
            await Task.Delay(50);
            last = await probe();
        }
        return last;
    }
}
