using System.Net;
using Overlay.Core.Net;
using Overlay.Core.Prefixes;

namespace Overlay.Core.Tests.Prefixes;

/// <summary>Seeded generator of prefixes that nest and collide often (FsCheck is not available here).</summary>
internal sealed class PrefixGen(int seed)
{
    private readonly Random _rng = new(seed);
    private readonly List<IpPrefix> _seen = [];

    public Random Rng => _rng;

    public IpPrefix Next()
    {
        int roll = _rng.Next(100);
        IpPrefix p;
        if (roll < 4) p = _rng.Next(2) == 0 ? IpPrefix.Parse("0.0.0.0/0") : IpPrefix.Parse("::/0");
        else if (roll < 45 && _seen.Count > 0)
        {
            // Derive from an existing prefix: a child, a parent, a sibling or the same one.
            var b = _seen[_rng.Next(_seen.Count)];
            int len = Math.Clamp(b.Length + _rng.Next(-4, 9), 0, b.MaxLength);
            var bits = b.Bits ^ (RandomBits(b.IsIPv6) & ~IpPrefix.Mask(b.Length, b.IsIPv6));
            p = Make(bits, len, b.IsIPv6);
        }
        else
        {
            bool v6 = _rng.Next(3) == 0;
            int max = v6 ? 128 : 32;
            int len = _rng.Next(5) == 0 ? max : _rng.Next(max + 1);
            // A small address space so random prefixes collide and nest.
            var bits = RandomBits(v6) & ~(v6 ? (UInt128.MaxValue >> 6) & ~(UInt128.MaxValue >> 124)
                                            : (UInt128)((uint.MaxValue >> 4) & ~(uint.MaxValue >> 28)));
            p = Make(bits, len, v6);
        }
        _seen.Add(p);
        return p;
    }

    public IPAddress NextAddress()
    {
        var p = _seen.Count > 0 && _rng.Next(4) != 0 ? _seen[_rng.Next(_seen.Count)] : Next();
        var bits = p.Bits | (RandomBits(p.IsIPv6) & ~IpPrefix.Mask(p.Length, p.IsIPv6));
        return IpPrefix.ToAddress(bits, p.IsIPv6);
    }

    private UInt128 RandomBits(bool v6)
    {
        ulong hi = (ulong)_rng.NextInt64(), lo = (ulong)_rng.NextInt64();
        var all = new UInt128(hi << 1 | (uint)_rng.Next(2), lo << 1 | (uint)_rng.Next(2));
        return v6 ? all : all & uint.MaxValue;
    }

    private static IpPrefix Make(UInt128 bits, int len, bool v6) => IpPrefix.Create(IpPrefix.ToAddress(bits, v6), len);
}

public class PrefixTableTests
{
    private static IpPrefix P(string s) => IpPrefix.Parse(s);

    [Fact]
    public void Longest_match_picks_the_most_specific_route()
    {
        var t = new PrefixTable<string>();
        t.Add(P("0.0.0.0/0"), "default");
        t.Add(P("10.0.0.0/8"), "ten");
        t.Add(P("10.1.0.0/16"), "ten-one");
        t.Add(P("10.1.2.3/32"), "host");
        t.Add(P("2001:db8::/32"), "doc6");

        Assert.True(t.TryLongestMatch(IPAddress.Parse("10.1.2.3"), out var m, out var v));
        Assert.Equal(("10.1.2.3/32", "host"), (m.ToString(), v));
        Assert.True(t.TryLongestMatch(IPAddress.Parse("10.1.9.9"), out _, out v));
        Assert.Equal("ten-one", v);
        Assert.True(t.TryLongestMatch(IPAddress.Parse("192.0.2.1"), out _, out v));
        Assert.Equal("default", v);
        Assert.True(t.TryLongestMatch(IPAddress.Parse("2001:db8::1"), out _, out v));
        Assert.Equal("doc6", v);
        Assert.False(t.TryLongestMatch(IPAddress.Parse("2001:db9::1"), out _, out _));
    }

    [Fact]
    public void Families_never_mix()
    {
        var t = new PrefixTable<int>();
        t.Add(P("0.0.0.0/0"), 4);
        Assert.False(t.TryLongestMatch(IPAddress.Parse("::1"), out _, out _));
        Assert.Empty(t.GetOverlapping(P("::/0")));
        t.Add(P("::/0"), 6);
        Assert.Equal(2, t.Count);
        Assert.Equal([P("0.0.0.0/0"), P("::/0")], t.Select(e => e.Key));
    }

    [Fact]
    public void Overlapping_returns_covering_then_covered()
    {
        var t = new PrefixTable<int>();
        foreach (var (s, i) in new[] { "10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24", "10.1.2.0/24", "10.2.0.0/16", "11.0.0.0/8" }.Select((s, i) => (s, i)))
            t.Add(P(s), i);
        Assert.Equal(["10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24", "10.1.2.0/24"],
            t.GetOverlapping(P("10.1.0.0/16")).Select(e => e.Key.ToString()));
        Assert.Equal(["10.0.0.0/8", "10.1.0.0/16"], t.GetCovering(P("10.1.3.0/24")).Select(e => e.Key.ToString()));
        Assert.Empty(t.GetCovered(P("10.1.3.0/24")));
    }

    [Fact]
    public void Remove_keeps_the_trie_compressed()
    {
        var t = new PrefixTable<int>();
        var all = Enumerable.Range(0, 256).Select(i => P($"10.0.{i}.0/24")).ToList();
        foreach (var p in all) t.Add(p, 1);
        foreach (var p in all) Assert.True(t.Remove(p));
        Assert.Empty(t);
        Assert.Equal(2, t.NodeCount); // only the two family roots remain
        Assert.False(t.Remove(P("10.0.0.0/24")));
    }

    [Fact]
    public void Add_rejects_duplicates_and_indexer_throws_on_missing()
    {
        var t = new PrefixTable<int>();
        t.Add(P("10.0.0.0/8"), 1);
        Assert.Throws<ArgumentException>(() => t.Add(P("10.0.0.0/8"), 2));
        Assert.Throws<KeyNotFoundException>(() => t[P("10.0.0.0/9")]);
        t[P("10.0.0.0/8")] = 3;
        Assert.Equal(3, t[P("10.0.0.0/8")]);
    }

    public static TheoryData<int> Seeds()
    {
        var d = new TheoryData<int>();
        for (int s = 1; s <= 40; s++) d.Add(s);
        return d;
    }

    /// <summary>Random operation sequences checked step by step against a dictionary and a linear scan.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Matches_brute_force_model(int seed)
    {
        var gen = new PrefixGen(seed);
        var rng = gen.Rng;
        var table = new PrefixTable<int>();
        var model = new Dictionary<IpPrefix, int>();
        int ops = 400;
        for (int op = 0; op < ops; op++)
        {
            int kind = rng.Next(10);
            var p = gen.Next();
            if (kind < 1)
            {
                bool added = table.TryAdd(p, op, out var existing);
                Assert.Equal(!model.ContainsKey(p), added);
                if (added) model[p] = op;
                else Assert.Equal(model[p], existing);
            }
            else if (kind < 5)
            {
                bool added = table.Set(p, op);
                Assert.Equal(!model.ContainsKey(p), added);
                model[p] = op;
            }
            else if (kind < 7)
            {
                // Remove something that exists most of the time.
                if (model.Count > 0 && rng.Next(3) != 0) p = model.Keys.ElementAt(rng.Next(model.Count));
                bool removed = model.Remove(p, out var mv);
                Assert.Equal(removed, table.Remove(p, out var tv));
                if (removed) Assert.Equal(mv, tv);
            }
            else if (kind < 8)
            {
                var a = gen.NextAddress();
                var expected = model.Where(e => e.Key.Contains(a)).OrderByDescending(e => e.Key.Length).Take(1).ToList();
                bool found = table.TryLongestMatch(a, out var m, out var v);
                Assert.Equal(expected.Count > 0, found);
                if (found) Assert.Equal((expected[0].Key, expected[0].Value), (m, v));
                Assert.Equal(found, table.TryLongestMatch(a, out int v2));
                if (found) Assert.Equal(expected[0].Value, v2);
            }
            else if (kind < 9)
            {
                var expected = model.Where(e => e.Key.Overlaps(p)).Select(e => (e.Key, e.Value)).OrderBy(e => e.Key).ToList();
                var actual = table.GetOverlapping(p).Select(e => (e.Key, e.Value)).OrderBy(e => e.Key).ToList();
                Assert.Equal(expected, actual);
                Assert.Equal(model.Where(e => e.Key.Contains(p)).Select(e => e.Key).OrderBy(k => k.Length),
                    table.GetCovering(p).Select(e => e.Key));
                Assert.Equal(model.Where(e => p.Contains(e.Key)).Select(e => e.Key).Order(),
                    table.GetCovered(p).Select(e => e.Key));
            }
            else
            {
                Assert.Equal(model.ContainsKey(p), table.TryGetValue(p, out var v));
                if (model.TryGetValue(p, out var mv)) Assert.Equal(mv, v);
                bool lpm = table.TryLongestMatch(p, out var m, out _);
                var exp = model.Keys.Where(k => k.Contains(p)).OrderByDescending(k => k.Length).ToList();
                Assert.Equal(exp.Count > 0, lpm);
                if (lpm) Assert.Equal(exp[0], m);
                var strict = model.Where(e => e.Key.Contains(p) && e.Key != p).OrderByDescending(e => e.Key.Length).ToList();
                Assert.Equal(strict.Count > 0, table.TryGetNearestCover(p, out var cm, out var cv));
                if (strict.Count > 0) Assert.Equal((strict[0].Key, strict[0].Value), (cm, cv));
                Assert.Equal(strict.Count > 0, table.TryGetNearestCover(p, out int cv2));
                if (strict.Count > 0) Assert.Equal(strict[0].Value, cv2);
            }
            Assert.Equal(model.Count, table.Count);
        }
        // One walk pairs every entry with its nearest strict cover, as the per-entry query does.
        var pairs = new List<(int, int)>();
        table.ForEachNearestCover((outer, inner) => pairs.Add((outer, inner)));
        var expectedPairs = new List<(int, int)>();
        foreach (var (k, v) in model)
            if (table.TryGetNearestCover(k, out int cover)) expectedPairs.Add((cover, v));
        Assert.Equal(expectedPairs.Order(), pairs.Order());

        // Enumeration is sorted and complete; compression bounds the node count.
        Assert.Equal(model.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), table.Select(e => (e.Key, e.Value)));
        Assert.True(table.NodeCount <= 2 * model.Count + 2, $"{table.NodeCount} nodes for {model.Count} entries");
    }

    [Fact]
    public void Holds_many_host_routes()
    {
        var t = new PrefixTable<int>(100_000);
        var rng = new Random(7);
        var keys = new HashSet<IpPrefix>();
        while (keys.Count < 100_000) keys.Add(IpPrefix.Host(new IPAddress(rng.Next()).MapToIPv4()));
        int i = 0;
        foreach (var k in keys) t.Add(k, i++);
        Assert.Equal(keys.Count, t.Count);
        i = 0;
        foreach (var k in keys) { Assert.True(t.TryLongestMatch(k.Address, out var m, out var v)); Assert.Equal((k, i++), (m, v)); }
    }
}
