using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Overlay.Linux.Netlink;

/// <summary>
/// Builds one or more netlink messages back to back in a growable buffer: a message header, a
/// family header (e.g. <c>rtmsg</c>, <c>genlmsghdr</c>) and attributes, nested as deep as needed.
/// Lengths are patched when a message or nest is ended; padding is zeroed. Pure code, no I/O.
/// </summary>
/// <example>
/// <code>
/// int m = w.BeginMessage(type, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, seq);
/// w.Write(new GenericNetlinkHeader(cmd, version));
/// int n = w.BeginNested(attr); w.WriteUInt32(sub, 7); w.EndNested(n);
/// w.EndMessage(m);
/// </code>
/// </example>
public sealed class NetlinkWriter
{
    private const int AttributeHeaderSize = 4;
    private byte[] _buffer;
    private int _length;
    private int _openMessage = -1;

    public NetlinkWriter(int initialCapacity = 4096) =>
        _buffer = new byte[Math.Max(initialCapacity, 64)];

    /// <summary>Bytes written so far (always a multiple of 4 between calls).</summary>
    public int Length => _length;
    public int MessageCount { get; private set; }
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Reset()
    {
        _length = 0;
        _openMessage = -1;
        MessageCount = 0;
    }

    /// <summary>Starts a message; returns its offset, to be passed to <see cref="EndMessage"/>.</summary>
    public int BeginMessage(ushort type, NetlinkMessageFlags flags, uint sequence, uint portId = 0)
    {
        if (_openMessage >= 0) throw new InvalidOperationException("the previous message was not ended");
        int start = _length;
        var header = new NetlinkMessageHeader { Type = type, Flags = flags, Sequence = sequence, PortId = portId };
        Write(header);
        _openMessage = start;
        return start;
    }

    public void EndMessage(int start)
    {
        if (start != _openMessage) throw new InvalidOperationException("EndMessage does not match BeginMessage");
        PatchLength32(start);
        _openMessage = -1;
        MessageCount++;
    }

    /// <summary>Writes a fixed-size family header or any blittable struct, padded to 4 bytes.</summary>
    public void Write<T>(in T value) where T : unmanaged
    {
        var span = Reserve(Unsafe.SizeOf<T>());
        MemoryMarshal.Write(span, in value);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>Reserves an attribute with a payload of <paramref name="length"/> bytes and returns the payload to fill.</summary>
    public Span<byte> ReserveAttribute(ushort type, int length)
    {
        if (length > ushort.MaxValue - AttributeHeaderSize)
            throw new ArgumentOutOfRangeException(nameof(length), length, "netlink attribute payload exceeds 65531 bytes");
        var span = Reserve(AttributeHeaderSize + length);
        MemoryMarshal.Write(span, (ushort)(AttributeHeaderSize + length));
        MemoryMarshal.Write(span[2..], type);
        return span.Slice(AttributeHeaderSize, length);
    }

    public void WriteAttribute(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(ReserveAttribute(type, value.Length));

    public void WriteFlag(ushort type) => ReserveAttribute(type, 0);
    public void WriteUInt8(ushort type, byte value) => ReserveAttribute(type, 1)[0] = value;
    public void WriteUInt16(ushort type, ushort value) => MemoryMarshal.Write(ReserveAttribute(type, 2), value);
    public void WriteUInt32(ushort type, uint value) => MemoryMarshal.Write(ReserveAttribute(type, 4), value);
    public void WriteInt32(ushort type, int value) => MemoryMarshal.Write(ReserveAttribute(type, 4), value);
    public void WriteUInt64(ushort type, ulong value) => MemoryMarshal.Write(ReserveAttribute(type, 8), value);
    /// <summary>A 16-bit value in network byte order (ports); the attribute type is not flagged.</summary>
    public void WriteUInt16BigEndian(ushort type, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(ReserveAttribute(type, 2), value);

    /// <summary>A NUL-terminated UTF-8 string (what the kernel's NLA_NUL_STRING / NLA_STRING policies accept).</summary>
    public void WriteString(ushort type, string value)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        var span = ReserveAttribute(type, n + 1);
        Encoding.UTF8.GetBytes(value, span);
        span[n] = 0;
    }

    /// <summary>The 4 or 16 address bytes in network order.</summary>
    public void WriteAddress(ushort type, IPAddress address)
    {
        int size = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 16 : 4;
        if (!address.TryWriteBytes(ReserveAttribute(type, size), out _))
            throw new ArgumentException($"cannot encode address {address}", nameof(address));
    }

    /// <summary>Starts a nested attribute; returns its offset for <see cref="EndNested"/>.</summary>
    /// <param name="setNestedFlag">Sets <c>NLA_F_NESTED</c>, which strict kernel policies (generic netlink) expect.</param>
    public int BeginNested(ushort type, bool setNestedFlag = true)
    {
        int start = _length;
        ReserveAttribute((ushort)(type | (setNestedFlag ? NetlinkAttribute.NestedFlag : 0)), 0);
        return start;
    }

    public void EndNested(int start)
    {
        int length = _length - start;
        if (length > ushort.MaxValue) throw new InvalidOperationException($"nested attribute is {length} bytes; netlink attributes are limited to 65535");
        MemoryMarshal.Write(_buffer.AsSpan(start), (ushort)length);
    }

    private void PatchLength32(int start) => MemoryMarshal.Write(_buffer.AsSpan(start), (uint)(_length - start));

    private Span<byte> Reserve(int size)
    {
        int padded = NetlinkAlignment.Align(size);
        if (_length + padded > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + padded));
        var span = _buffer.AsSpan(_length, padded);
        span[size..].Clear();
        _length += padded;
        return span[..size];
    }
}
