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
/// every entry is inserted once, then one walk pairs each entry with its nearest strictly-covering entry.
/// Reporting only the nearest cover keeps the output linear: a conflict with a farther cover is
/// implied by a conflict somewhere along the chain of nearer covers.
/// </summary>
public static class OverlapFinder
{
    public static List<PrefixConflict> Find(ReadOnlySpan<OwnedPrefix> entries)
    {
        var conflicts = new List<PrefixConflict>();
        // Entries usually arrive grouped by interface: remember the last group to skip most dictionary lookups.
        var sizes = new Dictionary<int, int>();
        int lastGroup = 0, run = 0;
        foreach (var e in entries)
        {
            if (run > 0 && e.Group == lastGroup) { run++; continue; }
            if (run > 0) sizes[lastGroup] = sizes.GetValueOrDefault(lastGroup) + run;
            (lastGroup, run) = (e.Group, 1);
        }
        if (run > 0) sizes[lastGroup] = sizes.GetValueOrDefault(lastGroup) + run;
        var tables = new Dictionary<int, PrefixTable<int>>(sizes.Count);
        foreach (var (group, size) in sizes) tables[group] = new PrefixTable<int>(size);

        PrefixTable<int>? table = null;
        PrefixTable<int> TableOf(int group)
        {
            if (table is null || group != lastGroup) (table, lastGroup) = (tables[group], group);
            return table;
        }

        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (!TableOf(e.Group).TryAdd(e.Prefix, i, out int first))
            {
                // The same prefix twice: a conflict when it points at another owner, harmless otherwise.
                if (entries[first].Owner != e.Owner) conflicts.Add(new(first, i));
            }
        }

        // Only stored representatives are in the tables, so a duplicate's cover is reported once.
        var owners = new int[entries.Length];
        for (int i = 0; i < entries.Length; i++) owners[i] = entries[i].Owner;
        foreach (var t in tables.Values)
            t.ForEachNearestCover((outer, inner) =>
            {
                if (owners[outer] != owners[inner]) conflicts.Add(new(outer, inner));
            });
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
