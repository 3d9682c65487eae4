using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Overlay.Core.Health;
using Overlay.Daemon.Hosting;

namespace Overlay.Daemon.Tests;

/// <summary>
/// The control socket's path (issue #13, item 9): overlayd removes only a stale socket there, refuses anything else
/// naming the path and the fix, and the socket is reachable only with its configured mode, whatever the umask.
/// </summary>
public sealed partial class ControlSocketTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonFixture _d = new(output);

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _d.DisposeAsync();

    private async Task<InvalidOperationException> RefusedAsync()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => _d.StartAsync());
        output.WriteLine(ex.Message);
        Assert.Contains(_d.SocketPath, ex.Message);
        Assert.Contains("not a stale socket", ex.Message);
        Assert.Contains("set api.socket to another path", ex.Message);
        return ex;
    }

    [Fact]
    public async Task A_regular_file_at_the_socket_path_is_refused_and_kept()
    {
        File.WriteAllText(_d.SocketPath, "operator's notes");
        var ex = await RefusedAsync();
        Assert.Contains("a regular file", ex.Message);
        Assert.Equal("operator's notes", File.ReadAllText(_d.SocketPath));
    }

    [Fact]
    public async Task A_directory_at_the_socket_path_is_refused_and_kept()
    {
        Directory.CreateDirectory(Path.Combine(_d.SocketPath, "inside"));
        var ex = await RefusedAsync();
        Assert.Contains("a directory", ex.Message);
        Assert.True(Directory.Exists(Path.Combine(_d.SocketPath, "inside")));
    }

    [SkippableFact]
    public async Task A_symlink_at_the_socket_path_is_refused_and_neither_it_nor_its_target_is_touched()
    {
        var target = Path.Combine(_d.Dir, "shadow");
        File.WriteAllText(target, "precious");
        File.CreateSymbolicLink(_d.SocketPath, target);
        var ex = await RefusedAsync();
        Assert.Contains("a symbolic link", ex.Message);
        Assert.Equal(target, new FileInfo(_d.SocketPath).LinkTarget);
        Assert.Equal("precious", File.ReadAllText(target));

        // A symlink to a (stale) socket is refused too: overlayd never follows the path to delete something else.
        File.Delete(_d.SocketPath);
        File.Delete(target);
        StaleSocket(target);
        File.CreateSymbolicLink(_d.SocketPath, target);
        await RefusedAsync();
        Assert.Equal(UnixSocketFile.FileKind.Socket, UnixSocketFile.Kind(target));
    }

    [SkippableFact]
    public async Task A_stale_socket_is_replaced_and_the_daemon_serves()
    {
        StaleSocket(_d.SocketPath);
        Assert.Equal(UnixSocketFile.FileKind.Socket, UnixSocketFile.Kind(_d.SocketPath));
        _d.Healthy();
        await _d.StartAsync();
        (await _d.Api.GetAsync("/v1/status")).EnsureSuccessStatusCode();
        await _d.App!.StopAsync();
        Assert.Equal(UnixSocketFile.FileKind.Missing, UnixSocketFile.Kind(_d.SocketPath));
    }

    [SkippableFact]
    public async Task Under_umask_000_the_socket_never_appears_with_more_than_its_mode_and_another_uid_cannot_connect()
    {
        Skip.If(Environment.UserName != "root", "running a client as another uid (nobody) needs root");
        Skip.If(!File.Exists("/usr/bin/setpriv") || !File.Exists("/usr/bin/python3"), "needs setpriv (util-linux) and python3 to connect as nobody");
        // A socket directory overlayd has to create, under a umask that would leave everything world-writable.
        _d.SocketPath = Path.Combine(_d.Dir, "run", "overlay", "overlayd.sock");
        _d.Healthy();

        // Watch the path from before the bind: the first mode ever seen there is what a racing client could use.
        int firstMode = -1;
        using var stop = new CancellationTokenSource();
        var watcher = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested && firstMode < 0)
                if (UnixSocketFile.Kind(_d.SocketPath) != UnixSocketFile.FileKind.Missing) firstMode = UnixSocketFile.Mode(_d.SocketPath);
        }, TaskCreationOptions.LongRunning);

        int old = Umask(0);
        try { await _d.StartAsync(); }
        finally { Umask(old); }
        await DaemonFixture.Until(() => firstMode >= 0, "the socket appeared");
        stop.Cancel();
        await watcher;

        Assert.Equal("660", Convert.ToString(firstMode, 8));
        Assert.Equal("755", Convert.ToString(UnixSocketFile.Mode(Path.GetDirectoryName(_d.SocketPath)!), 8));
        Assert.Equal(0, Directory.GetFileSystemEntries(Path.GetDirectoryName(_d.SocketPath)!).Count(e => Path.GetFileName(e).StartsWith(".ovl-")));

        var (code, err) = ConnectAsNobody(_d.SocketPath);
        output.WriteLine($"as nobody: exit {code}: {err}");
        Assert.NotEqual(0, code);
        Assert.Contains("PermissionError", err);

        // The same client succeeds once the mode allows it: the refusal above is the mode's doing, not the test's.
        File.SetUnixFileMode(_d.SocketPath, (UnixFileMode)0b110_110_110);
        Assert.Equal(0, ConnectAsNobody(_d.SocketPath).Code);
    }

    /// <summary>
    /// A socket file nobody serves, as a crashed daemon leaves it. Made by a child process: .NET's Socket unlinks the
    /// file it bound when disposed.
    /// </summary>
    private static void StaleSocket(string path)
    {
        Skip.If(!File.Exists("/usr/bin/python3"), "needs python3 to leave a stale socket file behind");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true };
        foreach (var a in new[] { "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    private static (int Code, string Err) ConnectAsNobody(string path)
    {
        var psi = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                     "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", path })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    private static int Umask(int mask) => (ushort)Tmds.Linux.LibC.umask((ushort)mask);
}
