using Overlay.Linux.Interop;
using Overlay.Linux.Netlink;
using Overlay.Linux.Tests.Support;

namespace Overlay.Linux.Tests.Netlink;

public class NetlinkSocketTests
{
    [Fact]
    public void Resolves_the_generic_netlink_controller_itself()
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Generic);
        Assert.NotEqual(0u, socket.PortId);
        var family = GenericNetlink.ResolveFamily(socket, "nlctrl");
        Assert.Equal(GenericNetlinkController.FamilyId, family.Id);
        Assert.Equal("nlctrl", family.Name);
        Assert.Contains("notify", family.MulticastGroups.Keys);
    }

    [Fact]
    public void A_missing_family_is_ENOENT_with_the_family_named()
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Generic);
        var e = Assert.Throws<LinuxException>(() => GenericNetlink.ResolveFamily(socket, "ovlnofamily"));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("generic netlink family 'ovlnofamily'", e.Message);
    }

    [SkippableFact]
    public void Sockets_opened_in_a_namespace_work_from_any_thread()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var ns = new TestNamespace("nl");
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Generic, ns.Namespace);
        Assert.Equal(ns.Name, socket.NamespaceName);
        Assert.Equal(GenericNetlinkController.FamilyId, GenericNetlink.ResolveFamily(socket, "nlctrl").Id);
    }
}
