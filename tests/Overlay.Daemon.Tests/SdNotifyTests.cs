using System.Net.Sockets;
using System.Text;
using Overlay.Daemon.Systemd;

namespace Overlay.Daemon.Tests;

public class SdNotifyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sends_one_datagram_to_the_notify_socket(bool @abstract)
    {
        string name = "ovl-sd-" + Guid.NewGuid().ToString("N")[..10];
        string path = @abstract ? "\0" + name : Path.Combine("/tmp", name + ".sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            new SdNotify(@abstract ? "@" + name : path).Notify("READY=1");
            var buf = new byte[256];
            server.ReceiveTimeout = 5000;
            int n = server.Receive(buf);
            Assert.Equal("READY=1", Encoding.UTF8.GetString(buf, 0, n));
        }
        finally
        {
            if (!@abstract) File.Delete(path);
        }
    }

    [Fact]
    public void Without_notify_socket_nothing_happens()
    {
        var n = new SdNotify(null);
        Assert.False(n.Enabled);
        n.Notify("READY=1");
    }

    [Theory]
    [InlineData("30000000", null, 30_000)]
    [InlineData("30000000", "4242", 30_000)]
    [InlineData("30000000", "1", null)]
    [InlineData("0", null, null)]
    [InlineData(null, null, null)]
    [InlineData("abc", null, null)]
    public void Watchdog_interval_is_for_this_process_only(string? usec, string? pid, int? expectedMs)
    {
        var t = SdNotify.WatchdogInterval(usec, pid, ownPid: 4242);
        Assert.Equal(expectedMs, t is null ? null : (int)t.Value.TotalMilliseconds);
    }
}
