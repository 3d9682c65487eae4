using System.Diagnostics;
using System.Security.Cryptography;

namespace Overlay.Linux.Tests.WireGuard;

/// <summary>
/// Namespaces and wireguard-go devices for live tests, with names unique on the machine (other test runs
/// share /var/run/wireguard and the namespace list). Everything created is removed in Dispose.
/// </summary>
internal sealed class WireGuardLab : IDisposable
{
    public const string SocketDirectory = "/var/run/wireguard";
    private readonly List<string> _namespaces = [];
    private readonly List<(Process Process, string Name)> _devices = [];

    public WireGuardLab()
    {
        RunId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    }

    /// <summary>Six hex digits shared by every name this lab creates.</summary>
    public string RunId { get; }

    /// <summary>Why live tests cannot run here, or null when they can.</summary>
    public static string? WhyNotRunnable()
    {
        if (Environment.UserName != "root") return "needs root to create network namespaces";
        foreach (var tool in new[] { "wireguard-go", "wg", "ip" })
        {
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin").Split(':');
            if (!path.Any(dir => File.Exists(Path.Combine(dir, tool)))) return $"{tool} is not installed";
        }
        return null;
    }

    public string Namespace(string role)
    {
        string name = $"owgt-{RunId}-{role}";
        Run("ip", "netns", "add", name);
        _namespaces.Add(name);
        Run("ip", "-n", name, "link", "set", "lo", "up");
        return name;
    }

    /// <summary>Starts wireguard-go in <paramref name="ns"/> and waits for its UAPI socket.</summary>
    public string Device(string ns, string role)
    {
        string name = $"wgt{RunId}{role}";
        if (name.Length > 15) throw new ArgumentException("interface name too long", nameof(role));
        var psi = new ProcessStartInfo("ip", ["netns", "exec", ns, "wireguard-go", "-f", name])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("wireguard-go did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _devices.Add((process, name));
        string socket = Path.Combine(SocketDirectory, name + ".sock");
        Poll(() => File.Exists(socket), TimeSpan.FromSeconds(10), $"UAPI socket {socket}");
        return name;
    }

    /// <summary>A veth pair between two namespaces with the given addresses (CIDR), both up.</summary>
    public void Veth(string nsA, string addressA, string nsB, string addressB)
    {
        string a = $"vt{RunId}a", b = $"vt{RunId}b";
        Run("ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", "name", b, "netns", nsB);
        Run("ip", "-n", nsA, "addr", "add", addressA, "dev", a);
        Run("ip", "-n", nsB, "addr", "add", addressB, "dev", b);
        Run("ip", "-n", nsA, "link", "set", a, "up");
        Run("ip", "-n", nsB, "link", "set", b, "up");
    }

    public static string Run(string file, params string[] args) => RunWithInput(file, null, args);

    public static string RunWithInput(string file, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result.Trim()}");
        return stdout.Result;
    }

    public static bool TryRun(string file, params string[] args)
    {
        try { Run(file, args); return true; }
        catch (InvalidOperationException) { return false; }
    }

    public static void Poll(Func<bool> condition, TimeSpan deadline, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > deadline) throw new TimeoutException($"{what} not reached within {deadline.TotalSeconds:0} s");
            Thread.Sleep(20);
        }
    }

    public void Dispose()
    {
        foreach (var (process, name) in _devices)
        {
            try
            {
                if (!process.HasExited)
                {
                    // SIGTERM lets wireguard-go remove its socket and TUN; SIGKILL only if it hangs.
                    TryRun("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (!process.WaitForExit(3000)) process.Kill();
                    process.WaitForExit(3000);
                }
            }
            catch (InvalidOperationException) { }
            process.Dispose();
            string socket = Path.Combine(SocketDirectory, name + ".sock");
            if (File.Exists(socket)) File.Delete(socket);
        }
        foreach (var ns in _namespaces) TryRun("ip", "netns", "del", ns);
    }
}
