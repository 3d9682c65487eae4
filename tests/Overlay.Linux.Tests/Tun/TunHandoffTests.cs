using System.Net.Sockets;
using System.Text;
using Overlay.Linux.Interop;
using Overlay.Linux.Tests.Support;
using Overlay.Linux.Tun;

namespace Overlay.Linux.Tests.Tun;

/// <summary>
/// A lease's TUN fd passed over a Unix socket (SCM_RIGHTS, as between two overlayd processes and to the service
/// manager's fd store) keeps the link alive after the creator closes its own fd, and is adopted by name.
/// </summary>
public class TunHandoffTests(ITestOutputHelper output)
{
    private static (Socket A, Socket B) Pair()
    {
        string path = Path.Combine("/tmp", "ovt-fdp-" + Guid.NewGuid().ToString("N")[..10] + ".sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var a = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        a.Connect(new UnixDomainSocketEndPoint(path));
        var b = listener.Accept();
        listener.Dispose();
        File.Delete(path);
        return (a, b);
    }

    /// <summary>
    /// An odd count leaves the control message's length unaligned: rounding it up (as Tmds.LibC 0.5.0's CMSG_LEN does)
    /// makes the kernel read one more fd, a zero, and pass the sender's stdin along.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Exactly_the_fds_sent_arrive(int count)
    {
        var (a, b) = Pair();
        var sent = Enumerable.Range(0, count).Select(_ => File.OpenHandle("/dev/null")).ToArray();
        using (a)
        using (b)
        {
            try
            {
                UnixFdPassing.Send(a.SafeHandle, "fds"u8, sent, "test socket");
            }
            finally
            {
                foreach (var f in sent) f.Dispose();
            }
            var (_, fds) = UnixFdPassing.Receive(b.SafeHandle, 64, TimeSpan.FromSeconds(5), "test socket");
            try
            {
                Assert.Equal(count, fds.Length);
                Assert.All(fds, f => Assert.Equal("/dev/null", new FileInfo($"/proc/self/fd/{f.Fd}").LinkTarget));
            }
            finally
            {
                foreach (var f in fds) f.Dispose();
            }
        }
    }

    [Fact]
    public void Fds_and_payload_arrive_together_close_on_exec_and_EOF_reads_empty()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        using (var f1 = File.OpenHandle("/dev/null"))
        using (var f2 = File.OpenHandle("/proc/self/stat"))
        {
            UnixFdPassing.Send(a.SafeHandle, Encoding.UTF8.GetBytes("two fds"), [f1, f2], "test socket");
            var (payload, fds) = UnixFdPassing.Receive(b.SafeHandle, 256, TimeSpan.FromSeconds(5), "test socket");
            try
            {
                Assert.Equal("two fds", Encoding.UTF8.GetString(payload));
                Assert.Equal(2, fds.Length);
                Assert.All(fds, f => Assert.False(f.IsInvalid));
                Assert.All(fds, f => Assert.Contains("flags:\t02", File.ReadAllText($"/proc/self/fdinfo/{f.Fd}"))); // O_CLOEXEC
                Assert.NotEqual(f1.DangerousGetHandle().ToInt32(), fds[0].Fd); // a new fd, not the sender's number
            }
            finally
            {
                foreach (var f in fds) f.Dispose();
            }
            var timeout = Assert.Throws<LinuxException>(() => UnixFdPassing.Receive(b.SafeHandle, 256, TimeSpan.FromMilliseconds(50), "test socket"));
            Assert.Equal(Errno.ETIMEDOUT, timeout.Errno);
            a.Shutdown(SocketShutdown.Both);
            var (eof, none) = UnixFdPassing.Receive(b.SafeHandle, 256, TimeSpan.FromSeconds(5), "test socket");
            Assert.Empty(eof);
            Assert.Empty(none);
        }
    }

    [SkippableFact]
    public async Task Handed_over_TUN_outlives_its_creator_fd_and_is_adopted_only_under_its_own_name()
    {
        Skip.IfNot(Root.IsRoot, Root.SkipReason);
        using var ns = new TestNamespace("tunho");
        string name = "ovt" + Guid.NewGuid().ToString("N")[..8];
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            var lease = await TunLease.CreateAsync(ns.Namespace, name);
            UnixFdPassing.Send(a.SafeHandle, "lease"u8, [lease.Handle], "test socket");
            lease.Dispose(); // the creator's fd is closed: the passed one keeps the TUN
            var (_, fds) = UnixFdPassing.Receive(b.SafeHandle, 64, TimeSpan.FromSeconds(5), "test socket");
            Assert.Single(fds);
            Assert.Equal(0, Sh.Exec("ip", ["-n", ns.Name, "link", "show", "dev", name]).Code);
            Assert.Equal(name, TunLease.AttachedInterface(fds[0], "passed fd"));

            var wrong = await Assert.ThrowsAsync<LinuxException>(() => TunLease.AdoptAsync(ns.Namespace, fds[0], name + "x"));
            output.WriteLine(wrong.Message);
            Assert.Contains($"attached to TUN '{name}'", wrong.Message);

            var adopted = await TunLease.AdoptAsync(ns.Namespace, fds[0], name);
            Assert.True(adopted.Adopted);
            Assert.Equal(name, adopted.Name);
            adopted.Dispose(); // the last fd: the kernel deletes the link
            await Eventually.TrueAsync(() => Sh.Exec("ip", ["-n", ns.Name, "link", "show", "dev", name]).Code != 0, "TUN deleted with its last fd");
        }
    }

    [Fact]
    public void A_file_that_is_not_a_TUN_is_refused_with_the_reason()
    {
        using var handle = File.OpenHandle("/dev/null");
        var fd = UnixFdPassing.Duplicate(handle, 3, "/dev/null");
        using (fd)
        {
            var e = Assert.Throws<LinuxException>(() => TunLease.AttachedInterface(fd, "not-a-tun"));
            output.WriteLine(e.Message);
            Assert.Contains("TUNGETIFF", e.Message);
        }
    }
}
