using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Overlay.Core.Net;

/// <summary>
/// An IPv4 or IPv6 prefix in canonical form (host bits cleared). Stored as a 128-bit value so
/// containment and overlap are a mask and a compare, which matters for lint over millions of entries.
/// IPv4 prefixes occupy the low 32 bits; the family is kept separately so 10.0.0.0/8 and ::a00:0/104
/// never compare equal.
/// </summary>
public readonly struct IpPrefix : IEquatable<IpPrefix>, IComparable<IpPrefix>, IUtf8SpanFormattable
{
    private readonly UInt128 _bits;
    private readonly byte _length;
    private readonly bool _v6;

    private IpPrefix(UInt128 bits, int length, bool v6)
    {
        _v6 = v6;
        _length = (byte)length;
        _bits = bits & Mask(length, v6);
    }

    public bool IsIPv6 => _v6;
    public AddressFamily Family => _v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
    public int Length => _length;
    public int MaxLength => _v6 ? 128 : 32;
    /// <summary>A /32 or /128.</summary>
    public bool IsHost => _length == MaxLength;
    /// <summary>The network address as an unsigned number (IPv4 in the low 32 bits).</summary>
    public UInt128 Bits => _bits;
    public IPAddress Address => ToAddress(_bits, _v6);

    public static IpPrefix Create(IPAddress address, int length)
    {
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (!v6 && address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"not an IP address family: {address.AddressFamily}", nameof(address));
        int max = v6 ? 128 : 32;
        if ((uint)length > (uint)max)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"prefix length must be 0..{max}");
        return new IpPrefix(ToBits(address), length, v6);
    }

    public static IpPrefix Host(IPAddress address) =>
        Create(address, address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32);

    public static IpPrefix Parse(string text) =>
        TryParse(text, strict: false, out var p, out var error) ? p : throw new FormatException(error);

    /// <summary>
    /// Parses "a.b.c.d/len", "x::y/len", or a bare address (a host prefix).
    /// With <paramref name="strict"/>, host bits set below the length are an error
    /// ("10.0.0.1/8" is usually a typo for 10.0.0.0/8 or 10.0.0.1/32).
    /// </summary>
    public static bool TryParse(string? text, bool strict, out IpPrefix prefix, out string? error)
    {
        prefix = default;
        error = null;
        if (string.IsNullOrWhiteSpace(text)) { error = "empty prefix; expected e.g. 10.0.0.0/8"; return false; }
        text = text.Trim();
        int slash = text.IndexOf('/');
        string addrText = slash < 0 ? text : text[..slash];
        if (!IpAddressText.TryParse(addrText, out var addr, out var why))
        {
            error = why!.Contains("leading zero", StringComparison.Ordinal)
                ? $"'{text}' is not an IP prefix: {why}"
                : $"'{text}' is not an IP prefix; expected e.g. 10.0.0.0/8 or 2001:db8::/32";
            return false;
        }
        bool v6 = addr.AddressFamily == AddressFamily.InterNetworkV6;
        int max = v6 ? 128 : 32;
        int length = max;
        if (slash >= 0)
        {
            var lenText = text.AsSpan(slash + 1);
            if (lenText.Length == 0 || lenText.Length > 3 || !int.TryParse(lenText, System.Globalization.NumberStyles.None, null, out length) || length > max)
            {
                error = $"'{text}' has an invalid prefix length; expected 0..{max}";
                return false;
            }
        }
        var bits = ToBits(addr);
        if (strict && (bits & ~Mask(length, v6)) != 0)
        {
            var canonical = new IpPrefix(bits, length, v6);
            error = $"'{text}' has host bits set; write {canonical} for the network or {addrText}/{max} for the host";
            return false;
        }
        prefix = new IpPrefix(bits, length, v6);
        return true;
    }

    public bool Contains(IPAddress address)
    {
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (v6 != _v6) return false;
        return (ToBits(address) & Mask(_length, _v6)) == _bits;
    }

    /// <summary>True when every address of <paramref name="other"/> is inside this prefix.</summary>
    public bool Contains(IpPrefix other) =>
        other._v6 == _v6 && other._length >= _length && (other._bits & Mask(_length, _v6)) == _bits;

    /// <summary>Two prefixes overlap exactly when one contains the other.</summary>
    public bool Overlaps(IpPrefix other) => Contains(other) || other.Contains(this);

    public bool Equals(IpPrefix other) => _bits == other._bits && _length == other._length && _v6 == other._v6;
    public override bool Equals(object? obj) => obj is IpPrefix p && Equals(p);
    public override int GetHashCode() => HashCode.Combine(_bits, _length, _v6);
    public static bool operator ==(IpPrefix a, IpPrefix b) => a.Equals(b);
    public static bool operator !=(IpPrefix a, IpPrefix b) => !a.Equals(b);

    /// <summary>IPv4 before IPv6, then by address, then shorter first: a stable order for rendered files.</summary>
    public int CompareTo(IpPrefix other)
    {
        int c = _v6.CompareTo(other._v6);
        if (c != 0) return c;
        c = _bits.CompareTo(other._bits);
        return c != 0 ? c : _length.CompareTo(other._length);
    }

    public override string ToString() => $"{Address}/{_length}";

    /// <summary>The same text as <see cref="ToString"/>, as UTF-8 (rendered files write prefixes by the million).</summary>
    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        bytesWritten = 0;
        if (!Address.TryFormat(utf8Destination, out int address) || address >= utf8Destination.Length) return false;
        utf8Destination[address] = (byte)'/';
        if (!_length.TryFormat(utf8Destination[(address + 1)..], out int length, default, System.Globalization.CultureInfo.InvariantCulture)) return false;
        bytesWritten = address + 1 + length;
        return true;
    }

    public static UInt128 Mask(int length, bool v6)
    {
        int max = v6 ? 128 : 32;
        if (length == 0) return UInt128.Zero;
        UInt128 all = v6 ? UInt128.MaxValue : uint.MaxValue;
        return (all << (max - length)) & all;
    }

    public static UInt128 ToBits(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out int written))
            throw new ArgumentException("cannot read address bytes", nameof(address));
        return written == 4
            ? BinaryPrimitives.ReadUInt32BigEndian(b)
            : BinaryPrimitives.ReadUInt128BigEndian(b);
    }

    public static IPAddress ToAddress(UInt128 bits, bool v6)
    {
        if (!v6)
        {
            Span<byte> b4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b4, (uint)bits);
            return new IPAddress(b4);
        }
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(b, bits);
        return new IPAddress(b);
    }
}
