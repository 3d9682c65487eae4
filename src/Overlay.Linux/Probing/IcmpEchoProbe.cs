using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Overlay.Linux.Probing;

/// <summary>
/// ICMP echo requests to one address, sent out of one interface (SO_BINDTODEVICE), and a non-blocking count of the
/// replies that came back. Used through a WireGuard tunnel: a reply proves the current session carries traffic both
/// ways. An unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) is tried first; where
/// <c>net.ipv4.ping_group_range</c> does not allow it (the default in a fresh network namespace) a raw socket
/// (CAP_NET_RAW) is used. IPv4 only.
/// </summary>
public sealed class IcmpEchoProbe : IDisposable
{
    private const int SolSocket = 1, SoBindToDevice = 25;
    private readonly Socket _socket;
    private readonly bool _raw;
    private readonly ushort _id = (ushort)RandomNumberGenerator.GetInt32(1, ushort.MaxValue);
    private readonly byte[] _packet = new byte[16];
    private readonly byte[] _receive = new byte[1500];
    private ushort _sequence;

    private IcmpEchoProbe(Socket socket, bool raw, string interfaceName, IPAddress target)
    {
        _socket = socket;
        _raw = raw;
        Interface = interfaceName;
        Target = target;
    }

    public string Interface { get; }
    public IPAddress Target { get; }

    /// <summary>"ping socket" or "raw socket": which kind the kernel allowed.</summary>
    public string Kind => _raw ? "raw socket" : "ping socket";

    /// <summary>Opens the socket bound to <paramref name="interfaceName"/>. Throws <see cref="SocketException"/> when neither kind is allowed or the interface does not exist.</summary>
    public static IcmpEchoProbe Open(string interfaceName, IPAddress target)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        ArgumentNullException.ThrowIfNull(target);
        if (target.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"{target}: only IPv4 probe targets are supported", nameof(target));
        Socket socket;
        bool raw = false;
        try
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Icmp);
        }
        catch (SocketException)
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
            raw = true;
        }
        try
        {
            socket.Blocking = false;
            socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(interfaceName + "\0"));
            return new IcmpEchoProbe(socket, raw, interfaceName, target);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one echo request. Throws <see cref="SocketException"/> when the kernel refuses (interface down or gone, no route).</summary>
    public void Send()
    {
        var p = _packet.AsSpan();
        p.Clear();
        p[0] = 8; // echo request
        BinaryPrimitives.WriteUInt16BigEndian(p[4..], _id); // a ping socket replaces it with its own
        BinaryPrimitives.WriteUInt16BigEndian(p[6..], ++_sequence);
        BinaryPrimitives.WriteInt64BigEndian(p[8..], Environment.TickCount64);
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], Checksum(p));
        _socket.SendTo(_packet, new IPEndPoint(Target, 0));
    }

    /// <summary>Reads every datagram waiting and returns how many were echo replies from the target to this probe.</summary>
    public int DrainReplies()
    {
        int replies = 0;
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (_socket.Available > 0)
        {
            int n;
            try { n = _socket.ReceiveFrom(_receive, ref from); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock) { break; }
            var icmp = _receive.AsSpan(0, n);
            if (_raw)
            {
                // A raw socket sees the IP header, and every ICMP message arriving on the interface.
                if (n < 20 || icmp[0] >> 4 != 4) continue;
                icmp = icmp[((icmp[0] & 0x0f) * 4)..];
                if (icmp.Length < 8 || BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) != _id) continue;
            }
            if (icmp.Length >= 8 && icmp[0] == 0 && from is IPEndPoint ep && ep.Address.Equals(Target)) replies++;
        }
        return replies;
    }

    public void Dispose() => _socket.Dispose();

    private static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if ((data.Length & 1) == 1) sum += (uint)data[^1] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
