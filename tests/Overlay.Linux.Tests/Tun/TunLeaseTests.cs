using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Overlay.Linux.Interop;
using Overlay.Linux.Monitoring;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.Tests.Support;
using Overlay.Linux.Tun;

namespace Overlay.Linux.Tests.Tun;

public class TunLeaseTests(ITestOutputHelper output)
{
    private static string UniqueTunName() => "ovt" + Guid.NewGuid().ToString("N")[..8];

    private static bool LinkExists(TestNamespace ns, string name) =>
        Sh.Exec("ip", ["-n", ns.Name, "link", "show", "dev", name]).Code == 0;

    [SkippableFact]
    public async Task Lease_is_up_carries_addresses_and_its_link_disappears_on_dispose()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var ns = new TestNamespace("tun");
        string name = UniqueTunName();
        var lease = await TunLease.CreateAsync(ns.Namespace, name);
        try
        {
            await lease.AddAddressAsync(IPAddress.Parse("10.77.0.1"), 32);
            await lease.AddAddressAsync(IPAddress.Parse("2001:db8:77::1"), 128);
            await lease.AddAddressAsync(IPAddress.Parse("10.77.0.2"), 32);
            await lease.RemoveAddressAsync(IPAddress.Parse("10.77.0.2"), 32);

            var link = JsonDocument.Parse(ns.Ip("-j", "addr", "show", "dev", name)).RootElement[0];
            Assert.Equal(lease.Index, link.GetProperty("ifindex").GetInt32());
            Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
            var addrs = link.GetProperty("addr_info").EnumerateArray().Select(a => a.GetProperty("local").GetString()).ToList();
            Assert.Contains("10.77.0.1", addrs);
            Assert.Contains("2001:db8:77::1", addrs);
            Assert.DoesNotContain("10.77.0.2", addrs);
            Assert.Equal(2, lease.Addresses.Count);
            Assert.Contains("tun", ns.Ip("-d", "link", "show", "dev", name));

            var clash = await Assert.ThrowsAsync<LinuxException>(() => TunLease.CreateAsync(ns.Namespace, name));
            output.WriteLine(clash.Message);
            Assert.Contains(name, clash.Message);
        }
        finally
        {
            lease.Dispose();
        }
        await Eventually.TrueAsync(() => !LinkExists(ns, name), $"TUN {name} deleted after dispose");
    }

    [SkippableFact]
    public async Task Killing_the_holder_removes_link_address_and_route_and_the_monitor_sees_it()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var ns = new TestNamespace("tun");
        string name = UniqueTunName();
        await using var monitor = NetlinkMonitor.Start(ns.Namespace);

        string testAssembly = typeof(TunHolderProgram).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "exec", testAssembly, TunHolderProgram.Mode, ns.Name, name }) psi.ArgumentList.Add(a);
        using var holder = Process.Start(psi)!;
        try
        {
            var ready = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (ready is null || !ready.StartsWith("ready "))
            {
                holder.Kill();
                Assert.Fail($"holder did not start: {ready} {await holder.StandardError.ReadToEndAsync()}");
            }
            int index = int.Parse(ready!["ready ".Length..]);
            Assert.Contains("10.77.0.1/32", ns.Ip("addr", "show", "dev", name));
            Assert.Contains("10.78.0.0/24", ns.Ip("route", "show", "dev", name));

            var killed = Stopwatch.StartNew();
            holder.Kill(); // SIGKILL: no cleanup code of the holder runs
            DateTimeOffset killedAt = DateTimeOffset.UtcNow;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            LinkEvent? removed = null;
            bool routeRemoved = false, addressRemoved = false;
            await foreach (var e in monitor.ReadAllAsync(cts.Token))
            {
                if (e is RouteEvent { Kind: NetlinkChangeKind.Removed } r && r.Route.OutputInterface == index) routeRemoved = true;
                if (e is AddressEvent { Kind: NetlinkChangeKind.Removed } a && a.Address.InterfaceIndex == index) addressRemoved = true;
                if (e is LinkEvent { Kind: LinkEventKind.Removed } l && l.Link.Index == index) { removed = l; break; }
            }
            var seen = killed.Elapsed;
            Assert.NotNull(removed);
            output.WriteLine($"SIGKILL -> monitor saw RTM_DELLINK of {name}: {seen.TotalMilliseconds:F1} ms (event stamped {(removed!.Received - killedAt).TotalMilliseconds:F1} ms after kill); address removed event: {addressRemoved}, route removed event: {routeRemoved}");

            Assert.False(LinkExists(ns, name));
            Assert.DoesNotContain("10.77.0.1", ns.Ip("addr", "show"));
            Assert.DoesNotContain("10.78.0.0", ns.Ip("route", "show"));
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
    }
}
