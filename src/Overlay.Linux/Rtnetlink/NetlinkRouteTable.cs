using System.Net;
using System.Net.Sockets;
using Overlay.Linux.Interop;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Rtnetlink;

internal sealed class NetlinkRouteTable(RtnetlinkConnection connection) : IRouteTable
{
    /// <summary>
    /// Bytes of route messages per sendmsg. The kernel handles them in one call and queues one ACK
    /// each (~1 KiB of receive buffer per ACK in skb overhead), so a chunk of about a thousand routes
    /// fits the 32 MiB receive buffer with a wide margin.
    /// </summary>
    internal const int ChunkBytes = 96 * 1024;

    public Task<IReadOnlyList<KernelRoute>> ListAsync(RouteQuery? query = null, CancellationToken cancellationToken = default) =>
        connection.RunAsync<IReadOnlyList<KernelRoute>>(() => List(query ?? new RouteQuery()), cancellationToken);

    public Task AddAsync(KernelRoute route, CancellationToken cancellationToken = default) =>
        ApplyOneAsync(new RouteChange(RouteOperation.Add, route), guardForeign: false, cancellationToken);

    public Task ReplaceAsync(KernelRoute route, CancellationToken cancellationToken = default) =>
        ApplyOneAsync(new RouteChange(RouteOperation.Replace, route), guardForeign: true, cancellationToken);

    public Task DeleteAsync(KernelRoute route, CancellationToken cancellationToken = default) =>
        ApplyOneAsync(new RouteChange(RouteOperation.Delete, route), guardForeign: false, cancellationToken);

    public Task<KernelRoute?> GetRouteAsync(IPAddress destination, CancellationToken cancellationToken = default) =>
        connection.RunAsync(() => Get(destination), cancellationToken);

    public Task<RouteBatchResult> ApplyAsync(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken = default)
    {
        ValidateOwnership(changes.Select(c => c.Route));
        return connection.RunAsync(() =>
        {
            var guarded = GuardReplaces(changes, out var refused);
            var result = Apply(guarded, cancellationToken);
            return refused.Count == 0 ? result : result with { Failures = [.. refused, .. result.Failures] };
        }, cancellationToken);
    }

    public Task<RouteSetResult> SetAsync(uint table, IReadOnlyCollection<KernelRoute> desired, CancellationToken cancellationToken = default)
    {
        ValidateOwnership(desired);
        var wrongTable = desired.Where(r => r.Table != table).Select(r => r.ToString()).ToList();
        if (wrongTable.Count > 0)
            throw new ArgumentException($"SetAsync(table {table}) got routes of other tables: {string.Join("; ", wrongTable.Take(10))}", nameof(desired));
        var wanted = new Dictionary<RouteKey, KernelRoute>(desired.Count);
        var duplicates = new List<string>();
        foreach (var r in desired)
        {
            var n = r.Normalize();
            if (!wanted.TryAdd(n.Key, n)) duplicates.Add(r.ToString());
        }
        if (duplicates.Count > 0)
            throw new ArgumentException($"desired routes share a key (table, destination, metric): {string.Join("; ", duplicates.Take(10))}", nameof(desired));

        return connection.RunAsync(() => Set(table, wanted, cancellationToken), cancellationToken);
    }

    private RouteSetResult Set(uint table, Dictionary<RouteKey, KernelRoute> wanted, CancellationToken cancellationToken)
    {
        var existing = List(new RouteQuery { Table = table });
        var ours = new Dictionary<RouteKey, KernelRoute>();
        var foreign = new Dictionary<RouteKey, KernelRoute>();
        foreach (var r in existing)
            (r.Protocol == RouteProtocols.Overlay ? ours : foreign)[r.Key] = r;

        var changes = new List<RouteChange>();
        var failures = new List<RouteFailure>();
        int unchanged = 0;
        foreach (var (key, route) in wanted)
        {
            if (foreign.TryGetValue(key, out var other))
                failures.Add(ForeignConflict(new RouteChange(RouteOperation.Add, route), other));
            else if (!ours.TryGetValue(key, out var current))
                changes.Add(new RouteChange(RouteOperation.Add, route));
            else if (current != route)
                changes.Add(new RouteChange(RouteOperation.Replace, route));
            else
                unchanged++;
        }
        foreach (var (key, route) in ours)
            if (!wanted.ContainsKey(key))
                changes.Add(new RouteChange(RouteOperation.Delete, route));

        var result = Apply(changes, cancellationToken);
        failures.AddRange(result.Failures);
        int Count(RouteOperation op) => changes.Count(c => c.Operation == op) - result.Failures.Count(f => f.Change.Operation == op);
        return new RouteSetResult(Count(RouteOperation.Add), Count(RouteOperation.Replace), Count(RouteOperation.Delete), unchanged, failures);
    }

    private static RouteFailure ForeignConflict(RouteChange change, KernelRoute holder) =>
        new(change, (int)Errno.EEXIST, $"the key is held by a route of protocol {holder.Protocol} ({holder}); Overlay does not modify routes of other protocols");

    private static void ValidateOwnership(IEnumerable<KernelRoute> routes)
    {
        var foreign = routes.Where(r => r.Protocol != RouteProtocols.Overlay).Select(r => r.ToString()).ToList();
        if (foreign.Count > 0)
            throw new ArgumentException(
                $"Overlay writes only routes of its own protocol {RouteProtocols.Overlay}; {foreign.Count} route(s) have another: {string.Join("; ", foreign.Take(10))}");
    }

    private Task ApplyOneAsync(RouteChange change, bool guardForeign, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change.Route);
        ValidateOwnership([change.Route]);
        return connection.RunAsync(() => ApplyOne(change, guardForeign), cancellationToken);
    }

    private void ApplyOne(RouteChange change, bool guardForeign)
    {
        RouteBatchResult result;
        if (guardForeign)
        {
            var guarded = GuardReplaces([change], out var refused);
            if (refused.Count > 0) throw ToException(refused[0]);
            result = Apply(guarded, CancellationToken.None);
        }
        else
        {
            result = Apply([change], CancellationToken.None);
        }
        if (result.Failures.Count > 0) throw ToException(result.Failures[0]);
    }

    private static LinuxException ToException(RouteFailure f) =>
        new(f.Change.Operation switch
        {
            RouteOperation.Delete => "RTM_DELROUTE",
            RouteOperation.Replace => "RTM_NEWROUTE(replace)",
            _ => "RTM_NEWROUTE(add)",
        }, "route " + f.Change.Route, f.Errno, f.Message);

    /// <summary>Refuses replaces whose key a route of another protocol holds (NLM_F_REPLACE would overwrite it).</summary>
    private List<RouteChange> GuardReplaces(IReadOnlyList<RouteChange> changes, out List<RouteFailure> refused)
    {
        refused = [];
        var tables = changes.Where(c => c.Operation == RouteOperation.Replace).Select(c => c.Route.Table).Distinct().ToList();
        if (tables.Count == 0) return [.. changes];
        var foreign = new Dictionary<RouteKey, KernelRoute>();
        foreach (var table in tables)
            foreach (var r in List(new RouteQuery { Table = table }))
                if (r.Protocol != RouteProtocols.Overlay) foreign[r.Key] = r;
        var allowed = new List<RouteChange>(changes.Count);
        foreach (var c in changes)
        {
            if (c.Operation == RouteOperation.Replace && foreign.TryGetValue(c.Route.Key, out var holder))
                refused.Add(ForeignConflict(c, holder));
            else
                allowed.Add(c);
        }
        return allowed;
    }

    /// <summary>
    /// The batched writer: packs route messages into chunks of <see cref="ChunkBytes"/>, one sendmsg per
    /// chunk, then reads one ACK per message and matches it to its change by sequence number.
    /// </summary>
    internal RouteBatchResult Apply(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken)
    {
        var failures = new List<RouteFailure>();
        var socket = connection.Socket;
        var writer = connection.Writer;
        int next = 0;
        while (next < changes.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            writer.Reset();
            int chunkStart = next;
            uint firstSequence = 0;
            while (next < changes.Count && writer.Length < ChunkBytes)
            {
                uint sequence = socket.NextSequence();
                if (next == chunkStart) firstSequence = sequence;
                RouteCodec.WriteChange(writer, changes[next].Operation, changes[next].Route, sequence);
                next++;
            }
            int chunkEnd = next;
            socket.Transact(writer.WrittenSpan, onReply: null, ack =>
            {
                if (ack.IsAck) return;
                int index = chunkStart + (int)(ack.Request.Sequence - firstSequence);
                if (index >= chunkStart && index < chunkEnd)
                    failures.Add(new RouteFailure(changes[index], ack.Errno, ack.Message));
            });
        }
        return new RouteBatchResult(changes.Count - failures.Count, failures);
    }

    private List<KernelRoute> List(RouteQuery query)
    {
        byte family = query.Family switch
        {
            null => AddressFamilies.Unspec,
            AddressFamily.InterNetwork => AddressFamilies.Inet,
            AddressFamily.InterNetworkV6 => AddressFamilies.Inet6,
            var f => throw new ArgumentException($"routes exist for IPv4 and IPv6 only, not {f}", nameof(query)),
        };
        var list = connection.DumpList<KernelRoute>(
            (w, seq) => RouteCodec.WriteDump(w, family, query.Table, query.Protocol, seq),
            RouteCodec.TryRead, "RTM_GETROUTE(dump)", missingIsEmpty: true);
        // The kernel filters with strict checking; filter again so older kernels give the same answer.
        list.RemoveAll(r => (query.Table is { } t && r.Table != t) || (query.Protocol is { } p && r.Protocol != p));
        return list;
    }

    private KernelRoute? Get(IPAddress destination)
    {
        KernelRoute? found = null;
        RouteCodec.WriteGet(connection.Writer, destination, connection.Socket.NextSequence());
        try
        {
            connection.Socket.Execute(connection.Writer, "RTM_GETROUTE", $"{destination} in {connection.Where}", (in NetlinkMessage m) =>
            {
                if (m.Type == RtmType.NewRoute && RouteCodec.TryRead(m, includeCloned: true, out var r)) found = r;
            });
        }
        catch (LinuxException e) when (e.Errno is Errno.ENETUNREACH or Errno.EHOSTUNREACH)
        {
            return null;
        }
        return found;
    }
}
