using System.Buffers.Binary;
using System.Text;

namespace Overlay.Fuzz.Tests;

/// <summary>
/// Structure-aware mutation of valid seed inputs: a fuzz input is (seed, random stream, number of edits), so any
/// failure is reproduced from the seed CsCheck prints. Binary inputs are edited at the netlink message and
/// attribute headers found by walking the seed (lengths, types, the nested flag), text inputs by line and token,
/// and both also by plain byte edits and splices from other seeds.
/// </summary>
internal static class Mutator
{
    // Values that sit on the boundaries parsers get wrong: lengths around a header, sign and width limits.
    private static readonly int[] InterestingLengths = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 19, 20, 0x7fff, 0x8000, 0xffff];

    private static readonly string[] InterestingTokens =
    [
        "", "0", "-1", "-0", "1e309", "-1e309", "NaN", "Infinity", "18446744073709551616", "9223372036854775808",
        "-9223372036854775809", "2147483648", "4294967296", "65536", "0x10", "010", "1.5", "00", "+1",
        "null", "true", "false", "[]", "{}", "[null]", "{\"\":null}", "\"\"", "\"x\"", "~", "''", "'", "\"",
        "0.0.0.0", "255.255.255.255", "256.1.1.1", "010.0.1.2", "1.2.3", "::", "::ffff:1.2.3.4", "fe80::1%eth0",
        "10.0.0.0/33", "10.0.0.0/-1", "::/129", "1.2.3.4:99999", "[::1]:0", "[::1", "a=b=c",
        "Full/DR", "Established", "Init/DROther", "up", "down", "admin-down", "control-expired",
        "\u0000", "\u00e9", "\ud7ff", "\ufffd", "\t", "\r", "&a", "*a", "!!binary", "!!int", "? ", "- ", "<<: *a",
        new string('a', 300), new string('9', 40),
    ];

    public static byte[] Bytes(byte[] seed, IReadOnlyList<byte[]> seeds, Random r, int edits, Func<byte[], List<int>>? headers)
    {
        var b = new List<byte>(seed);
        for (int i = 0; i < edits; i++)
        {
            var offsets = headers?.Invoke([.. b]);
            int op = r.Next(offsets is { Count: > 0 } ? 10 : 6);
            int n = b.Count;
            switch (op)
            {
                case 0 when n > 0: // flip a bit
                    int p = r.Next(n); b[p] ^= (byte)(1 << r.Next(8)); break;
                case 1 when n > 0: // set a byte to a boundary value
                    b[r.Next(n)] = (byte)(r.Next(4) switch { 0 => 0, 1 => 0xff, 2 => 0x80, _ => r.Next(256) }); break;
                case 2 when n > 0: // delete a range
                    int d = r.Next(n); b.RemoveRange(d, Math.Min(n - d, 1 + r.Next(8))); break;
                case 3: // insert random bytes
                    b.InsertRange(r.Next(n + 1), Enumerable.Range(0, 1 + r.Next(8)).Select(_ => (byte)r.Next(256))); break;
                case 4 when n > 0: // truncate
                    int cut = r.Next(n); b.RemoveRange(cut, n - cut); break;
                case 5: // splice a chunk of another seed
                    var other = seeds[r.Next(seeds.Count)];
                    if (other.Length == 0) break;
                    int from = r.Next(other.Length), len = 1 + r.Next(Math.Min(64, other.Length - from));
                    b.InsertRange(r.Next(n + 1), other.AsSpan(from, len).ToArray()); break;
                case >= 6: // edit a header found in the structure: length, type or nested flag
                    int h = offsets![r.Next(offsets.Count)];
                    if (h + 4 > n) break;
                    var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(b);
                    switch (r.Next(4))
                    {
                        case 0: BinaryPrimitives.WriteUInt16LittleEndian(span[h..], (ushort)InterestingLengths[r.Next(InterestingLengths.Length)]); break;
                        case 1: BinaryPrimitives.WriteUInt16LittleEndian(span[h..], (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(span[h..]) + r.Next(-8, 9))); break;
                        case 2: BinaryPrimitives.WriteUInt16LittleEndian(span[(h + 2)..], (ushort)r.Next(0, 20)); break;
                        default: span[h + 3] ^= 0x80; break;
                    }
                    break;
            }
        }
        return [.. b];
    }

    /// <summary>Offsets of every netlink message header and (recursively) every attribute header in a buffer.</summary>
    public static List<int> NetlinkHeaders(byte[] buffer, Func<ushort, int> familyHeaderSize)
    {
        var result = new List<int>();
        int pos = 0;
        while (pos + 16 <= buffer.Length)
        {
            long len = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(pos));
            if (len < 16 || pos + len > buffer.Length) break;
            result.Add(pos);
            int family = familyHeaderSize(BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(pos + 4)));
            if (len > 16 + family) Attributes(buffer, pos + 16 + ((family + 3) & ~3), pos + (int)len, result, 0);
            pos += ((int)len + 3) & ~3;
        }
        return result;
    }

    private static void Attributes(byte[] b, int pos, int end, List<int> result, int depth)
    {
        while (pos + 4 <= end)
        {
            int len = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(pos));
            if (len < 4 || pos + len > end) return;
            result.Add(pos);
            // Any value that parses as attributes may be a nest; descending into one that is not costs nothing.
            if (len > 8 && depth < 4) Attributes(b, pos + 4, pos + len, result, depth + 1);
            pos += (len + 3) & ~3;
        }
    }

    public static string Text(string seed, IReadOnlyList<string> seeds, Random r, int edits, int maxNesting)
    {
        var lines = new List<string>(seed.Split('\n'));
        for (int i = 0; i < edits; i++)
        {
            int n = lines.Count;
            int li = r.Next(n);
            switch (r.Next(11))
            {
                case 0 when n > 1: lines.RemoveAt(li); break;
                case 1: lines.Insert(li, lines[r.Next(n)]); break;
                case 2 when n > 1: (lines[li], lines[r.Next(n)]) = (lines[r.Next(n)], lines[li]); break;
                case 3: // replace a token of the line with a boundary value
                case 4:
                case 5:
                    lines[li] = ReplaceToken(lines[li], r); break;
                case 6: // insert a character that means something to JSON, YAML or key=value text
                    const string specials = "{}[]\":,'-#&*!|>%@`=\\\t\r\0 \u00a0\u2028";
                    var s = lines[li];
                    lines[li] = s.Insert(r.Next(s.Length + 1), specials[r.Next(specials.Length)].ToString()); break;
                case 7: // splice a line of another seed
                    var other = seeds[r.Next(seeds.Count)].Split('\n');
                    lines.Insert(li, other[r.Next(other.Length)]); break;
                case 8 when lines[li].Length > 0: // truncate a line
                    lines[li] = lines[li][..r.Next(lines[li].Length)]; break;
                case 9: // change indentation
                    lines[li] = r.Next(2) == 0 ? "  " + lines[li] : lines[li].TrimStart(); break;
                case 10: // nesting, bounded (see docs/security.md "Fuzzing": deep nesting is its own finding)
                    int depth = 1 + r.Next(maxNesting);
                    lines[li] += r.Next(2) == 0 ? new string('[', depth) + new string(']', depth) : new string('{', depth) + new string('}', depth);
                    break;
            }
        }
        return string.Join('\n', lines);
    }

    private static string ReplaceToken(string line, Random r)
    {
        // Tokens: runs of letters/digits/./:/- (values, keys, addresses, numbers) or quoted strings.
        var spans = new List<(int Start, int Length)>();
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsLetterOrDigit(line[i]) || line[i] is '.' or ':' or '-' or '/' or '_')
            {
                int start = i;
                while (i < line.Length && (char.IsLetterOrDigit(line[i]) || line[i] is '.' or ':' or '-' or '/' or '_')) i++;
                spans.Add((start, i - start));
            }
            else i++;
        }
        string token = InterestingTokens[r.Next(InterestingTokens.Length)];
        if (spans.Count == 0) return line + token;
        var (st, len) = spans[r.Next(spans.Count)];
        return string.Concat(line.AsSpan(0, st), token, line.AsSpan(st + len));
    }

    public static string Ascii(byte[] b) => Encoding.UTF8.GetString(b);
}
