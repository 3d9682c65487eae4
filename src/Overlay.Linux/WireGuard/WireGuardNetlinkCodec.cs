using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Overlay.Core.Net;
using Overlay.Linux.Netlink;
using Overlay.Core.Model;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// The "wireguard" generic netlink family (include/uapi/linux/wireguard.h), encoded and decoded with the
/// shared netlink codec. Pure: the kernel client does the I/O.
/// </summary>
internal static class WireGuardNetlinkCodec
{
    public const string FamilyName = "wireguard";
    public const byte Version = 1;
    public const byte CommandGetDevice = 0;
    public const byte CommandSetDevice = 1;

    /// <summary>Largest set message: the page-sized budget wg(8) uses, so the kernel never sees an oversized one.</summary>
    public const int DefaultMaxMessageSize = 8192;

    // enum wgdevice_attribute
    public const ushort DeviceIfIndex = 1, DeviceIfName = 2, DevicePrivateKey = 3, DevicePublicKey = 4, DeviceFlags = 5,
                        DeviceListenPort = 6, DeviceFwMark = 7, DevicePeers = 8;
    public const uint DeviceFlagReplacePeers = 1;

    // enum wgpeer_attribute
    public const ushort PeerPublicKey = 1, PeerPresharedKey = 2, PeerFlags = 3, PeerEndpoint = 4, PeerKeepalive = 5,
                        PeerLastHandshake = 6, PeerRxBytes = 7, PeerTxBytes = 8, PeerAllowedIPs = 9, PeerProtocolVersion = 10;
    public const uint PeerFlagRemoveMe = 1, PeerFlagReplaceAllowedIPs = 2, PeerFlagUpdateOnly = 4;

    // enum wgallowedip_attribute
    public const ushort AllowedIPFamily = 1, AllowedIPAddress = 2, AllowedIPCidrMask = 3;

    private const ushort AfInet = 2, AfInet6 = 10;
    private const int SockaddrIn = 16, SockaddrIn6 = 28;

    /// <summary>CTRL_CMD_GETFAMILY for "wireguard".</summary>
    public static void WriteGetFamily(NetlinkWriter w, uint sequence)
    {
        int m = w.BeginMessage(GenericNetlinkController.FamilyId, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, sequence);
        w.Write(new GenericNetlinkHeader(GenericNetlinkController.CommandGetFamily, GenericNetlinkController.Version));
        w.WriteString(GenericNetlinkController.AttributeFamilyName, FamilyName);
        w.EndMessage(m);
    }

    /// <summary>The family id from a CTRL_CMD_NEWFAMILY reply's attributes, or null if absent.</summary>
    public static ushort? ReadFamilyId(NetlinkAttributeReader attributes)
    {
        foreach (var a in attributes)
            if (a.Type == GenericNetlinkController.AttributeFamilyId) return a.GetUInt16();
        return null;
    }

    /// <summary>WG_CMD_GET_DEVICE for one device; the kernel only accepts it as a dump.</summary>
    public static void WriteGetDevice(NetlinkWriter w, ushort family, uint sequence, string name)
    {
        // No ACK flag: the dump ends with NLMSG_DONE, and an extra ACK would only linger on the socket.
        int m = w.BeginMessage(family, NetlinkMessageFlags.Request | NetlinkMessageFlags.Dump, sequence);
        w.Write(new GenericNetlinkHeader(CommandGetDevice, Version));
        w.WriteString(DeviceIfName, name);
        w.EndMessage(m);
    }

    /// <summary>
    /// Encodes a change as one or more WG_CMD_SET_DEVICE messages of at most <paramref name="maxMessageSize"/> bytes,
    /// back to back in <paramref name="w"/>. Device fields and the replace-peers flag go in the first message only;
    /// a peer whose allowed IPs overflow continues in the next message as an update-only peer without the
    /// replace flag, so the second half adds to the first instead of wiping it. Returns each message's (offset, length).
    /// </summary>
    public static List<(int Offset, int Length)> WriteSetDevice(NetlinkWriter w, ushort family, uint firstSequence, string name,
                                                                WireGuardDeviceConfig config, int maxMessageSize = DefaultMaxMessageSize)
    {
        var messages = new List<(int, int)>();
        uint sequence = firstSequence;
        int message = -1, peers = -1, peerCount = 0;

        void Begin(bool first)
        {
            message = w.BeginMessage(family, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, sequence++);
            w.Write(new GenericNetlinkHeader(CommandSetDevice, Version));
            w.WriteString(DeviceIfName, name);
            peers = -1;
            peerCount = 0;
            if (!first) return;
            if (config.PrivateKey is { } pk) w.WriteAttribute(DevicePrivateKey, pk.RevealBytes());
            if (config.ListenPort is { } port)
                w.WriteUInt16(DeviceListenPort, port is >= 0 and <= ushort.MaxValue
                    ? (ushort)port
                    : throw new ArgumentOutOfRangeException(nameof(config), port, "listen port must be 0..65535"));
            if (config.FirewallMark is { } mark) w.WriteUInt32(DeviceFwMark, mark);
            if (config.ReplacePeers) w.WriteUInt32(DeviceFlags, DeviceFlagReplacePeers);
        }
        void End()
        {
            if (peers >= 0) w.EndNested(peers);
            w.EndMessage(message);
            messages.Add((message, w.Length - message));
        }
        int Room() => maxMessageSize - (w.Length - message) - (peers >= 0 ? 0 : 4);
        void OpenPeers()
        {
            if (peers < 0) peers = w.BeginNested(DevicePeers);
        }

        Begin(first: true);
        foreach (var p in config.Peers)
        {
            int header = PeerHeaderSize(p);
            int firstIp = p.Remove || p.AllowedIPs.Count == 0 ? 0 : AllowedIPSize(p.AllowedIPs[0]);
            if (peerCount > 0 && header + firstIp > Room())
            {
                End();
                Begin(first: false);
            }
            if (header + firstIp > Room())
                throw new ArgumentException($"a single peer does not fit a {maxMessageSize}-byte netlink message", nameof(maxMessageSize));
            OpenPeers();
            peerCount++;
            int peer = w.BeginNested(0);
            WritePeerHeader(w, p);
            if (!p.Remove && p.AllowedIPs.Count > 0)
            {
                int ips = w.BeginNested(PeerAllowedIPs);
                foreach (var ip in p.AllowedIPs)
                {
                    if (AllowedIPSize(ip) > Room())
                    {
                        w.EndNested(ips);
                        w.EndNested(peer);
                        End();
                        Begin(first: false);
                        OpenPeers();
                        peerCount++;
                        peer = w.BeginNested(0);
                        w.WriteAttribute(PeerPublicKey, p.PublicKey.Bytes);
                        w.WriteUInt32(PeerFlags, PeerFlagUpdateOnly);
                        ips = w.BeginNested(PeerAllowedIPs);
                    }
                    WriteAllowedIP(w, ip);
                }
                w.EndNested(ips);
            }
            w.EndNested(peer);
        }
        End();
        return messages;
    }

    private static uint Flags(WireGuardPeerConfig p) =>
        (p.Remove ? PeerFlagRemoveMe : 0) | (p.ReplaceAllowedIPs ? PeerFlagReplaceAllowedIPs : 0) | (p.UpdateOnly ? PeerFlagUpdateOnly : 0);

    /// <summary>Bytes of a peer entry before its allowed IPs, including the allowed-IP nest header.</summary>
    private static int PeerHeaderSize(WireGuardPeerConfig p)
    {
        int size = 4 + 4 + WireGuardKey.Size;                    // entry nest + public key
        if (Flags(p) != 0) size += 8;
        if (p.Remove) return size;
        if (p.PresharedKey is not null) size += 4 + WireGuardKey.Size;
        if (p.Endpoint is { } ep) size += 4 + (ep.AddressFamily == AddressFamily.InterNetworkV6 ? SockaddrIn6 : SockaddrIn);
        if (p.PersistentKeepalive is not null) size += 8;
        if (p.AllowedIPs.Count > 0) size += 4;
        return size;
    }

    private static int AllowedIPSize(IpPrefix ip) => 4 + 8 + 4 + (ip.IsIPv6 ? 16 : 4) + 8;

    private static void WritePeerHeader(NetlinkWriter w, WireGuardPeerConfig p)
    {
        w.WriteAttribute(PeerPublicKey, p.PublicKey.Bytes);
        if (Flags(p) is var flags and not 0) w.WriteUInt32(PeerFlags, flags);
        if (p.Remove) return;
        if (p.PresharedKey is { } psk) w.WriteAttribute(PeerPresharedKey, psk.RevealBytes());
        if (p.Endpoint is { } ep) WriteEndpoint(w, ep);
        if (p.PersistentKeepalive is { } ka)
            w.WriteUInt16(PeerKeepalive, ka.TotalSeconds is >= 0 and <= ushort.MaxValue
                ? (ushort)ka.TotalSeconds
                : throw new ArgumentOutOfRangeException(nameof(p), ka, $"persistent keepalive of peer {p.PublicKey} must be 0..65535 s"));
    }

    private static void WriteAllowedIP(NetlinkWriter w, IpPrefix ip)
    {
        int entry = w.BeginNested(0);
        w.WriteUInt16(AllowedIPFamily, ip.IsIPv6 ? AfInet6 : AfInet);
        w.WriteAddress(AllowedIPAddress, ip.Address);
        w.WriteUInt8(AllowedIPCidrMask, (byte)ip.Length);
        w.EndNested(entry);
    }

    private static void WriteEndpoint(NetlinkWriter w, IPEndPoint ep)
    {
        bool v6 = ep.AddressFamily == AddressFamily.InterNetworkV6;
        var sa = w.ReserveAttribute(PeerEndpoint, v6 ? SockaddrIn6 : SockaddrIn);
        sa.Clear();
        MemoryMarshal.Write(sa, v6 ? AfInet6 : AfInet);           // sa_family: host order
        BinaryPrimitives.WriteUInt16BigEndian(sa[2..], (ushort)ep.Port);
        if (v6)
        {
            ep.Address.TryWriteBytes(sa.Slice(8, 16), out _);   // after sin6_flowinfo
            MemoryMarshal.Write(sa[24..], (uint)ep.Address.ScopeId);
        }
        else
        {
            ep.Address.TryWriteBytes(sa.Slice(4, 4), out _);
        }
    }

    private static IPEndPoint ReadEndpoint(ReadOnlySpan<byte> sa)
    {
        if (sa.Length < 4) throw new NetlinkFormatException($"WGPEER_A_ENDPOINT has {sa.Length} bytes");
        ushort family = MemoryMarshal.Read<ushort>(sa);
        int port = BinaryPrimitives.ReadUInt16BigEndian(sa[2..]);
        if (family == AfInet && sa.Length >= SockaddrIn) return new IPEndPoint(new IPAddress(sa.Slice(4, 4)), port);
        if (family == AfInet6 && sa.Length >= SockaddrIn6)
            return new IPEndPoint(new IPAddress(sa.Slice(8, 16), MemoryMarshal.Read<uint>(sa[24..])), port);
        throw new NetlinkFormatException($"WGPEER_A_ENDPOINT has family {family} and {sa.Length} bytes; expected sockaddr_in or sockaddr_in6");
    }

    /// <summary>
    /// Merges the messages of one WG_CMD_GET_DEVICE dump into a device. The kernel sends device fields in the
    /// first message and continues peers in later ones; a peer cut in the middle of its allowed IPs reappears at
    /// the start of the next message with only its public key and the remaining allowed IPs.
    /// </summary>
    internal sealed class DeviceDumpReader
    {
        private string? _name;
        private WireGuardPrivateKey? _privateKey;
        private WireGuardKey _publicKey;
        private int _listenPort;
        private uint _fwmark;
        private readonly List<WireGuardPeerBuilder> _peers = [];
        private readonly Dictionary<WireGuardKey, WireGuardPeerBuilder> _byKey = [];

        public int Messages { get; private set; }

        /// <summary>Adds one message's attributes (after the genl header).</summary>
        public void Add(NetlinkAttributeReader attributes)
        {
            Messages++;
            foreach (var a in attributes)
            {
                switch (a.Type)
                {
                    case DeviceIfName: _name = a.GetString(); break;
                    case DevicePrivateKey:
                        var pk = new WireGuardPrivateKey(Key(a.Value, "WGDEVICE_A_PRIVATE_KEY"));
                        _privateKey = pk.RevealBytes().IndexOfAnyExcept((byte)0) < 0 ? null : pk;
                        break;
                    case DevicePublicKey: _publicKey = new WireGuardKey(Key(a.Value, "WGDEVICE_A_PUBLIC_KEY")); break;
                    case DeviceListenPort: _listenPort = a.GetUInt16(); break;
                    case DeviceFwMark: _fwmark = a.GetUInt32(); break;
                    case DevicePeers:
                        foreach (var entry in a.GetNested()) AddPeer(entry.GetNested());
                        break;
                    default: break;
                }
            }
        }

        private void AddPeer(NetlinkAttributeReader attributes)
        {
            WireGuardPeerBuilder? peer = null;
            foreach (var a in attributes)
            {
                if (a.Type == PeerPublicKey)
                {
                    var key = new WireGuardKey(Key(a.Value, "WGPEER_A_PUBLIC_KEY"));
                    if (!_byKey.TryGetValue(key, out peer))
                    {
                        peer = new WireGuardPeerBuilder(key);
                        _byKey.Add(key, peer);
                        _peers.Add(peer);
                    }
                    continue;
                }
                if (peer is null) throw new NetlinkFormatException("a WireGuard peer entry does not start with WGPEER_A_PUBLIC_KEY");
                switch (a.Type)
                {
                    case PeerPresharedKey:
                        var psk = new WireGuardPresharedKey(Key(a.Value, "WGPEER_A_PRESHARED_KEY"));
                        peer.PresharedKey = psk.IsNone ? null : psk;
                        break;
                    case PeerEndpoint: peer.Endpoint = ReadEndpoint(a.Value); break;
                    case PeerKeepalive: peer.Keepalive = a.GetUInt16(); break;
                    case PeerLastHandshake:
                        // struct __kernel_timespec { s64 tv_sec; s64 tv_nsec; }
                        if (a.Value.Length < 16) throw new NetlinkFormatException($"WGPEER_A_LAST_HANDSHAKE_TIME has {a.Value.Length} bytes; expected 16");
                        peer.HandshakeSeconds = MemoryMarshal.Read<long>(a.Value);
                        peer.HandshakeNanoseconds = MemoryMarshal.Read<long>(a.Value[8..]);
                        break;
                    case PeerRxBytes: peer.ReceiveBytes = (long)a.GetUInt64(); break;
                    case PeerTxBytes: peer.TransmitBytes = (long)a.GetUInt64(); break;
                    case PeerProtocolVersion: peer.ProtocolVersion = (int)a.GetUInt32(); break;
                    case PeerAllowedIPs:
                        foreach (var entry in a.GetNested()) peer.AllowedIPs.Add(ReadAllowedIP(entry.GetNested()));
                        break;
                    default: break;
                }
            }
        }

        private static IpPrefix ReadAllowedIP(NetlinkAttributeReader attributes)
        {
            IPAddress? address = null;
            int? mask = null;
            foreach (var a in attributes)
            {
                if (a.Type == AllowedIPAddress) address = a.GetAddress();
                else if (a.Type == AllowedIPCidrMask) mask = a.GetUInt8();
            }
            if (address is null || mask is null) throw new NetlinkFormatException("a WireGuard allowed IP lacks WGALLOWEDIP_A_IPADDR or WGALLOWEDIP_A_CIDR_MASK");
            return NetlinkPrefix.Create(address, mask.Value, "WGALLOWEDIP_A_CIDR_MASK");
        }

        public WireGuardDevice Build(string requestedName) =>
            new(_name ?? requestedName, WireGuardDeviceType.Kernel, _privateKey, _publicKey, _listenPort, _fwmark,
                _peers.Select(p => p.Build(m => new NetlinkFormatException(m))).ToList());

        private static ReadOnlySpan<byte> Key(ReadOnlySpan<byte> value, string what) =>
            value.Length == WireGuardKey.Size ? value : throw new NetlinkFormatException($"{what} has {value.Length} bytes; a key has 32");
    }
}
