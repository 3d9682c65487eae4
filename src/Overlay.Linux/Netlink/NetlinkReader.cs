using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Overlay.Linux.Netlink;

/// <summary>One message read from a buffer: its header and the payload after the header.</summary>
public readonly ref struct NetlinkMessage
{
    public NetlinkMessage(NetlinkMessageHeader header, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    public NetlinkMessageHeader Header { get; }
    public ReadOnlySpan<byte> Payload { get; }
    public ushort Type => Header.Type;
    public NetlinkMessageFlags Flags => Header.Flags;
    public uint Sequence => Header.Sequence;

    /// <summary>Reads the fixed family header (e.g. <c>rtmsg</c>) at the start of the payload.</summary>
    public T ReadFamilyHeader<T>() where T : unmanaged
    {
        if (Payload.Length < Unsafe.SizeOf<T>())
            throw new NetlinkFormatException($"message type {Type} has {Payload.Length} payload bytes; its family header {typeof(T).Name} needs {Unsafe.SizeOf<T>()}");
        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes after a family header of <paramref name="familyHeaderSize"/> bytes (padded to 4).</summary>
    public NetlinkAttributeReader Attributes(int familyHeaderSize)
    {
        int offset = NetlinkAlignment.Align(familyHeaderSize);
        if (offset > Payload.Length)
            throw new NetlinkFormatException($"message type {Type} is shorter ({Payload.Length}) than its family header ({familyHeaderSize})");
        return new NetlinkAttributeReader(Payload[offset..]);
    }
}

/// <summary>Enumerates the messages packed in a receive buffer (<c>foreach (var m in new NetlinkMessageReader(buf))</c>).</summary>
public ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;
    private NetlinkMessage _current;

    public NetlinkMessageReader(ReadOnlySpan<byte> buffer) => _rest = buffer;

    public readonly NetlinkMessage Current => _current;
    public readonly NetlinkMessageReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty) return false;
        if (_rest.Length < NetlinkMessageHeader.Size)
            throw new NetlinkFormatException($"{_rest.Length} trailing bytes are too short for a netlink header ({NetlinkMessageHeader.Size})");
        var header = MemoryMarshal.Read<NetlinkMessageHeader>(_rest);
        if (header.Length < NetlinkMessageHeader.Size || header.Length > _rest.Length)
            throw new NetlinkFormatException($"netlink message type {header.Type} seq {header.Sequence} claims {header.Length} bytes; {_rest.Length} remain");
        _current = new NetlinkMessage(header, _rest.Slice(NetlinkMessageHeader.Size, (int)header.Length - NetlinkMessageHeader.Size));
        int advance = Math.Min(NetlinkAlignment.Align((int)header.Length), _rest.Length);
        _rest = _rest[advance..];
        return true;
    }
}

/// <summary>One attribute: its type (without the NESTED/NET_BYTEORDER flags) and value, with typed getters.</summary>
public readonly ref struct NetlinkAttribute
{
    public const ushort NestedFlag = 0x8000;
    public const ushort NetByteOrderFlag = 0x4000;
    public const ushort TypeMask = 0x3fff;

    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> value)
    {
        RawType = rawType;
        Value = value;
    }

    public ushort RawType { get; }
    public ushort Type => (ushort)(RawType & TypeMask);
    public bool IsNestedFlagSet => (RawType & NestedFlag) != 0;
    public ReadOnlySpan<byte> Value { get; }

    public byte GetUInt8() => Value[Check(1)];
    public ushort GetUInt16() => MemoryMarshal.Read<ushort>(Value[..Check(2)]);
    public uint GetUInt32() => MemoryMarshal.Read<uint>(Value[..Check(4)]);
    public int GetInt32() => MemoryMarshal.Read<int>(Value[..Check(4)]);
    public ulong GetUInt64() => MemoryMarshal.Read<ulong>(Value[..Check(8)]);
    public ushort GetUInt16BigEndian() => BinaryPrimitives.ReadUInt16BigEndian(Value[..Check(2)]);
    public T Get<T>() where T : unmanaged => MemoryMarshal.Read<T>(Value[..Check(Unsafe.SizeOf<T>())]);

    /// <summary>The string up to the first NUL (or the whole value when it has none).</summary>
    public string GetString()
    {
        int nul = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? Value : Value[..nul]);
    }

    /// <summary>An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order.</summary>
    public IPAddress GetAddress() => Value.Length switch
    {
        4 or 16 => new IPAddress(Value),
        _ => throw new NetlinkFormatException($"attribute {Type} has {Value.Length} bytes; an address has 4 or 16"),
    };

    public NetlinkAttributeReader GetNested() => new(Value);

    private int Check(int size)
    {
        if (Value.Length < size)
            throw new NetlinkFormatException($"attribute {Type} has {Value.Length} bytes; expected at least {size}");
        return size == 1 ? 0 : size;
    }
}

/// <summary>Enumerates attributes in a buffer; use <see cref="NetlinkAttribute.GetNested"/> to descend.</summary>
public ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;
    private NetlinkAttribute _current;

    public NetlinkAttributeReader(ReadOnlySpan<byte> buffer) => _rest = buffer;

    public readonly NetlinkAttribute Current => _current;
    public readonly NetlinkAttributeReader GetEnumerator() => this;

    public bool MoveNext()
    {
        // Fewer than 4 bytes left is padding the kernel may leave at the end of a message.
        if (_rest.Length < 4) return false;
        ushort length = MemoryMarshal.Read<ushort>(_rest);
        ushort type = MemoryMarshal.Read<ushort>(_rest[2..]);
        if (length < 4 || length > _rest.Length)
            throw new NetlinkFormatException($"netlink attribute type {type & NetlinkAttribute.TypeMask} claims {length} bytes; {_rest.Length} remain");
        _current = new NetlinkAttribute(type, _rest[4..length]);
        _rest = _rest[Math.Min(NetlinkAlignment.Align(length), _rest.Length)..];
        return true;
    }
}
