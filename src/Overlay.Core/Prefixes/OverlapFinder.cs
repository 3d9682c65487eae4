using Overlay.Core.Net;

namespace Overlay.Core.Prefixes;

/// <summary>One AllowedIPs entry: which interface (group) it sits on and which peer (owner) it routes to.</summary>
public readonly record struct OwnedPrefix(int Group, int Owner, IpPrefix Prefix);

/// <summary>
/// Two entries of one group whose prefixes overlap but whose owners differ. <see cref="Outer"/> contains
/// (or equals) <see cref="Inner"/>; both are indexes into the input.
/// </summary>
public readonly record struct PrefixConflict(int Outer, int Inner);

/// <summary>
/// Finds overlapping prefixes owned by different owners within each group, in O(n · depth):
/// every entry is inserted once, then each looks up its nearest strictly-covering entry.
/// Reporting only the nearest cover keeps the output linear: a conflict with a farther cover is
/// implied by a conflict somewhere along the chain of nearer covers.
/// </summary>
public static class OverlapFinder
{
    public static List<PrefixConflict> Find(ReadOnlySpan<OwnedPrefix> entries)
    {
        var conflicts = new List<PrefixConflict>();
        var tables = new Dictionary<int, PrefixTable<int>>();
        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (!tables.TryGetValue(e.Group, out var table))
                tables[e.Group] = table = new PrefixTable<int>(entries.Length / Math.Max(1, tables.Count + 1));
            if (table.TryGetValue(e.Prefix, out int first))
            {
                // The same prefix twice: a conflict when it points at another owner, harmless otherwise.
                if (entries[first].Owner != e.Owner) conflicts.Add(new(first, i));
                continue;
            }
            table.Set(e.Prefix, i);
        }

        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (e.Prefix.Length == 0) continue;
            var table = tables[e.Group];
            // Only the stored representative of a duplicated prefix looks upward, so a cover is reported once.
            if (table[e.Prefix] != i) continue;
            var parent = IpPrefix.Create(e.Prefix.Address, e.Prefix.Length - 1);
            if (table.TryLongestMatch(parent, out _, out int outer) && entries[outer].Owner != e.Owner)
                conflicts.Add(new(outer, i));
        }
        return conflicts;
    }

    /// <summary>The quadratic definition, kept as the reference for tests and the benchmark baseline.</summary>
    public static List<PrefixConflict> FindBruteForce(ReadOnlySpan<OwnedPrefix> entries)
    {
        var conflicts = new List<PrefixConflict>();
        for (int i = 0; i < entries.Length; i++)
            for (int j = 0; j < entries.Length; j++)
            {
                if (i == j) continue;
                var a = entries[i];
                var b = entries[j];
                if (a.Group != b.Group || a.Owner == b.Owner || !a.Prefix.Contains(b.Prefix)) continue;
                if (a.Prefix == b.Prefix && j < i) continue; // an equal pair once, earlier entry as Outer
                conflicts.Add(new(i, j));
            }
        return conflicts;
    }
}
