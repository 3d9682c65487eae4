using System.Diagnostics;
using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.Interop;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.Tests.Support;

namespace Overlay.Linux.Tests.Rtnetlink;

public class RouteTableTests(ITestOutputHelper output)
{
    private const uint Table = 100;

    private static KernelRoute Route(string prefix, int oif, string? gateway = null, uint metric = 0, uint table = Table) => new()
    {
        Destination = IpPrefix.Parse(prefix),
        Table = table,
        OutputInterface = oif,
        Gateway = gateway is null ? null : IPAddress.Parse(gateway),
        Metric = metric,
        Scope = gateway is null && !prefix.Contains(':') ? RouteScope.Link : RouteScope.Universe,
    };

    [SkippableFact]
    public async Task Add_list_replace_delete_match_ip_route()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("rt");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);

        await client.Routes.AddAsync(Route("10.1.0.0/24", net.V0));
        await client.Routes.AddAsync(Route("10.2.0.0/16", net.V0, "10.99.0.2", metric: 20));
        await client.Routes.AddAsync(Route("2001:db8:1::/48", net.V0, "2001:db8:99::2"));

        var ip = net.IpRoutes("table", "100");
        Assert.Equal(3, ip.Count);
        var viaIp = ip.ToDictionary(r => r.GetProperty("dst").GetString()!);
        Assert.Equal("98", viaIp["10.1.0.0/24"].GetProperty("protocol").ToString());
        Assert.Equal("link", viaIp["10.1.0.0/24"].GetProperty("scope").GetString());
        Assert.Equal("10.99.0.2", viaIp["10.2.0.0/16"].GetProperty("gateway").GetString());
        Assert.Equal(20, viaIp["10.2.0.0/16"].GetProperty("metric").GetInt32());
        Assert.Equal("v0", viaIp["2001:db8:1::/48"].GetProperty("dev").GetString());

        var listed = await client.Routes.ListAsync(new RouteQuery { Table = Table });
        Assert.Equal(3, listed.Count);
        Assert.Contains(Route("10.1.0.0/24", net.V0), listed);
        Assert.Contains(Route("10.2.0.0/16", net.V0, "10.99.0.2", 20), listed);
        Assert.Contains(Route("2001:db8:1::/48", net.V0, "2001:db8:99::2").Normalize(), listed);
        Assert.All(listed, r => Assert.Equal(RouteProtocols.Overlay, r.Protocol));

        var dup = await Assert.ThrowsAsync<LinuxException>(() => client.Routes.AddAsync(Route("10.1.0.0/24", net.V1)));
        Assert.Equal(Errno.EEXIST, dup.Errno);
        Assert.Contains("10.1.0.0/24", dup.Message);
        output.WriteLine(dup.Message);

        await client.Routes.ReplaceAsync(Route("10.1.0.0/24", net.V1));
        Assert.Equal("v1", net.IpRoutes("table", "100", "10.1.0.0/24").Single().GetProperty("dev").GetString());

        await client.Routes.DeleteAsync(Route("10.2.0.0/16", net.V0, metric: 20));
        Assert.Empty(net.IpRoutes("table", "100", "10.2.0.0/16"));
        var gone = await Assert.ThrowsAsync<LinuxException>(() => client.Routes.DeleteAsync(Route("10.2.0.0/16", net.V0, metric: 20)));
        Assert.Equal(Errno.ESRCH, gone.Errno);

        // The listing by protocol excludes the kernel's own routes in main.
        var main = await client.Routes.ListAsync(new RouteQuery { Table = RouteTables.Main });
        Assert.Contains(main, r => r.Protocol == RouteProtocols.Kernel && r.Destination == IpPrefix.Parse("10.99.0.0/24"));
        Assert.Empty(await client.Routes.ListAsync(new RouteQuery { Table = RouteTables.Main, Protocol = RouteProtocols.Overlay }));
    }

    [SkippableFact]
    public async Task GetRoute_answers_like_ip_route_get()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("rt");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);
        await client.Routes.AddAsync(Route("10.7.0.0/16", net.V0, "10.99.0.2", table: RouteTables.Main));

        var got = await client.Routes.GetRouteAsync(IPAddress.Parse("10.7.3.4"));
        var ip = System.Text.Json.JsonDocument.Parse(net.Ns.Ip("-j", "route", "get", "10.7.3.4")).RootElement[0];
        Assert.NotNull(got);
        Assert.Equal(IpPrefix.Parse("10.7.3.4/32"), got!.Destination);
        Assert.Equal(ip.GetProperty("gateway").GetString(), got.Gateway!.ToString());
        Assert.Equal(net.V0, got.OutputInterface);
        Assert.Equal(ip.GetProperty("prefsrc").GetString(), got.PreferredSource!.ToString());
        Assert.Equal(RouteTables.Main, got.Table);

        var local = await client.Routes.GetRouteAsync(IPAddress.Parse("10.99.0.7"));
        Assert.Equal(net.V0, local!.OutputInterface);
        Assert.Null(local.Gateway);

        Assert.Null(await client.Routes.GetRouteAsync(IPAddress.Parse("203.0.113.9"))); // no default route
    }

    [SkippableFact]
    public async Task Routes_of_other_protocols_are_never_modified()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("rt");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);
        net.Ns.Ip("route", "add", "10.50.0.0/24", "dev", "v0", "proto", "static", "table", "100");
        net.Ns.Ip("route", "add", "10.52.0.0/24", "dev", "v0", "proto", "bgp", "table", "100");

        var result = await client.Routes.SetAsync(Table, [Route("10.50.0.0/24", net.V1), Route("10.51.0.0/24", net.V0)]);
        Assert.Equal(1, result.Added);
        var conflict = Assert.Single(result.Failures);
        Assert.Equal((int)Errno.EEXIST, conflict.Errno);
        Assert.Contains("protocol 4", conflict.Message);
        output.WriteLine(conflict.ToString());

        // An empty desired set deletes only Overlay's route.
        var cleared = await client.Routes.SetAsync(Table, []);
        Assert.Equal(1, cleared.Deleted);
        var left = net.IpRoutes("table", "100");
        Assert.Equal(["10.50.0.0/24", "10.52.0.0/24"], left.Select(r => r.GetProperty("dst").GetString()).Order());
        Assert.Equal("v0", left.First(r => r.GetProperty("dst").GetString() == "10.50.0.0/24").GetProperty("dev").GetString());

        var replace = await Assert.ThrowsAsync<LinuxException>(() => client.Routes.ReplaceAsync(Route("10.50.0.0/24", net.V1)));
        Assert.Equal(Errno.EEXIST, replace.Errno);
        var delete = await Assert.ThrowsAsync<LinuxException>(() => client.Routes.DeleteAsync(Route("10.52.0.0/24", net.V0)));
        Assert.Equal(Errno.ESRCH, delete.Errno);
        Assert.Throws<ArgumentException>(() => { _ = client.Routes.AddAsync(Route("10.53.0.0/24", net.V0) with { Protocol = RouteProtocols.Static }); });
        Assert.Equal(2, net.IpRoutes("table", "100").Count);
    }

    [SkippableFact]
    public async Task Batch_reports_failures_per_route()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("rt");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);
        var changes = new List<RouteChange>();
        for (int i = 0; i < 3000; i++)
            changes.Add(new(RouteOperation.Add, Route($"10.{100 + i / 256}.{i % 256}.0/24", net.V0)));
        var duplicate = new RouteChange(RouteOperation.Add, Route("10.100.5.0/24", net.V1));
        var unreachableGateway = new RouteChange(RouteOperation.Add, Route("10.200.0.0/24", net.V0, "192.0.2.1"));
        var missing = new RouteChange(RouteOperation.Delete, Route("10.201.0.0/24", net.V0));
        changes.Insert(1500, duplicate);
        changes.Add(unreachableGateway);
        changes.Add(missing);

        var result = await client.Routes.ApplyAsync(changes);

        Assert.Equal(3000, result.Succeeded);
        Assert.Equal(3, result.Failures.Count);
        Assert.Equal((int)Errno.EEXIST, result.Failures.Single(f => f.Change == duplicate).Errno);
        Assert.Equal((int)Errno.ESRCH, result.Failures.Single(f => f.Change == missing).Errno);
        var gw = result.Failures.Single(f => f.Change == unreachableGateway);
        foreach (var f in result.Failures) output.WriteLine(f.ToString());
        Assert.NotEqual(0, gw.Errno);
        Assert.Equal(3000, net.IpRoutes("table", "100").Count);
    }

    [SkippableFact]
    public async Task Set_with_10k_routes_converges_and_is_idempotent()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("rt");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);
        List<KernelRoute> Generation(int from, int count, int oif) =>
            [.. Enumerable.Range(from, count).Select(i => Route($"10.{64 + i / 65536}.{i / 256 % 256}.{i % 256}/32", oif))];

        var first = Generation(0, 10_000, net.V0);
        var sw = Stopwatch.StartNew();
        var r1 = await client.Routes.SetAsync(Table, first);
        output.WriteLine($"set 10k new routes: {sw.ElapsedMilliseconds} ms ({r1})");
        Assert.True(r1.IsSuccess, string.Join("\n", r1.Failures.Take(5)));
        Assert.Equal(10_000, r1.Added);
        Assert.Equal(10_000, net.IpRoutes("table", "100", "proto", "98").Count);

        sw.Restart();
        var again = await client.Routes.SetAsync(Table, first);
        output.WriteLine($"set same 10k routes: {sw.ElapsedMilliseconds} ms ({again})");
        Assert.Equal(new RouteSetResult(0, 0, 0, 10_000, []) with { Failures = again.Failures }, again);
        Assert.Empty(again.Failures);

        // Keep 4000, move 1000 to v1, drop 5000, add 1000 new.
        var second = first.Take(4000).Concat(Generation(4000, 1000, net.V1)).Concat(Generation(20_000, 1000, net.V0)).ToList();
        sw.Restart();
        var r2 = await client.Routes.SetAsync(Table, second);
        output.WriteLine($"set changed routes: {sw.ElapsedMilliseconds} ms ({r2})");
        Assert.True(r2.IsSuccess);
        Assert.Equal((1000, 1000, 5000, 4000), (r2.Added, r2.Replaced, r2.Deleted, r2.Unchanged));
        var listed = await client.Routes.ListAsync(new RouteQuery { Table = Table });
        Assert.Equal(second.ToHashSet(), listed.ToHashSet());
        Assert.Equal(1000, net.IpRoutes("table", "100", "dev", "v1").Count);

        var r3 = await client.Routes.SetAsync(Table, []);
        Assert.Equal(6000, r3.Deleted);
        Assert.Empty(net.IpRoutes("table", "100"));
    }
}
