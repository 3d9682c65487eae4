using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace Overlay.Core.Net;

/// <summary>A WireGuard public (or preshared) key: 32 bytes, base64 in every file format WireGuard uses.</summary>
/// <remarks>In JSON too (the converter also keeps the JSON source generator away from the span member).</remarks>
[JsonConverter(typeof(Api.WireGuardKeyConverter))]
public readonly struct WireGuardKey : IEquatable<WireGuardKey>
{
    public const int Size = 32;
    private readonly byte[]? _bytes;

    public WireGuardKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException($"a WireGuard key is {Size} bytes, got {bytes.Length}", nameof(bytes));
        _bytes = bytes.ToArray();
    }

    public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[Size];
    public bool IsZero => _bytes is null || _bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Why a low-order key is refused, for messages.</summary>
    public const string LowOrderMessage =
        "a low-order Curve25519 point (such as all zeros): no private key produces it, and every Diffie-Hellman with it gives a value an attacker knows";

    /// <summary>
    /// True for the points of order 1, 2, 4 or 8 (the all-zero key among them), in any encoding X25519 accepts (the top
    /// bit ignored, values from p up reduced): as a public key such a point makes the shared secret predictable.
    /// Decided by X25519 itself (BouncyCastle), not a list: a clamped scalar is 8 (the cofactor) times a number smaller
    /// than either large prime order (curve and twist), so X25519 of any clamped scalar with the point is zero exactly
    /// when the point's order divides 8. That all-zero result is the check RFC 7748 section 6.1 asks of a Diffie-Hellman.
    /// </summary>
    public bool IsLowOrder
    {
        get
        {
            Span<byte> shared = stackalloc byte[Size];
            return !Org.BouncyCastle.Math.EC.Rfc7748.X25519.CalculateAgreement(LowOrderProbeScalar, Bytes, shared);
        }
    }

    /// <summary>Any scalar serves (X25519 clamps it); this one is RFC 7748 section 6.1's Alice.</summary>
    private static readonly byte[] LowOrderProbeScalar =
        Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");

    public static bool TryParse(string? base64, out WireGuardKey key, out string? error)
    {
        key = default;
        error = null;
        Span<byte> buf = stackalloc byte[Size + 3];
        if (base64 is null || base64.Length != 44 || !base64.EndsWith('=') ||
            !Convert.TryFromBase64String(base64, buf, out int n) || n != Size)
        {
            error = "not a WireGuard key: expected 44 characters of base64 (32 bytes), as printed by 'wg pubkey'";
            return false;
        }
        key = new WireGuardKey(buf[..Size]);
        return true;
    }

    public static WireGuardKey Parse(string base64) =>
        TryParse(base64, out var k, out var e) ? k : throw new FormatException(e);

    /// <summary>UAPI (wireguard-go, boringtun) speaks keys in lowercase hex.</summary>
    public static WireGuardKey FromHex(string hex) => new(Convert.FromHexString(hex));
    public string ToHex() => Convert.ToHexStringLower(Bytes);
    public string ToBase64() => Convert.ToBase64String(Bytes);
    public override string ToString() => ToBase64();

    public bool Equals(WireGuardKey other) => Bytes.SequenceEqual(other.Bytes);
    public override bool Equals(object? obj) => obj is WireGuardKey k && Equals(k);
    public override int GetHashCode() => HashCode.Combine(BitConverter.ToInt32(Bytes[..4]), BitConverter.ToInt32(Bytes[28..]));
    public static bool operator ==(WireGuardKey a, WireGuardKey b) => a.Equals(b);
    public static bool operator !=(WireGuardKey a, WireGuardKey b) => !a.Equals(b);
}

/// <summary>
/// A WireGuard private key. It never prints itself: ToString, string interpolation and logging show
/// "(redacted)"; the material leaves only through <see cref="RevealBase64"/>/<see cref="RevealHex"/>,
/// whose names make every use visible in review.
/// </summary>
public sealed class WireGuardPrivateKey : IEquatable<WireGuardPrivateKey>
{
    private readonly byte[] _bytes;

    public WireGuardPrivateKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != WireGuardKey.Size) throw new ArgumentException("a WireGuard private key is 32 bytes", nameof(bytes));
        _bytes = bytes.ToArray();
    }

    public static bool TryParse(string? base64, out WireGuardPrivateKey? key, out string? error)
    {
        key = null;
        // The parse error must not echo the input: it may be a real key with one character wrong.
        if (!WireGuardKey.TryParse(base64?.Trim(), out var k, out error)) return false;
        key = new WireGuardPrivateKey(k.Bytes);
        return true;
    }

    public static WireGuardPrivateKey FromHex(string hex) => new(Convert.FromHexString(hex));

    /// <summary>Generates a clamped Curve25519 private key, as 'wg genkey' does.</summary>
    public static WireGuardPrivateKey Generate()
    {
        Span<byte> b = stackalloc byte[WireGuardKey.Size];
        RandomNumberGenerator.Fill(b);
        b[0] &= 248;
        b[31] = (byte)((b[31] & 127) | 64);
        return new WireGuardPrivateKey(b);
    }

    public string RevealBase64() => Convert.ToBase64String(_bytes);
    public string RevealHex() => Convert.ToHexStringLower(_bytes);
    public ReadOnlySpan<byte> RevealBytes() => _bytes;
    public override string ToString() => "(redacted)";

    public bool Equals(WireGuardPrivateKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => Equals(obj as WireGuardPrivateKey);
    public override int GetHashCode() => 0; // never hash key material into observable state
}
