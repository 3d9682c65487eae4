using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Overlay.Remote.Rotation;
using Overlay.Remote.Shell;

namespace Overlay.Remote.Tests;

/// <summary>
/// The SSH backend against a real sshd this test starts on 127.0.0.1 (throwaway host and client keys, key login
/// only): what crosses ssh arrives intact, exit codes come back, a dead server is a <see cref="NodeShellException"/>,
/// and the host agent's file write lands 0600 through it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SshNodeShellLiveTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("overlay-sshd-").FullName;
    private Process? _sshd;
    private int _port;

    public void Dispose()
    {
        if (_sshd is { HasExited: false }) { _sshd.Kill(entireProcessTree: true); _sshd.WaitForExit(5000); }
        _sshd?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static void SkipUnlessAvailable()
    {
        Skip.IfNot(Environment.UserName == "root", "needs root: sshd must run as root to accept a root login");
        Skip.IfNot(File.Exists("/usr/sbin/sshd"), "no /usr/sbin/sshd (scripts/test-deps.sh installs openssh-server)");
        Skip.IfNot(File.Exists("/usr/bin/ssh"), "no /usr/bin/ssh (openssh-client)");
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {p.ExitCode}: {err}");
    }

    private SshNodeShell StartServer()
    {
        string hostKey = Path.Combine(_dir, "host_ed25519"), clientKey = Path.Combine(_dir, "client_ed25519");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey);
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", clientKey);
        File.Copy(clientKey + ".pub", Path.Combine(_dir, "authorized_keys"));
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); _port = ((IPEndPoint)l.LocalEndpoint).Port; }
        string config = Path.Combine(_dir, "sshd_config");
        File.WriteAllText(config, $"""
            Port {_port}
            ListenAddress 127.0.0.1
            HostKey {hostKey}
            PidFile {Path.Combine(_dir, "sshd.pid")}
            AuthorizedKeysFile {Path.Combine(_dir, "authorized_keys")}
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no

            """);
        Directory.CreateDirectory("/run/sshd");   // sshd's privilege-separation directory; the package's service would make it
        _sshd = Process.Start(new ProcessStartInfo("/usr/sbin/sshd", ["-D", "-e", "-f", config]) { RedirectStandardError = true })!;
        _sshd.ErrorDataReceived += (_, _) => { };
        _sshd.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            Assert.False(_sshd.HasExited, $"sshd exited with {(_sshd.HasExited ? _sshd.ExitCode : 0)}");
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, _port); break; }
            catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(10); }
        }
        return Shell(_port, clientKey);
    }

    private SshNodeShell Shell(int port, string? key = null) => new(_ => "127.0.0.1", "root",
    [
        $"Port={port}", $"IdentityFile={key ?? Path.Combine(_dir, "client_ed25519")}", "IdentitiesOnly=yes",
        "StrictHostKeyChecking=no", $"UserKnownHostsFile={Path.Combine(_dir, "known_hosts")}", "LogLevel=ERROR",
    ]);

    [SkippableFact]
    public async Task Stdin_and_the_script_cross_ssh_intact_and_exit_codes_come_back()
    {
        SkipUnlessAvailable();
        var ssh = StartServer();

        const string hostile = "it's $(reboot) `id` \"q\" ; | & \\ * ~\nsecond line\n";
        var echo = await ssh.RunAsync("hub1", "cat; printf '%s' \"$0\"", hostile, Timeout, default);
        Assert.Equal(0, echo.ExitCode);
        Assert.Equal(hostile + "sh", echo.StdOut);

        var script = await ssh.RunAsync("hub1", "printf '%s|' 'a b' \"it's\" '$HOME'; exit 7", null, Timeout, default);
        Assert.Equal(7, script.ExitCode);
        Assert.Equal("a b|it's|$HOME|", script.StdOut);
    }

    [SkippableFact]
    public async Task Host_agent_writes_a_wg_quick_file_0600_over_ssh()
    {
        SkipUnlessAvailable();
        var ssh = StartServer();
        string wgDir = Path.Combine(_dir, "wireguard-{node}");
        var agent = new HostRotationAgent(ssh, new HostRotationOptions { WireGuardDirectory = wgDir });
        string[] file = ["[Interface]", "Address = 10.255.0.0/31", "PostUp = wg set %i private-key /etc/wireguard/private.key.new"];

        await agent.WriteInterfaceAsync("hub1", "wr-h1-s1", file, default);

        string path = Path.Combine(_dir, "wireguard-hub1", "wr-h1-s1.conf");
        Assert.Equal(string.Join('\n', file) + "\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [SkippableFact]
    public async Task A_node_whose_sshd_is_gone_is_a_node_shell_error_naming_it()
    {
        SkipUnlessAvailable();
        var ssh = StartServer();
        _sshd!.Kill(entireProcessTree: true);
        await _sshd.WaitForExitAsync();

        var e = await Assert.ThrowsAsync<NodeShellException>(() => ssh.RunAsync("hub1", "true", null, Timeout, default));
        Assert.Contains("hub1", e.Message);
        Assert.Contains("Connection refused", e.Message);
    }
}
