using System.Net.Sockets;
using System.Text;
using Overlay.Frr.Northbound;
using Overlay.Frr.Vty;

namespace Overlay.Frr.Tests;

/// <summary>The vty protocol against a scripted Unix-socket server.</summary>
public sealed class VtyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overlay-vty-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Serves one connection: reads one NUL-terminated command, answers with the given chunks.</summary>
    private async Task<string> ServeOnceAsync(string daemon, Func<string, IEnumerable<byte[]>> reply, Task started)
    {
        var path = Path.Combine(_dir, daemon + ".vty");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        ((TaskCompletionSource)started.AsyncState!).SetResult();
        using var connection = await listener.AcceptAsync();
        var received = new List<byte>();
        var buffer = new byte[256];
        while (!received.Contains(0))
        {
            var n = await connection.ReceiveAsync(buffer);
            if (n == 0) break;
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        var command = Encoding.UTF8.GetString(received.TakeWhile(b => b != 0).ToArray());
        foreach (var chunk in reply(command))
        {
            await connection.SendAsync(chunk);
            await Task.Delay(5); // let the client see the chunks separately
        }
        Assert.Equal(received.Count, received.IndexOf(0) + 1); // exactly one NUL, at the end
        return command;
    }

    private async Task<(string Command, T Result)> RunAsync<T>(string daemon, Func<string, IEnumerable<byte[]>> reply, Func<UnixVty, Task<T>> act)
    {
        var ready = new TaskCompletionSource();
        var server = ServeOnceAsync(daemon, reply, Task.Factory.StartNew(_ => { }, ready));
        await ready.Task;
        var vty = new UnixVty(new VtyOptions { Directory = _dir, Timeout = TimeSpan.FromSeconds(10) });
        var result = await act(vty);
        return (await server, result);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Command_is_sent_with_one_nul_and_the_output_read_up_to_the_trailer()
    {
        var (command, output) = await RunAsync("ospfd",
            _ => [Bytes("{\n  \"neighbors\":{"), Bytes("}\n}\n"), [0, 0], [0, 0]],
            vty => vty.ExecuteAsync(FrrDaemon.Ospfd, "show ip ospf neighbor json"));

        Assert.Equal("show ip ospf neighbor json", command);
        Assert.Equal("{\n  \"neighbors\":{}\n}\n", output);
    }

    [Fact]
    public async Task Large_output_split_over_many_reads_is_reassembled()
    {
        var big = new string('x', 200_000);
        var (_, output) = await RunAsync("bgpd",
            _ => Bytes(big + "\0\0\0\0").Chunk(7000).ToArray(),
            vty => vty.ExecuteAsync(FrrDaemon.Bgpd, "show bgp summary json"));
        Assert.Equal(big, output);
    }

    [Theory]
    [InlineData(1, VtyStatus.Warning, "% Network not in table\n")]
    [InlineData(2, VtyStatus.NoMatch, "% [OSPF] Unknown command: show nonsense\n")]
    [InlineData(4, VtyStatus.Incomplete, "% Command incomplete: show bgp\n")]
    public async Task Non_zero_status_throws_with_command_status_and_output(byte status, VtyStatus expected, string text)
    {
        var (_, error) = await RunAsync("bgpd",
            _ => [Bytes(text), [0, 0, 0, status]],
            vty => Assert.ThrowsAsync<FrrVtyException>(() => vty.ExecuteAsync(FrrDaemon.Bgpd, "show something")));

        Assert.Equal(expected, error.Status);
        Assert.Equal("show something", error.Command);
        Assert.Equal(text, error.Output);
        Assert.Contains("bgpd vty command 'show something'", error.Message);
        Assert.Contains(text.Trim(), error.Message);
    }

    [Fact]
    public async Task Connection_closed_without_trailer_is_an_error()
    {
        var (_, error) = await RunAsync("zebra",
            _ => [Bytes("partial")],
            vty => Assert.ThrowsAsync<FrrVtyException>(() => vty.ExecuteAsync(FrrDaemon.Zebra, "show version")));
        Assert.Null(error.Status);
        Assert.Contains("without a status trailer", error.Message);
    }

    [Fact]
    public async Task Missing_socket_names_the_path()
    {
        var vty = new UnixVty(new VtyOptions { Directory = _dir, Pathspace = "nope" });
        var error = await Assert.ThrowsAsync<FrrVtyException>(() => vty.ExecuteAsync(FrrDaemon.Ospfd, "show ip ospf neighbor json"));
        Assert.Contains(Path.Combine(_dir, "nope", "ospfd.vty"), error.Message);
    }

    [Theory]
    [InlineData("", "", "/var/run/frr/bgpd.vty")]
    [InlineData("/var/run/frr", "dc1-edge1", "/var/run/frr/dc1-edge1/bgpd.vty")]
    public void Socket_path_follows_the_pathspace(string directory, string pathspace, string expected)
    {
        var options = directory.Length == 0 ? new VtyOptions { Pathspace = pathspace } : new VtyOptions { Directory = directory, Pathspace = pathspace };
        Assert.Equal(expected, options.SocketPath(FrrDaemon.Bgpd));
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 }, true, VtyStatus.Success)]
    [InlineData(new byte[] { 65, 0, 0, 0, 13 }, true, VtyStatus.WarningConfigFailed)]
    [InlineData(new byte[] { 0, 0, 0 }, false, VtyStatus.Success)]
    [InlineData(new byte[] { 65, 0, 1, 0, 0 }, false, VtyStatus.Success)]
    public void Trailer_is_three_nuls_and_a_status(byte[] received, bool complete, VtyStatus status)
    {
        Assert.Equal(complete, Overlay.Frr.Vty.VtyFraming.TryGetTrailer(received, out var actual));
        if (complete)
            Assert.Equal(status, actual);
    }

    [Theory]
    [InlineData("show a\nshow b")]
    [InlineData("show\0x")]
    public void Multi_line_or_nul_commands_are_refused(string command)
    {
        Assert.Throws<ArgumentException>(() => Overlay.Frr.Vty.VtyFraming.EncodeCommand(command));
    }
}
