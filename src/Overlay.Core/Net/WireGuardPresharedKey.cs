using System.Security.Cryptography;

namespace Overlay.Core.Net;

/// <summary>
/// A WireGuard preshared key: secret like a private key, so it never prints itself. The all-zero key
/// (<see cref="None"/>) means "no preshared key" on every backend; configuring it clears the key.
/// </summary>
public sealed class WireGuardPresharedKey : IEquatable<WireGuardPresharedKey>
{
    private readonly byte[] _bytes;

    public WireGuardPresharedKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != WireGuardKey.Size) throw new ArgumentException("a WireGuard preshared key is 32 bytes", nameof(bytes));
        _bytes = bytes.ToArray();
    }

    /// <summary>The all-zero key: configuring it removes a peer's preshared key.</summary>
    public static WireGuardPresharedKey None { get; } = new(new byte[WireGuardKey.Size]);

    public bool IsNone => _bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    public static bool TryParse(string? base64, out WireGuardPresharedKey? key, out string? error)
    {
        key = null;
        // Like the private key: the error never echoes the input.
        if (!WireGuardKey.TryParse(base64?.Trim(), out var k, out error)) return false;
        key = new WireGuardPresharedKey(k.Bytes);
        return true;
    }

    public static WireGuardPresharedKey FromHex(string hex) => new(Convert.FromHexString(hex));

    /// <summary>32 random bytes, as 'wg genpsk' does.</summary>
    public static WireGuardPresharedKey Generate() => new(RandomNumberGenerator.GetBytes(WireGuardKey.Size));

    public string RevealBase64() => Convert.ToBase64String(_bytes);
    public string RevealHex() => Convert.ToHexStringLower(_bytes);
    public ReadOnlySpan<byte> RevealBytes() => _bytes;
    public override string ToString() => "(redacted)";

    public bool Equals(WireGuardPresharedKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => Equals(obj as WireGuardPresharedKey);
    public override int GetHashCode() => 0; // never hash key material into observable state
}
