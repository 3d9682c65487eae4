using System.Diagnostics;
using Overlay.Linux.Namespaces;

namespace Overlay.Linux.Tests.Support;

/// <summary>
/// A network namespace created for one test with a machine-unique name (other helpers' tests run
/// concurrently on this machine) and deleted on dispose, even after a failed test.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    public TestNamespace(string purpose = "t")
    {
        Name = $"ovl{purpose}-{Guid.NewGuid().ToString("N")[..8]}";
        Sh.Run("ip", "netns", "add", Name);
        Sh.Run("ip", "-n", Name, "link", "set", "lo", "up");
        Namespace = NetNamespace.Open(Name);
    }

    public string Name { get; }
    public NetNamespace Namespace { get; }

    /// <summary>Runs <c>ip -n NAME args…</c> and returns stdout; throws with stderr on failure.</summary>
    public string Ip(params string[] args) => Sh.Run("ip", ["-n", Name, .. args]);

    public void Dispose()
    {
        Namespace.Dispose();
        Sh.TryRun("ip", "netns", "del", Name);
    }
}

public static class Root
{
    public static bool IsRoot => Environment.UserName == "root" || Tmds.Linux.LibC.geteuid() == 0u;


    public const string SkipReason = "needs root (network namespaces, netlink writes); CI runs as root";
}

public static class Sh
{
    public static string Run(string file, params string[] args)
    {
        var (code, stdout, stderr) = Exec(file, args);
        if (code != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {stderr.Trim()}");
        return stdout;
    }

    public static bool TryRun(string file, params string[] args) => Exec(file, args).Code == 0;

    public static (int Code, string Stdout, string Stderr) Exec(string file, IEnumerable<string> args, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdoutTask.Result, stderr);
    }
}
