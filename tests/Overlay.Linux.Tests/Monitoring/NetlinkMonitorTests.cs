using System.Threading.Channels;
using Overlay.Core.Net;
using Overlay.Linux.Monitoring;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.Tests.Support;

namespace Overlay.Linux.Tests.Monitoring;

public class NetlinkMonitorTests(ITestOutputHelper output)
{
    private static async Task<T> NextAsync<T>(ChannelReader<NetlinkEvent> events, Func<T, bool> match, string what) where T : NetlinkEvent
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await foreach (var e in events.ReadAllAsync(cts.Token))
                if (e is T t && match(t)) return t;
        }
        catch (OperationCanceledException)
        {
        }
        throw new TimeoutException($"no event within 10 s: {what}");
    }

    /// <summary>Reads what arrives until an event of type T (returned) or until the events stop for <paramref name="quiet"/>.</summary>
    private static async Task<T?> FirstWithinAsync<T>(ChannelReader<NetlinkEvent> events, TimeSpan quiet) where T : NetlinkEvent
    {
        while (true)
        {
            using var cts = new CancellationTokenSource(quiet);
            try
            {
                if (!await events.WaitToReadAsync(cts.Token)) return null;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            while (events.TryRead(out var e))
                if (e is T t) return t;
        }
    }

    [Fact]
    public async Task Disposing_wakes_a_reader_that_waits_with_no_timeout()
    {
        var monitor = NetlinkMonitor.Start();
        // The reader sleeps in poll with no timeout; only the stop event can end it. A lost wake-up would hang here.
        // (DisposeAsync joins the thread synchronously, hence the Task.Run.)
        await Task.Run(async () => await monitor.DisposeAsync()).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(monitor.Events.Completion.IsCompleted);
    }

    [SkippableFact]
    public async Task Sees_link_down_up_address_and_a_foreign_route_delete()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("mon");
        net.Ns.Ip("route", "add", "10.60.0.0/24", "via", "10.99.0.2", "dev", "v0", "proto", "static");
        await using var monitor = NetlinkMonitor.Start(net.Ns.Namespace);

        net.Ns.Ip("route", "del", "10.60.0.0/24");
        var removed = await NextAsync<RouteEvent>(monitor.Events, e => e.Kind == NetlinkChangeKind.Removed && e.Route.Destination == IpPrefix.Parse("10.60.0.0/24"), "foreign route removed");
        Assert.Equal(RouteProtocols.Static, removed.Route.Protocol);
        Assert.Equal("10.99.0.2", removed.Route.Gateway!.ToString());

        net.Ns.Ip("link", "set", "v1", "down");
        var down = await NextAsync<LinkEvent>(monitor.Events, e => e.Kind == LinkEventKind.Down && e.Link.Name == "v1", "v1 down");
        Assert.False(down.Link.IsAdminUp);

        net.Ns.Ip("link", "set", "v1", "up");
        await NextAsync<LinkEvent>(monitor.Events, e => e.Kind == LinkEventKind.Up && e.Link.Name == "v1", "v1 up");

        net.Ns.Ip("addr", "add", "10.98.0.1/32", "dev", "v1");
        var added = await NextAsync<AddressEvent>(monitor.Events, e => e.Kind == NetlinkChangeKind.Added && e.Address.Address.ToString() == "10.98.0.1", "address added");
        Assert.Equal(net.V1, added.Address.InterfaceIndex);
        Assert.Equal(32, added.Address.PrefixLength);


        net.Ns.Ip("link", "add", "v2", "type", "veth", "peer", "name", "v3");
        var v2 = await NextAsync<LinkEvent>(monitor.Events, e => e.Kind == LinkEventKind.Added && e.Link.Name == "v2", "v2 added");
        Assert.Equal("veth", v2.Link.Kind);
        net.Ns.Ip("link", "del", "v2");
        await NextAsync<LinkEvent>(monitor.Events, e => e.Kind == LinkEventKind.Removed && e.Link.Index == v2.Link.Index, "v2 removed");
    }

    [SkippableFact]
    public async Task Overflow_surfaces_as_ResyncRequired()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("mon");
        // A minimal receive buffer: a burst of route notifications must overflow it.
        await using var monitor = NetlinkMonitor.Start(net.Ns.Namespace, new NetlinkMonitorOptions { ReceiveBufferSize = 1 });
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);
        var routes = Enumerable.Range(0, 5000).Select(i => new KernelRoute
        {
            Destination = IpPrefix.Parse($"10.{64 + i / 256}.{i % 256}.0/24"), Table = 100, OutputInterface = net.V0, Scope = RouteScope.Link,
        }).ToList();
        // Whether one burst overflows depends on how fast the reader thread drains it; an idle machine can keep
        // up with one. Add and remove the set until the kernel reports the overflow (bounded).
        ResyncRequired? resync = null;
        int bursts = 0;
        while (resync is null && bursts < 20)
        {
            var result = await client.Routes.SetAsync(100, bursts++ % 2 == 0 ? routes : []);
            Assert.True(result.IsSuccess);
            resync = await FirstWithinAsync<ResyncRequired>(monitor.Events, TimeSpan.FromSeconds(1));
        }
        Assert.True(resync is not null, $"no ResyncRequired after {bursts} bursts of 5000 route notifications");
        output.WriteLine($"after {bursts} burst(s): {resync.Reason}");

        // The monitor keeps working after the overflow (a single small notification fits the tiny buffer).
        net.Ns.Ip("addr", "add", "10.98.0.1/32", "dev", "v0");
        await NextAsync<AddressEvent>(monitor.Events, e => e.Address.Address.ToString() == "10.98.0.1", "address event after resync");
    }
}
