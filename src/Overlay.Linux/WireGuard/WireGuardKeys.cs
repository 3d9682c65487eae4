using Overlay.Core.Net;

namespace Overlay.Linux.WireGuard;

/// <summary>Key derivation as 'wg pubkey' does it.</summary>
public static class WireGuardKeys
{
    /// <summary>The public key that belongs to <paramref name="privateKey"/> (X25519 with the base point).</summary>
    public static WireGuardKey PublicKeyOf(WireGuardPrivateKey privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        return Curve25519.PublicKey(privateKey);
    }
}
