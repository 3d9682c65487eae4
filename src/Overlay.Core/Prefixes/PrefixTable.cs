using System.Collections;
using System.Net;
using Overlay.Core.Net;

namespace Overlay.Core.Prefixes;

/// <summary>
/// A map from IPv4/IPv6 prefixes to values with longest-prefix match and overlap queries.
/// A path-compressed binary trie (one per family): at most 2N nodes, so a million host routes
/// fit in a few tens of megabytes, and every query walks at most one root-to-leaf path.
/// Enumeration is in <see cref="IpPrefix.CompareTo"/> order (IPv4 first, then by address, shorter first).
/// Not thread-safe for writers; concurrent readers are fine when no writer runs.
/// </summary>
public sealed class PrefixTable<TValue> : IReadOnlyCollection<KeyValuePair<IpPrefix, TValue>>
{
    private const int None = -1;
    private const int RootV4 = 0;
    private const int RootV6 = 1;
    private static readonly int[] Roots = [RootV4, RootV6];

    // Nodes live in one array (struct-of-fields) so a million entries are not a million objects.
    // Keys are left-aligned in 128 bits (IPv4 shifted up by 96), so one bit-walk serves both families.
    private TrieNode[] _nodes;
    private TValue[] _values;
    private int _used;
    private int _free = None;
    private int _count;

    private struct TrieNode
    {
        public UInt128 Key;
        public int Left;
        public int Right;
        public int Parent;
        public byte Length;
        public bool HasValue;
    }

    public PrefixTable(int capacity = 16)
    {
        capacity = Math.Max(4, capacity * 2 + 2);
        _nodes = new TrieNode[capacity];
        _values = new TValue[capacity];
        _nodes[RootV4] = new TrieNode { Left = None, Right = None, Parent = None };
        _nodes[RootV6] = new TrieNode { Left = None, Right = None, Parent = None };
        _used = 2;
    }

    /// <summary>Number of prefixes stored.</summary>
    public int Count => _count;

    public TValue this[IpPrefix prefix]
    {
        get => TryGetValue(prefix, out var v) ? v : throw new KeyNotFoundException($"{prefix} is not in the table");
        set => Set(prefix, value);
    }

    /// <summary>Adds or replaces. Returns true when the prefix was new.</summary>
    public bool Set(IpPrefix prefix, TValue value)
    {
        int n = FindOrCreate(prefix);
        bool added = !_nodes[n].HasValue;
        _nodes[n].HasValue = true;
        _values[n] = value;
        if (added) _count++;
        return added;
    }

    /// <summary>Adds unless present; when present, returns false and the stored value. One walk either way.</summary>
    public bool TryAdd(IpPrefix prefix, TValue value, out TValue existing)
    {
        int n = FindOrCreate(prefix);
        if (_nodes[n].HasValue)
        {
            existing = _values[n];
            return false;
        }
        _nodes[n].HasValue = true;
        _values[n] = value;
        _count++;
        existing = default!;
        return true;
    }

    /// <summary>Adds a prefix that must not be present yet.</summary>
    public void Add(IpPrefix prefix, TValue value)
    {
        if (ContainsKey(prefix)) throw new ArgumentException($"{prefix} is already in the table", nameof(prefix));
        Set(prefix, value);
    }

    public bool ContainsKey(IpPrefix prefix) => FindExact(prefix) != None;

    public bool TryGetValue(IpPrefix prefix, out TValue value)
    {
        int n = FindExact(prefix);
        if (n == None) { value = default!; return false; }
        value = _values[n];
        return true;
    }

    public bool Remove(IpPrefix prefix) => Remove(prefix, out _);

    public bool Remove(IpPrefix prefix, out TValue value)
    {
        int n = FindExact(prefix);
        if (n == None) { value = default!; return false; }
        value = _values[n];
        _nodes[n].HasValue = false;
        _values[n] = default!;
        _count--;
        Prune(n);
        return true;
    }

    public void Clear()
    {
        Array.Clear(_values);
        _nodes[RootV4] = new TrieNode { Left = None, Right = None, Parent = None };
        _nodes[RootV6] = new TrieNode { Left = None, Right = None, Parent = None };
        _used = 2;
        _free = None;
        _count = 0;
    }

    /// <summary>Longest stored prefix containing <paramref name="address"/> (the route a packet would take).</summary>
    public bool TryLongestMatch(IPAddress address, out IpPrefix match, out TValue value) =>
        TryLongestMatch(IpPrefix.Host(address), out match, out value);

    /// <summary>The value of the longest stored prefix containing <paramref name="address"/>, without building the matched prefix.</summary>
    public bool TryLongestMatch(IPAddress address, out TValue value)
    {
        int n = LongestMatch(IpPrefix.Host(address));
        value = n == None ? default! : _values[n];
        return n != None;
    }

    /// <summary>Longest stored prefix containing all of <paramref name="prefix"/> (the prefix itself if stored).</summary>
    public bool TryLongestMatch(IpPrefix prefix, out IpPrefix match, out TValue value)
    {
        int best = LongestMatch(prefix);
        if (best == None) { match = default; value = default!; return false; }
        match = ToPrefix(best, prefix.IsIPv6);
        value = _values[best];
        return true;
    }

    private int LongestMatch(IpPrefix prefix)
    {
        var (key, len, v6) = Normalize(prefix);
        int best = None;
        int n = v6 ? RootV6 : RootV4;
        while (n != None)
        {
            ref TrieNode node = ref _nodes[n];
            if (node.Length > len || !Matches(key, node.Key, node.Length)) break;
            if (node.HasValue) best = n;
            if (node.Length == len) break;
            n = Bit(key, node.Length) ? node.Right : node.Left;
        }
        return best;
    }

    /// <summary>
    /// The longest stored prefix that strictly contains <paramref name="prefix"/> (its nearest enclosing route).
    /// Allocation-free apart from building <paramref name="match"/>.
    /// </summary>
    public bool TryGetNearestCover(IpPrefix prefix, out IpPrefix match, out TValue value)
    {
        int n = NearestCover(prefix);
        if (n == None) { match = default; value = default!; return false; }
        match = ToPrefix(n, prefix.IsIPv6);
        value = _values[n];
        return true;
    }

    /// <summary>Like <see cref="TryGetNearestCover(IpPrefix, out IpPrefix, out TValue)"/> without building the matched prefix.</summary>
    public bool TryGetNearestCover(IpPrefix prefix, out TValue value)
    {
        int n = NearestCover(prefix);
        value = n == None ? default! : _values[n];
        return n != None;
    }

    private int NearestCover(IpPrefix prefix)
    {
        var (key, len, v6) = Normalize(prefix);
        int best = None;
        int n = v6 ? RootV6 : RootV4;
        while (n != None)
        {
            ref TrieNode node = ref _nodes[n];
            if (node.Length >= len || !Matches(key, node.Key, node.Length)) break;
            if (node.HasValue) best = n;
            n = Bit(key, node.Length) ? node.Right : node.Left;
        }
        return best;
    }

    /// <summary>
    /// Calls <paramref name="visit"/>(cover, inner) for every stored prefix that has a stored strict cover,
    /// with the values of its nearest cover and of itself. One walk over the trie: cheaper than a
    /// <see cref="TryGetNearestCover(IpPrefix, out TValue)"/> per entry when every entry is asked.
    /// </summary>
    public void ForEachNearestCover(Action<TValue, TValue> visit)
    {
        var stack = new Stack<(int TrieNode, int Cover)>();
        foreach (int root in Roots)
        {
            stack.Push((root, None));
            while (stack.Count > 0)
            {
                var (n, cover) = stack.Pop();
                ref TrieNode node = ref _nodes[n];
                if (node.HasValue)
                {
                    if (cover != None) visit(_values[cover], _values[n]);
                    cover = n;
                }
                if (node.Right != None) stack.Push((node.Right, cover));
                if (node.Left != None) stack.Push((node.Left, cover));
            }
        }
    }

    /// <summary>Stored prefixes that contain <paramref name="prefix"/> (including an equal one), shortest first.</summary>
    public IEnumerable<KeyValuePair<IpPrefix, TValue>> GetCovering(IpPrefix prefix)
    {
        var (key, len, v6) = Normalize(prefix);
        var found = new List<KeyValuePair<IpPrefix, TValue>>();
        int n = v6 ? RootV6 : RootV4;
        while (n != None)
        {
            TrieNode node = _nodes[n];
            if (node.Length > len || !Matches(key, node.Key, node.Length)) break;
            if (node.HasValue) found.Add(new(ToPrefix(n, v6), _values[n]));
            if (node.Length == len) break;
            n = Bit(key, node.Length) ? node.Right : node.Left;
        }
        return found;
    }

    /// <summary>Stored prefixes inside <paramref name="prefix"/> (including an equal one), in table order.</summary>
    public IEnumerable<KeyValuePair<IpPrefix, TValue>> GetCovered(IpPrefix prefix)
    {
        var (key, len, v6) = Normalize(prefix);
        int top = FindSubtree(key, len, v6);
        var found = new List<KeyValuePair<IpPrefix, TValue>>();
        if (top != None) CollectSubtree(top, v6, found);
        return found;
    }

    /// <summary>
    /// Every stored prefix that shares an address with <paramref name="prefix"/>: the covering ones
    /// (shortest first), then the covered ones. An equal prefix appears once.
    /// </summary>
    public IEnumerable<KeyValuePair<IpPrefix, TValue>> GetOverlapping(IpPrefix prefix)
    {
        var found = new List<KeyValuePair<IpPrefix, TValue>>();
        foreach (var e in GetCovering(prefix))
            if (e.Key != prefix) found.Add(e);
        found.AddRange(GetCovered(prefix));
        return found;
    }

    public IEnumerator<KeyValuePair<IpPrefix, TValue>> GetEnumerator()
    {
        // Snapshot-free iterative pre-order walk; children left (bit 0) before right gives sorted order.
        foreach (int root in Roots)
        {
            bool v6 = root == RootV6;
            var stack = new Stack<int>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                int n = stack.Pop();
                TrieNode node = _nodes[n];
                if (node.HasValue) yield return new(ToPrefix(n, v6), _values[n]);
                if (node.Right != None) stack.Push(node.Right);
                if (node.Left != None) stack.Push(node.Left);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // ---- trie mechanics ----

    private static (UInt128 Key, int Length, bool V6) Normalize(IpPrefix p) =>
        p.IsIPv6 ? (p.Bits, p.Length, true) : (p.Bits << 96, p.Length, false);

    private IpPrefix ToPrefix(int n, bool v6)
    {
        TrieNode node = _nodes[n];
        var bits = v6 ? node.Key : node.Key >> 96;
        return IpPrefix.Create(IpPrefix.ToAddress(bits, v6), node.Length);
    }

    private static UInt128 MaskOf(int length) => length == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - length);

    // Hot path of every walk: compare and test bits on the two 64-bit halves, avoiding variable 128-bit shifts.
    private static bool Matches(UInt128 key, UInt128 nodeKey, int nodeLength) =>
        nodeLength == 0 || (int)UInt128.LeadingZeroCount(key ^ nodeKey) >= nodeLength;

    private static bool Bit(UInt128 key, int index) => index < 64
        ? (((ulong)(key >> 64) >> (63 - index)) & 1) != 0
        : (((ulong)key >> (127 - index)) & 1) != 0;

    private int FindExact(IpPrefix prefix)
    {
        var (key, len, v6) = Normalize(prefix);
        int n = v6 ? RootV6 : RootV4;
        while (n != None)
        {
            ref TrieNode node = ref _nodes[n];
            if (node.Length > len || !Matches(key, node.Key, node.Length)) return None;
            if (node.Length == len) return node.HasValue ? n : None;
            n = Bit(key, node.Length) ? node.Right : node.Left;
        }
        return None;
    }

    /// <summary>The highest node whose prefix lies inside (key, len), or None.</summary>
    private int FindSubtree(UInt128 key, int len, bool v6)
    {
        int n = v6 ? RootV6 : RootV4;
        while (n != None)
        {
            ref TrieNode node = ref _nodes[n];
            if (node.Length >= len) return Matches(node.Key, key, len) ? n : None;
            if (!Matches(key, node.Key, node.Length)) return None;
            n = Bit(key, node.Length) ? node.Right : node.Left;
        }
        return None;
    }

    private void CollectSubtree(int top, bool v6, List<KeyValuePair<IpPrefix, TValue>> into)
    {
        var stack = new Stack<int>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            int n = stack.Pop();
            ref TrieNode node = ref _nodes[n];
            if (node.HasValue) into.Add(new(ToPrefix(n, v6), _values[n]));
            if (node.Right != None) stack.Push(node.Right);
            if (node.Left != None) stack.Push(node.Left);
        }
    }

    private int FindOrCreate(IpPrefix prefix)
    {
        var (key, len, v6) = Normalize(prefix);
        int cur = v6 ? RootV6 : RootV4;
        // Invariant: the prefix of cur contains (key, len).
        while (true)
        {
            if (_nodes[cur].Length == len) return cur;
            bool right = Bit(key, _nodes[cur].Length);
            int child = right ? _nodes[cur].Right : _nodes[cur].Left;
            if (child == None)
            {
                int leaf = NewNode(key, len, cur);
                SetChild(cur, right, leaf);
                return leaf;
            }
            UInt128 childKey = _nodes[child].Key;
            int childLen = _nodes[child].Length;
            if (childLen <= len && Matches(key, childKey, childLen)) { cur = child; continue; }

            // The child diverges from (key, len) or lies below it: insert a node between cur and child.
            int common = Math.Min(Math.Min(len, childLen), (int)UInt128.LeadingZeroCount(key ^ childKey));
            if (common == len)
            {
                // (key, len) contains the child: it becomes the child's parent.
                int mid = NewNode(key, len, cur);
                SetChild(cur, right, mid);
                SetChild(mid, Bit(childKey, len), child);
                return mid;
            }
            int glue = NewNode(key & MaskOf(common), common, cur);
            SetChild(cur, right, glue);
            SetChild(glue, Bit(childKey, common), child);
            int fresh = NewNode(key, len, glue);
            SetChild(glue, Bit(key, common), fresh);
            return fresh;
        }
    }

    private void SetChild(int parent, bool right, int child)
    {
        if (right) _nodes[parent].Right = child; else _nodes[parent].Left = child;
        if (child != None) _nodes[child].Parent = parent;
    }

    private int NewNode(UInt128 key, int len, int parent)
    {
        int n;
        if (_free != None)
        {
            n = _free;
            _free = _nodes[n].Parent;
        }
        else
        {
            if (_used == _nodes.Length)
            {
                Array.Resize(ref _nodes, _nodes.Length * 2);
                Array.Resize(ref _values, _nodes.Length);
            }
            n = _used++;
        }
        _nodes[n] = new TrieNode { Key = key, Length = (byte)len, Left = None, Right = None, Parent = parent };
        return n;
    }

    private void Release(int n)
    {
        _nodes[n] = new TrieNode { Left = None, Right = None, Parent = _free };
        _values[n] = default!;
        _free = n;
    }

    /// <summary>Removes value-less nodes that no longer separate two subtrees, keeping the trie compressed.</summary>
    private void Prune(int n)
    {
        while (n > RootV6 && !_nodes[n].HasValue)
        {
            int left = _nodes[n].Left, right = _nodes[n].Right;
            if (left != None && right != None) return;
            int parent = _nodes[n].Parent;
            int only = left != None ? left : right;
            bool isRight = _nodes[parent].Right == n;
            SetChild(parent, isRight, only);
            Release(n);
            if (only != None) return; // spliced out; parent's child count is unchanged
            n = parent;
        }
    }

    /// <summary>TrieNode count including glue nodes; exposed for tests that check compression.</summary>
    internal int NodeCount
    {
        get
        {
            int free = 0;
            for (int f = _free; f != None; f = _nodes[f].Parent) free++;
            return _used - free;
        }
    }
}
