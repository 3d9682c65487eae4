using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Overlay.Core.Model;
using Overlay.Linux.Interop;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.Tests.Support;

namespace Overlay.Linux.Tests.Rtnetlink;

public class LinkAndAddressTableTests
{
    [SkippableFact]
    public async Task Links_list_get_and_set_up_down_match_ip_link()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("lk");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);

        var all = await client.Links.ListAsync();
        Assert.Equal(["lo", "v0", "v1"], all.Select(l => l.Name).Order());
        var v0 = await client.Links.GetAsync("v0");
        Assert.NotNull(v0);
        Assert.Equal(net.V0, v0!.Index);
        Assert.Equal("veth", v0.Kind);
        Assert.True(v0.IsUp);
        Assert.Equal(LinkOperState.Up, v0.OperState);
        Assert.Equal(v0, await client.Links.GetAsync(net.V0));
        Assert.Null(await client.Links.GetAsync("nope0"));
        Assert.Null(await client.Links.GetAsync(9999));

        await client.Links.SetUpAsync(net.V1, up: false);
        var flags = JsonDocument.Parse(net.Ns.Ip("-j", "link", "show", "dev", "v1")).RootElement[0].GetProperty("flags");
        Assert.DoesNotContain("UP", flags.EnumerateArray().Select(f => f.GetString()));
        Assert.False((await client.Links.GetAsync("v1"))!.IsAdminUp);
        await client.Links.SetUpAsync(net.V1, up: true);
        Assert.True((await client.Links.GetAsync("v1"))!.IsAdminUp);

        var e = await Assert.ThrowsAsync<LinuxException>(() => client.Links.SetUpAsync(9999, up: true));
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains("link #9999", e.Message);
    }

    [SkippableFact]
    public async Task Addresses_add_list_delete_v4_and_v6()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var net = new RoutedNamespace("ad");
        using var client = RtnetlinkClient.Open(net.Ns.Namespace);
        var a4 = new InterfaceAddress(net.V1, IPAddress.Parse("198.51.100.10"), 32);
        var a6 = new InterfaceAddress(net.V1, IPAddress.Parse("2001:db8:5::10"), 128);

        await client.Addresses.AddAsync(a4);
        await client.Addresses.AddAsync(a6);
        var ip = JsonDocument.Parse(net.Ns.Ip("-j", "addr", "show", "dev", "v1")).RootElement[0].GetProperty("addr_info")
            .EnumerateArray().Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}").ToList();
        Assert.Contains("198.51.100.10/32", ip);
        Assert.Contains("2001:db8:5::10/128", ip);
        // Service addresses skip duplicate address detection (the link-local one may still be tentative).
        Assert.DoesNotContain("tentative", net.Ns.Ip("-6", "addr", "show", "dev", "v1", "to", "2001:db8:5::10/128"));

        var listed = await client.Addresses.ListAsync(net.V1);
        Assert.Contains(a4, listed);
        Assert.Contains(a6, listed);
        Assert.All(listed, a => Assert.Equal(net.V1, a.InterfaceIndex));
        Assert.DoesNotContain(await client.Addresses.ListAsync(family: AddressFamily.InterNetwork), a => a.Address.AddressFamily == AddressFamily.InterNetworkV6);

        var dup = await Assert.ThrowsAsync<LinuxException>(() => client.Addresses.AddAsync(a4));
        Assert.Equal(Errno.EEXIST, dup.Errno);

        await client.Addresses.DeleteAsync(a4);
        await client.Addresses.DeleteAsync(a6);
        Assert.DoesNotContain("198.51.100.10", net.Ns.Ip("addr", "show", "dev", "v1"));
        var missing = await Assert.ThrowsAsync<LinuxException>(() => client.Addresses.DeleteAsync(a4));
        Assert.Equal(Errno.EADDRNOTAVAIL, missing.Errno);
    }
}
