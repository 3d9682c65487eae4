using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

/// <summary>The userspace backend against real wireguard-go devices in namespaces of our own.</summary>
public sealed class UapiLiveTests(ITestOutputHelper output) : IDisposable
{
    private readonly WireGuardLab _lab = new();
    private readonly IWireGuardClient _client = WireGuardClient.CreateUserspace();

    public void Dispose()
    {
        _client.Dispose();
        _lab.Dispose();
    }

    private static void SkipUnlessRunnable()
    {
        var why = WireGuardLab.WhyNotRunnable();
        Skip.If(why is not null, why);
    }

    private static IReadOnlyList<IpPrefix> Ips(params string[] p) => p.Select(IpPrefix.Parse).ToArray();
    private static WireGuardKey RandomPublicKey() => WireGuardKeys.PublicKeyOf(WireGuardPrivateKey.Generate());

    [SkippableFact]
    public async Task What_the_client_configures_is_what_wg_show_dump_prints()
    {
        SkipUnlessRunnable();
        string ns = _lab.Namespace("dump");
        string dev = _lab.Device(ns, "d");
        var priv = WireGuardPrivateKey.Generate();
        var config = new WireGuardDeviceConfig
        {
            PrivateKey = priv,
            ListenPort = 51820,
            FirewallMark = 0x2a,
            Peers =
            [
                new WireGuardPeerConfig(RandomPublicKey())
                {
                    PresharedKey = WireGuardPresharedKey.Generate(),
                    Endpoint = IPEndPoint.Parse("198.51.100.7:51820"),
                    PersistentKeepalive = TimeSpan.FromSeconds(25),
                    AllowedIPs = Ips("10.60.0.0/24", "2001:db8:60::/64", "10.61.0.1/32"),
                },
                new WireGuardPeerConfig(RandomPublicKey()) { Endpoint = IPEndPoint.Parse("[2001:db8::7]:4500"), AllowedIPs = Ips("10.62.0.0/16") },
                new WireGuardPeerConfig(RandomPublicKey()),
            ],
        };
        await _client.ConfigureDeviceAsync(dev, config);

        // The link stays down, so nothing is sent and counters cannot move between the two reads.
        var device = await _client.DeviceAsync(dev);
        var wg = WgDump.Split(WireGuardLab.Run("ip", "netns", "exec", ns, "wg", "show", dev, "dump"));
        var ours = WgDump.Render(device);
        Assert.Equal(wg.Device, ours.Device);
        Assert.Equal(wg.Peers, ours.Peers);
        Assert.Equal(priv, device.PrivateKey);
        Assert.Equal(3, device.Peers.Count);
        Assert.All(device.Peers, p => Assert.Equal(1, p.ProtocolVersion));
        Assert.Contains(await _client.DevicesAsync(), d => d.Name == dev);
    }

    [SkippableFact]
    public async Task What_wg_set_configures_is_read_back_exactly()
    {
        SkipUnlessRunnable();
        string ns = _lab.Namespace("rev");
        string dev = _lab.Device(ns, "r");
        var priv = WireGuardPrivateKey.Generate();
        var psk = WireGuardPresharedKey.Generate();
        var peer1 = RandomPublicKey();
        var peer2 = RandomPublicKey();
        string dir = Directory.CreateTempSubdirectory("owgt").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "priv"), priv.RevealBase64());
            File.WriteAllText(Path.Combine(dir, "psk"), psk.RevealBase64());
            WireGuardLab.Run("ip", "netns", "exec", ns, "wg", "set", dev,
                "private-key", Path.Combine(dir, "priv"), "listen-port", "40123", "fwmark", "0x1234",
                "peer", peer1.ToBase64(), "preshared-key", Path.Combine(dir, "psk"), "endpoint", "[2001:db8::1]:51820",
                "persistent-keepalive", "17", "allowed-ips", "10.70.0.0/16,2001:db8:70::/48,10.71.0.5/32",
                "peer", peer2.ToBase64(), "endpoint", "203.0.113.9:1", "allowed-ips", "0.0.0.0/0");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var d = await _client.DeviceAsync(dev);
        Assert.Equal(dev, d.Name);
        Assert.Equal(WireGuardDeviceType.Userspace, d.Type);
        Assert.Equal(priv, d.PrivateKey);
        Assert.Equal(WireGuardLab.RunWithInput("wg", priv.RevealBase64() + "\n", "pubkey").Trim(), d.PublicKey.ToBase64());
        Assert.Equal(40123, d.ListenPort);
        Assert.Equal(0x1234u, d.FirewallMark);
        var p1 = Assert.Single(d.Peers, p => p.PublicKey == peer1);
        Assert.Equal(psk, p1.PresharedKey);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::1]:51820"), p1.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(17), p1.PersistentKeepalive);
        Assert.Equal(Ips("10.70.0.0/16", "2001:db8:70::/48", "10.71.0.5/32").Order(), p1.AllowedIPs.Order());
        Assert.Null(p1.LastHandshake);
        var p2 = Assert.Single(d.Peers, p => p.PublicKey == peer2);
        Assert.Null(p2.PresharedKey);
        Assert.Equal(IPEndPoint.Parse("203.0.113.9:1"), p2.Endpoint);
        Assert.Equal(TimeSpan.Zero, p2.PersistentKeepalive);
        Assert.Equal(Ips("0.0.0.0/0"), p2.AllowedIPs);
        Assert.Equal(2, d.Peers.Count);
    }

    [SkippableFact]
    public async Task Sync_leaves_an_established_session_alone_and_removes_peers()
    {
        SkipUnlessRunnable();
        string nsA = _lab.Namespace("a"), nsB = _lab.Namespace("b");
        _lab.Veth(nsA, "198.51.100.1/24", nsB, "198.51.100.2/24");
        string devA = _lab.Device(nsA, "a"), devB = _lab.Device(nsB, "b");
        var privA = WireGuardPrivateKey.Generate();
        var privB = WireGuardPrivateKey.Generate();
        var pubA = WireGuardKeys.PublicKeyOf(privA);
        var pubB = WireGuardKeys.PublicKeyOf(privB);
        var other = RandomPublicKey();

        var peerB = new WireGuardPeerSpec(pubB, Ips("10.77.0.2/32"), Endpoint: IPEndPoint.Parse("198.51.100.2:51821"));
        var otherPeer = new WireGuardPeerSpec(other, Ips("10.77.0.3/32"), Endpoint: IPEndPoint.Parse("198.51.100.3:51820"));
        var first = await _client.SyncAsync(devA, new WireGuardDeviceSpec(privA, 51820, 0, [peerB, otherPeer]));
        Assert.Equal([pubB, other], first.Added);
        await _client.SyncAsync(devB, new WireGuardDeviceSpec(privB, 51821, 0,
            [new WireGuardPeerSpec(pubA, Ips("10.77.0.1/32"), Endpoint: IPEndPoint.Parse("198.51.100.1:51820"))]));
        foreach (var (ns, dev, addr) in new[] { (nsA, devA, "10.77.0.1/24"), (nsB, devB, "10.77.0.2/24") })
        {
            WireGuardLab.Run("ip", "-n", ns, "addr", "add", addr, "dev", dev);
            WireGuardLab.Run("ip", "-n", ns, "link", "set", dev, "up");
        }

        var sw = Stopwatch.StartNew();
        WireGuardLab.Poll(() => Ping(nsA, "10.77.0.2"), TimeSpan.FromSeconds(15), "ping over the tunnel");
        output.WriteLine($"first ping through the tunnel after {sw.ElapsedMilliseconds} ms");
        var before = Peer(await _client.DeviceAsync(devA), pubB);
        Assert.NotNull(before.LastHandshake);

        // Change the other peer only: the established one must not be touched.
        sw.Restart();
        var change = await _client.SyncAsync(devA, new WireGuardDeviceSpec(privA, 51820, 0,
            [peerB, otherPeer with { AllowedIPs = Ips("10.77.0.3/32", "10.88.0.0/16") }]));
        output.WriteLine($"sync changing one peer took {sw.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.Equal([other], change.Updated);
        Assert.Equal(1, change.Unchanged);
        var single = Assert.Single(change.Config.Peers);
        Assert.Equal(other, single.PublicKey);

        var afterChange = await _client.DeviceAsync(devA);
        Assert.Equal(before.LastHandshake, Peer(afterChange, pubB).LastHandshake);
        Assert.Equal(Ips("10.77.0.3/32", "10.88.0.0/16").Order(), Peer(afterChange, other).AllowedIPs.Order());
        Assert.True(Ping(nsA, "10.77.0.2"), "ping after the sync");
        var afterPing = Peer(await _client.DeviceAsync(devA), pubB);
        Assert.Equal(before.LastHandshake, afterPing.LastHandshake); // the old session carried the ping
        Assert.True(afterPing.ReceiveBytes > before.ReceiveBytes);

        // A sync with nothing to do sends nothing.
        var noop = await _client.SyncAsync(devA, new WireGuardDeviceSpec(privA, 51820, 0,
            [peerB, otherPeer with { AllowedIPs = Ips("10.88.0.0/16", "10.77.0.3/32") }]));
        Assert.True(noop.IsEmpty);

        var removal = await _client.SyncAsync(devA, new WireGuardDeviceSpec(privA, 51820, 0, [peerB]));
        Assert.Equal([other], removal.Removed);
        var afterRemoval = await _client.DeviceAsync(devA);
        Assert.Equal([pubB], afterRemoval.Peers.Select(p => p.PublicKey));
        Assert.Equal(before.LastHandshake, afterRemoval.Peers[0].LastHandshake);
        Assert.DoesNotContain(other.ToBase64(), WireGuardLab.Run("ip", "netns", "exec", nsA, "wg", "show", devA, "dump"));
        Assert.True(Ping(nsA, "10.77.0.2"), "ping after removing the other peer");
    }

    [SkippableFact]
    public async Task Unknown_device_is_not_found()
    {
        SkipUnlessRunnable();
        var e = await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() => _client.DeviceAsync($"wgt{_lab.RunId}none"));
        Assert.Contains("does not exist", e.Message);
        await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() =>
            _client.ConfigureDeviceAsync($"wgt{_lab.RunId}none", new WireGuardDeviceConfig { ListenPort = 1 }));
    }

    [Fact]
    public async Task Stale_socket_is_not_found_and_skipped_when_listing()
    {
        string dir = Directory.CreateTempSubdirectory("owgt-sock").FullName;
        try
        {
            // A socket file nobody listens on any more, as a killed wireguard-go leaves behind.
            using (var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                s.Bind(new UnixDomainSocketEndPoint(Path.Combine(dir, "wgstale.sock")));
            }
            using var client = WireGuardClient.CreateUserspace(new WireGuardClientOptions { UserspaceSocketDirectory = dir });
            var e = await Assert.ThrowsAsync<WireGuardDeviceNotFoundException>(() => client.DeviceAsync("wgstale"));
            Assert.Contains("stale", e.Message);
            Assert.Empty(await client.DevicesAsync());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_cancelled_call_stops()
    {
        string dir = Directory.CreateTempSubdirectory("owgt-sock").FullName;
        try
        {
            // Listening but never answering: only cancellation ends the call.
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(dir, "wgmute.sock")));
            listener.Listen();
            using var client = WireGuardClient.CreateUserspace(new WireGuardClientOptions { UserspaceSocketDirectory = dir });
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeviceAsync("wgmute", cts.Token));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_device_that_never_answers_times_out()
    {
        string dir = Directory.CreateTempSubdirectory("owgt-sock").FullName;
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(dir, "wgmute.sock")));
            listener.Listen();
            using var client = WireGuardClient.CreateUserspace(new WireGuardClientOptions
            {
                UserspaceSocketDirectory = dir,
                ReplyTimeout = TimeSpan.FromMilliseconds(200),
            });
            var e = await Assert.ThrowsAsync<WireGuardException>(() => client.DeviceAsync("wgmute"));
            Assert.Equal(110, e.Errno);
            Assert.Contains("no complete reply", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_device_whose_backlog_is_full_times_out_connecting()
    {
        string dir = Directory.CreateTempSubdirectory("owgt-sock").FullName;
        var pending = new List<Socket>();
        try
        {
            // A wedged wireguard-go: listening, never accepting, its backlog full of connections nobody took.
            string path = Path.Combine(dir, "wgwedged.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            while (true)
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
                pending.Add(s);
                try { s.Connect(new UnixDomainSocketEndPoint(path)); }
                catch (SocketException full) when (full.SocketErrorCode == SocketError.WouldBlock) { break; }
                Assert.True(pending.Count < 64, "the backlog never filled");
            }
            using var client = WireGuardClient.CreateUserspace(new WireGuardClientOptions
            {
                UserspaceSocketDirectory = dir,
                ConnectTimeout = TimeSpan.FromMilliseconds(200),
            });
            var e = await Assert.ThrowsAsync<WireGuardException>(() => client.DeviceAsync("wgwedged"));
            Assert.Equal(110, e.Errno);
            Assert.Contains("no connection", e.Message);
        }
        finally
        {
            foreach (var s in pending) s.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public async Task A_restarted_device_is_read_through_a_new_connection()
    {
        SkipUnlessRunnable();
        string ns = _lab.Namespace("again");
        string dev = _lab.Device(ns, "g");
        await _client.ConfigureDeviceAsync(dev, new WireGuardDeviceConfig { ListenPort = 41001 });
        Assert.Equal(41001, (await _client.DeviceAsync(dev)).ListenPort); // its connection is kept

        // Deleting the link ends that wireguard-go; another one takes the name (and the socket path).
        string socket = Path.Combine(WireGuardLab.SocketDirectory, dev + ".sock");
        WireGuardLab.Run("ip", "-n", ns, "link", "del", dev);
        WireGuardLab.Poll(() => !File.Exists(socket), TimeSpan.FromSeconds(10), $"{socket} removed");
        _lab.Device(ns, "g");
        await _client.ConfigureDeviceAsync(dev, new WireGuardDeviceConfig { ListenPort = 41002 });

        Assert.Equal(41002, (await _client.DeviceAsync(dev)).ListenPort);
    }

    [Fact]
    public async Task Reads_reuse_one_connection_and_a_server_that_closes_it_is_asked_on_a_new_one()
    {
        string dir = Directory.CreateTempSubdirectory("owgt-sock").FullName;
        try
        {
            using var keeps = new UapiDouble(Path.Combine(dir, "wgkeeps.sock"), oneRequestPerConnection: false);
            using var closes = new UapiDouble(Path.Combine(dir, "wgcloses.sock"), oneRequestPerConnection: true);
            using var client = WireGuardClient.CreateUserspace(new WireGuardClientOptions { UserspaceSocketDirectory = dir });
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(51820, (await client.DeviceAsync("wgkeeps")).ListenPort);
                Assert.Equal(51820, (await client.DeviceAsync("wgcloses")).ListenPort);
            }
            Assert.Equal((1, 3), (keeps.Connections, keeps.Requests));
            Assert.Equal((3, 3), (closes.Connections, closes.Requests));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A UAPI server answering every get with listen_port=51820: like wireguard-go, or one request per connection like boringtun.</summary>
    private sealed class UapiDouble : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly bool _oneRequestPerConnection;
        private int _connections, _requests;

        public UapiDouble(string path, bool oneRequestPerConnection)
        {
            _oneRequestPerConnection = oneRequestPerConnection;
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen();
            new Thread(Serve) { IsBackground = true }.Start();
        }

        public int Connections => Volatile.Read(ref _connections);
        public int Requests => Volatile.Read(ref _requests);

        private void Serve()
        {
            try
            {
                while (true)
                {
                    using var connection = _listener.Accept();
                    Interlocked.Increment(ref _connections);
                    var request = new List<byte>();
                    var buffer = new byte[256];
                    while (true)
                    {
                        int n = connection.Receive(buffer);
                        if (n == 0) break;
                        request.AddRange(buffer.AsSpan(0, n));
                        if (request.Count < 2 || request[^1] != '\n' || request[^2] != '\n') continue;
                        request.Clear();
                        Interlocked.Increment(ref _requests);
                        connection.Send("listen_port=51820\nerrno=0\n\n"u8);
                        if (_oneRequestPerConnection) break;
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { } // disposed
        }

        public void Dispose() => _listener.Dispose();
    }

    private static WireGuardPeer Peer(WireGuardDevice d, WireGuardKey key) => Assert.Single(d.Peers, p => p.PublicKey == key);

    private static bool Ping(string ns, string address) =>
        WireGuardLab.TryRun("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", "-n", "-q", address);
}
