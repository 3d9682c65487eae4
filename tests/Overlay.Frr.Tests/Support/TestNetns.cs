using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Overlay.Frr.Tests.Support;

/// <summary>
/// Test-only namespace helpers: run `ip`, and open a TCP socket inside a named network namespace
/// (setns on a throw-away thread; the connected socket then works from any thread).
/// Production code will use Overlay.Linux's namespace support instead.
/// </summary>
internal static partial class TestNetns
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    public static bool IsRoot => Environment.UserName == "root" || geteuid() == 0;

    [LibraryImport("libc")]
    private static partial uint geteuid();

    public static string NewId() => Guid.NewGuid().ToString("N")[..8];

    public static Task<Stream> ConnectAsync(string ns, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var result = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{ns}");
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns into network namespace {ns}");
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Connect(IPAddress.Parse(endPoint.Host), endPoint.Port);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                result.SetResult(new NetworkStream(socket, ownsSocket: true));
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        { IsBackground = true, Name = "netns-connect " + ns };
        thread.Start();
        return result.Task.WaitAsync(cancellationToken);
    }

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
