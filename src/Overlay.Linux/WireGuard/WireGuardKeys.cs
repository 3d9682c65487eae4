using Org.BouncyCastle.Math.EC.Rfc7748;
using Overlay.Core.Net;

namespace Overlay.Linux.WireGuard;

/// <summary>Key derivation as 'wg pubkey' does it.</summary>
public static class WireGuardKeys
{
    /// <summary>
    /// The public key that belongs to <paramref name="privateKey"/>: X25519 with the base point (RFC 7748), computed by
    /// BouncyCastle (constant-time; chosen over NSec/libsodium by measurement, docs/benchmarks.md). The UAPI 'get'
    /// reply carries the private key but not the public one, and .NET has no X25519 of its own.
    /// </summary>
    public static WireGuardKey PublicKeyOf(WireGuardPrivateKey privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        Span<byte> publicKey = stackalloc byte[WireGuardKey.Size];
        X25519.GeneratePublicKey(privateKey.RevealBytes(), publicKey); // clamps a copy of the scalar, as X25519 does
        return new WireGuardKey(publicKey);
    }
}
