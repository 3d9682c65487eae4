using Overlay.Core.Net;
using Overlay.Core.Prefixes;

namespace Overlay.Core.Tests.Prefixes;

public class OverlapFinderTests
{
    private static OwnedPrefix E(int group, int owner, string prefix) => new(group, owner, IpPrefix.Parse(prefix));

    [Fact]
    public void Reports_nearest_cover_with_another_owner()
    {
        OwnedPrefix[] entries =
        [
            E(0, 1, "10.0.0.0/8"),
            E(0, 2, "10.1.0.0/16"),
            E(0, 2, "10.1.1.0/24"),   // covered by its own owner's /16: no new conflict
            E(0, 3, "10.1.1.0/24"),   // same prefix, other owner
            E(1, 9, "10.1.0.0/16"),   // another interface: independent
            E(0, 1, "192.0.2.0/24"),
        ];
        var found = OverlapFinder.Find(entries).OrderBy(c => c.Outer).ThenBy(c => c.Inner).ToList();
        Assert.Equal([new PrefixConflict(0, 1), new PrefixConflict(2, 3)], found);
    }

    [Fact]
    public void Clean_input_has_no_conflicts()
    {
        OwnedPrefix[] entries = [E(0, 1, "10.0.0.0/8"), E(0, 1, "10.1.0.0/16"), E(0, 2, "11.0.0.0/8"), E(0, 2, "2001:db8::/32"), E(1, 1, "0.0.0.0/0")];
        Assert.Empty(OverlapFinder.Find(entries));
    }

    public static TheoryData<int> Seeds()
    {
        var d = new TheoryData<int>();
        for (int s = 1; s <= 60; s++) d.Add(s);
        return d;
    }

    /// <summary>
    /// Against the quadratic definition: every reported conflict is a real one, and every real conflict
    /// (a ⊇ b, owners differ) is witnessed by a reported conflict lying between them (a ⊇ outer ⊇ inner ⊇ b).
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Agrees_with_brute_force(int seed)
    {
        var gen = new PrefixGen(seed);
        int n = gen.Rng.Next(1, 120);
        int owners = gen.Rng.Next(1, 5);
        var entries = Enumerable.Range(0, n).Select(_ => new OwnedPrefix(gen.Rng.Next(2), gen.Rng.Next(owners), gen.Next())).ToArray();

        var fast = OverlapFinder.Find(entries);
        var brute = OverlapFinder.FindBruteForce(entries);

        Assert.Subset(brute.ToHashSet(), fast.ToHashSet());
        Assert.Equal(fast.Count, fast.Distinct().Count());
        foreach (var (a, b) in brute)
        {
            Assert.Contains(fast, c =>
                entries[c.Outer].Group == entries[a].Group &&
                entries[a].Prefix.Contains(entries[c.Outer].Prefix) &&
                entries[c.Outer].Prefix.Contains(entries[c.Inner].Prefix) &&
                entries[c.Inner].Prefix.Contains(entries[b].Prefix));
        }
    }
}
