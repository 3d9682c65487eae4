using System.Buffers.Binary;
using Overlay.Core.Net;

namespace Overlay.Linux.WireGuard;

/// <summary>
/// X25519 base-point multiplication (RFC 7748), only to derive a device's public key from its private key:
/// the UAPI 'get' reply carries the private key but not the public one, and .NET has no X25519.
/// Field elements are five 51-bit limbs with 128-bit products. Not constant-time: it only runs on keys this
/// process already holds, never on input whose timing an attacker can observe.
/// </summary>
internal static class Curve25519
{
    private const ulong Mask51 = (1UL << 51) - 1;

    public static WireGuardKey PublicKey(WireGuardPrivateKey privateKey)
    {
        Span<byte> k = stackalloc byte[32];
        privateKey.RevealBytes().CopyTo(k);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;

        var x1 = new Fe(9, 0, 0, 0, 0);
        Fe x2 = Fe.One, z2 = default, x3 = x1, z3 = Fe.One;
        bool swap = false;
        for (int t = 254; t >= 0; t--)
        {
            bool bit = ((k[t >> 3] >> (t & 7)) & 1) != 0;
            if (swap ^ bit)
            {
                (x2, x3) = (x3, x2);
                (z2, z3) = (z3, z2);
            }
            swap = bit;
            var a = Fe.Add(x2, z2);
            var aa = Fe.Square(a);
            var b = Fe.Sub(x2, z2);
            var bb = Fe.Square(b);
            var e = Fe.Sub(aa, bb);
            var c = Fe.Add(x3, z3);
            var d = Fe.Sub(x3, z3);
            var da = Fe.Mul(d, a);
            var cb = Fe.Mul(c, b);
            x3 = Fe.Square(Fe.Add(da, cb));
            z3 = Fe.Mul(x1, Fe.Square(Fe.Sub(da, cb)));
            x2 = Fe.Mul(aa, bb);
            z2 = Fe.Mul(e, Fe.Add(aa, Fe.MulSmall(e, 121665)));
        }
        k.Clear();
        if (swap)
        {
            x2 = x3;
            z2 = z3;
        }
        Span<byte> result = stackalloc byte[32];
        Fe.Mul(x2, Fe.Invert(z2)).ToBytes(result);
        return new WireGuardKey(result);
    }

    /// <summary>An element of GF(2^255 - 19): value = L0 + L1·2^51 + L2·2^102 + L3·2^153 + L4·2^204.</summary>
    private readonly record struct Fe(ulong L0, ulong L1, ulong L2, ulong L3, ulong L4)
    {
        public static Fe One => new(1, 0, 0, 0, 0);

        public static Fe Add(Fe a, Fe b) => new(a.L0 + b.L0, a.L1 + b.L1, a.L2 + b.L2, a.L3 + b.L3, a.L4 + b.L4);

        /// <summary>a - b + 2p, so limbs stay positive; b must be a product (limbs just above 2^51 at most).</summary>
        public static Fe Sub(Fe a, Fe b) =>
            new(a.L0 + 0xFFFFFFFFFFFDAUL - b.L0, a.L1 + 0xFFFFFFFFFFFFEUL - b.L1, a.L2 + 0xFFFFFFFFFFFFEUL - b.L2,
                a.L3 + 0xFFFFFFFFFFFFEUL - b.L3, a.L4 + 0xFFFFFFFFFFFFEUL - b.L4);

        public static Fe Mul(Fe a, Fe b)
        {
            // 2^255 = 19 (mod p): limbs that wrap past 2^255 come back multiplied by 19.
            ulong b1 = b.L1 * 19, b2 = b.L2 * 19, b3 = b.L3 * 19, b4 = b.L4 * 19;
            UInt128 r0 = M(a.L0, b.L0) + M(a.L1, b4) + M(a.L2, b3) + M(a.L3, b2) + M(a.L4, b1);
            UInt128 r1 = M(a.L0, b.L1) + M(a.L1, b.L0) + M(a.L2, b4) + M(a.L3, b3) + M(a.L4, b2);
            UInt128 r2 = M(a.L0, b.L2) + M(a.L1, b.L1) + M(a.L2, b.L0) + M(a.L3, b4) + M(a.L4, b3);
            UInt128 r3 = M(a.L0, b.L3) + M(a.L1, b.L2) + M(a.L2, b.L1) + M(a.L3, b.L0) + M(a.L4, b4);
            UInt128 r4 = M(a.L0, b.L4) + M(a.L1, b.L3) + M(a.L2, b.L2) + M(a.L3, b.L1) + M(a.L4, b.L0);
            return Carry(r0, r1, r2, r3, r4);
        }

        public static Fe Square(Fe a) => Mul(a, a);

        public static Fe MulSmall(Fe a, ulong n) => Carry(M(a.L0, n), M(a.L1, n), M(a.L2, n), M(a.L3, n), M(a.L4, n));

        /// <summary>z^(p-2) = 1/z (Fermat).</summary>
        public static Fe Invert(Fe z)
        {
            // p - 2 = 2^255 - 21: bits 254..5 set, then 01011.
            Fe result = One;
            for (int i = 254; i >= 0; i--)
            {
                result = Square(result);
                bool bit = i >= 5 || ((0b01011 >> i) & 1) != 0;
                if (bit) result = Mul(result, z);
            }
            return result;
        }

        public void ToBytes(Span<byte> output)
        {
            // Fully reduce into [0, p): propagate carries twice, then subtract p once if the value is still >= p.
            ulong[] l = [L0, L1, L2, L3, L4];
            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < 4; i++)
                {
                    l[i + 1] += l[i] >> 51;
                    l[i] &= Mask51;
                }
                l[0] += 19 * (l[4] >> 51);
                l[4] &= Mask51;
            }
            ulong[] t = [l[0] + 19, l[1], l[2], l[3], l[4]];
            for (int i = 0; i < 4; i++)
            {
                t[i + 1] += t[i] >> 51;
                t[i] &= Mask51;
            }
            if ((t[4] >> 51) != 0)
            {
                t[4] &= Mask51;
                l = t;
            }
            UInt128 low = l[0] | ((UInt128)l[1] << 51) | ((UInt128)l[2] << 102);
            UInt128 high = (l[2] >> 26) | ((UInt128)l[3] << 25) | ((UInt128)l[4] << 76);
            BinaryPrimitives.WriteUInt128LittleEndian(output, low);                  // bits 0..127
            BinaryPrimitives.WriteUInt128LittleEndian(output[16..], high);           // bits 128..254
        }

        private static UInt128 M(ulong a, ulong b) => (UInt128)a * b;

        private static Fe Carry(UInt128 r0, UInt128 r1, UInt128 r2, UInt128 r3, UInt128 r4)
        {
            r1 += r0 >> 51;
            r2 += r1 >> 51;
            r3 += r2 >> 51;
            r4 += r3 >> 51;
            ulong l0 = (ulong)r0 & Mask51, l1 = (ulong)r1 & Mask51, l2 = (ulong)r2 & Mask51, l3 = (ulong)r3 & Mask51, l4 = (ulong)r4 & Mask51;
            UInt128 c = (r4 >> 51) * 19 + l0;
            l0 = (ulong)c & Mask51;
            l1 += (ulong)(c >> 51);
            return new Fe(l0, l1, l2, l3, l4);
        }
    }
}
