using System.Net;
using System.Net.Sockets;
using Overlay.Linux.Interop;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Tests.Support;

namespace Overlay.Linux.Tests.Namespaces;

public class NetNamespaceTests
{
    [SkippableFact]
    public async Task RunAsync_executes_inside_the_namespace_on_a_thread_that_is_not_the_callers()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var ns = new TestNamespace("ns");
        string expected = Sh.Run("ip", "netns", "exec", ns.Name, "readlink", "/proc/self/ns/net").Trim();
        string mine = new FileInfo("/proc/thread-self/ns/net").LinkTarget!;

        var (inside, threadName) = await ns.Namespace.RunAsync(() =>
            (new FileInfo("/proc/thread-self/ns/net").LinkTarget!, Thread.CurrentThread.Name));

        Assert.Equal(expected, inside);
        Assert.NotEqual(mine, inside);
        Assert.Equal("netns " + ns.Name, threadName);
        // The caller (and the pool) stay where they were.
        Assert.Equal(mine, new FileInfo("/proc/thread-self/ns/net").LinkTarget!);
    }

    [SkippableFact]
    public void CreateSocket_binds_to_an_address_that_exists_only_inside_the_namespace()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var ns = new TestNamespace("ns");
        ns.Ip("addr", "add", "198.51.100.7/32", "dev", "lo");
        var address = IPAddress.Parse("198.51.100.7");

        using var inside = ns.Namespace.CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        inside.Bind(new IPEndPoint(address, 0)); // used from this (pool) thread, outside the namespace

        using var outside = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var e = Assert.Throws<SocketException>(() => outside.Bind(new IPEndPoint(address, 0)));
        Assert.Equal(SocketError.AddressNotAvailable, e.SocketErrorCode);

        // And the socket works across threads: send to itself inside the namespace.
        var local = (IPEndPoint)inside.LocalEndPoint!;
        inside.SendTo(new byte[] { 42 }, local);
        var buffer = new byte[4];
        Assert.Equal(1, inside.Receive(buffer));
        Assert.Equal(42, buffer[0]);
    }

    [Fact]
    public void Open_of_a_missing_namespace_names_the_operation_namespace_and_errno()
    {
        var e = Assert.Throws<LinuxException>(() => NetNamespace.Open("ovl-does-not-exist-" + Guid.NewGuid().ToString("N")[..6]));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("open on netns 'ovl-does-not-exist-", e.Message);
        Assert.Contains("ENOENT (No such file or directory)", e.Message);
    }

    [SkippableFact]
    public async Task A_setns_failure_names_the_namespace_and_an_action_exception_propagates()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        // A UTS namespace file is no network namespace: setns(CLONE_NEWNET) refuses it.
        using var wrong = NetNamespace.OpenPath("/proc/self/ns/uts");
        var e = await Assert.ThrowsAsync<LinuxException>(() => wrong.RunAsync(() => 1));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.StartsWith("setns(CLONE_NEWNET) on netns '/proc/self/ns/uts' failed: EINVAL", e.Message);

        using var ns = new TestNamespace("ns");
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => ns.Namespace.RunAsync<int>(() => throw new InvalidOperationException("inside")));
        Assert.Equal("inside", thrown.Message);
    }

    [Fact]
    public void Open_rejects_paths_as_names()
    {
        Assert.Throws<ArgumentException>(() => NetNamespace.Open("../etc"));
    }

    [Fact]
    public async Task Current_runs_without_setns()
    {
        string mine = new FileInfo("/proc/self/ns/net").LinkTarget!;
        string there = await NetNamespace.Current.RunAsync(() => new FileInfo("/proc/thread-self/ns/net").LinkTarget!);
        Assert.Equal(mine, there);
    }

    [Fact]
    public void LinuxException_names_unknown_errnos_by_number()
    {
        var e = new LinuxException("frob", "thing 'x'", 4242);
        Assert.StartsWith("frob on thing 'x' failed: errno 4242", e.Message);
        Assert.Equal("EEXIST", new LinuxException("op", null, 17).ErrnoName);
    }
}
