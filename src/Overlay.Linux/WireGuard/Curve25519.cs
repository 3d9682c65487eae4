using System.Numerics;
using Overlay.Core.Net;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// X25519 base-point multiplication (RFC 7748), only to derive a device's public key from its private key:
/// the UAPI 'get' reply carries the private key but not the public one, and .NET has no X25519.
/// Not constant-time (BigInteger); it runs on keys this process already holds, never on attacker timing.
/// </summary>
internal static class Curve25519
{
    private static readonly BigInteger P = (BigInteger.One << 255) - 19;
    private static readonly BigInteger A24 = 121665;

    public static WireGuardKey PublicKey(WireGuardPrivateKey privateKey)
    {
        Span<byte> k = stackalloc byte[32];
        privateKey.RevealBytes().CopyTo(k);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        var scalar = new BigInteger(k, isUnsigned: true, isBigEndian: false);
        k.Clear();

        BigInteger x1 = 9, x2 = 1, z2 = 0, x3 = 9, z3 = 1;
        bool swap = false;
        for (int t = 254; t >= 0; t--)
        {
            bool bit = !(scalar >> t).IsEven;
            if (swap ^ bit)
            {
                (x2, x3) = (x3, x2);
                (z2, z3) = (z3, z2);
            }
            swap = bit;
            var a = Mod(x2 + z2);
            var aa = Mod(a * a);
            var b = Mod(x2 - z2);
            var bb = Mod(b * b);
            var e = Mod(aa - bb);
            var c = Mod(x3 + z3);
            var d = Mod(x3 - z3);
            var da = Mod(d * a);
            var cb = Mod(c * b);
            x3 = Mod((da + cb) * (da + cb));
            var diff = da - cb;
            z3 = Mod(x1 * Mod(diff * diff));
            x2 = Mod(aa * bb);
            z2 = Mod(e * (aa + A24 * e));
        }
        if (swap)
        {
            x2 = x3;
            z2 = z3;
        }
        var u = Mod(x2 * BigInteger.ModPow(z2, P - 2, P));
        Span<byte> result = stackalloc byte[32];
        u.TryWriteBytes(result, out _, isUnsigned: true, isBigEndian: false);
        return new WireGuardKey(result);
    }

    private static BigInteger Mod(BigInteger x)
    {
        var r = x % P;
        return r.Sign < 0 ? r + P : r;
    }
}
