using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Overlay.Linux.Interop;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Rtnetlink;

namespace Overlay.Linux.Tun;

/// <summary>
/// A TUN interface that lives exactly as long as this object: created through /dev/net/tun
/// (TUNSETIFF, deliberately not TUNSETPERSIST), brought up, carrying service addresses (VIPs). When the
/// lease is disposed — or the process dies, even by SIGKILL — the kernel closes the fd and deletes the
/// link together with its addresses and every route through it, so a dead process stops attracting traffic.
/// </summary>
public sealed class TunLease : IAsyncDisposable, IDisposable
{
    private const int InterfaceNameMax = 15; // IFNAMSIZ - 1

    private readonly FileDescriptorHandle _fd;
    private readonly RtnetlinkClient _rtnl;
    private readonly List<InterfaceAddress> _addresses = [];

    private TunLease(FileDescriptorHandle fd, RtnetlinkClient rtnl, NetNamespace ns, string name, int index)
    {
        _fd = fd;
        _rtnl = rtnl;
        Namespace = ns;
        Name = name;
        Index = index;
    }

    public NetNamespace Namespace { get; }

    /// <summary>
    /// The TUN fd itself, to hand to the next overlayd process (SCM_RIGHTS) or store with the service manager
    /// (FDSTORE=1). The link lives while any process holds a duplicate of it.
    /// </summary>
    public SafeHandle Handle => _fd;

    /// <summary>True when this lease was made from an fd another process created (<see cref="AdoptAsync"/>).</summary>
    public bool Adopted { get; private init; }
    public string Name { get; }
    public int Index { get; }

    /// <summary>The addresses this lease added (and that go away with it).</summary>
    public IReadOnlyList<InterfaceAddress> Addresses
    {
        get { lock (_addresses) return [.. _addresses]; }
    }

    /// <summary>Creates TUN <paramref name="name"/> in <paramref name="ns"/> and sets it up; EBUSY if the name is taken by another device.</summary>
    public static async Task<TunLease> CreateAsync(NetNamespace ns, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) > InterfaceNameMax || name.Contains('/') || name.Any(char.IsWhiteSpace))
            throw new ArgumentException($"'{name}' is not a valid interface name (at most {InterfaceNameMax} bytes, no '/' or spaces)", nameof(name));

        // The TUN device joins the namespace of the thread that opens and configures it.
        var fd = await ns.RunAsync(() => OpenTun(name, ns.Name)).ConfigureAwait(false);

        RtnetlinkClient? rtnl = null;
        try
        {
            rtnl = RtnetlinkClient.Open(ns);
            var link = await rtnl.Links.GetAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new LinuxException("RTM_GETLINK", $"TUN '{name}' just created in netns '{ns.Name}'", (int)Errno.ENODEV);
            await rtnl.Links.SetUpAsync(link.Index, up: true, cancellationToken).ConfigureAwait(false);
            return new TunLease(fd, rtnl, ns, name, link.Index);
        }
        catch
        {
            rtnl?.Dispose();
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes over a TUN fd created by another process (handed over, or kept by the service manager): asks the kernel
    /// which interface it is attached to (TUNGETIFF) and refuses it unless that is <paramref name="expectedName"/>
    /// and the link exists in <paramref name="ns"/>. The link, its addresses and routes are left as they are. On
    /// success the lease owns <paramref name="fd"/>; on failure the caller still does.
    /// </summary>
    public static async Task<TunLease> AdoptAsync(NetNamespace ns, FileDescriptorHandle fd, string expectedName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(fd);
        string name = AttachedInterface(fd, expectedName);
        if (name != expectedName)
            throw new LinuxException("TUNGETIFF", $"handed-over fd named '{expectedName}'", (int)Errno.EINVAL, $"the fd is attached to TUN '{name}', not '{expectedName}'");
        var rtnl = RtnetlinkClient.Open(ns);
        try
        {
            var link = await rtnl.Links.GetAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new LinuxException("RTM_GETLINK", $"handed-over TUN '{name}' in netns '{ns.Name}'", (int)Errno.ENODEV,
                    "the fd is a TUN but no such link exists in this namespace (started in another netns?)");
            return new TunLease(fd, rtnl, ns, name, link.Index) { Adopted = true };
        }
        catch
        {
            rtnl.Dispose();
            throw;
        }
    }

    /// <summary>The name of the TUN interface <paramref name="fd"/> is attached to (TUNGETIFF); <paramref name="what"/> names the fd in errors.</summary>
    public static unsafe string AttachedInterface(FileDescriptorHandle fd, string what)
    {
        var request = new Libc.InterfaceRequest();
        if (Libc.Ioctl(fd, Libc.TUNGETIFF, &request) < 0)
            throw LinuxException.FromLastError("ioctl(TUNGETIFF)", $"handed-over fd named '{what}' (not a TUN fd?)");
        var bytes = new ReadOnlySpan<byte>(request.Name, Libc.IFNAMSIZ);
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    private static unsafe FileDescriptorHandle OpenTun(string name, string namespaceName)
    {
        var tun = Libc.Open("/dev/net/tun", Tmds.Linux.LibC.O_RDWR, $"/dev/net/tun for TUN '{name}' in netns '{namespaceName}'");
        var request = new Libc.InterfaceRequest { Flags = Libc.IFF_TUN | Libc.IFF_NO_PI };
        Encoding.UTF8.GetBytes(name, new Span<byte>(request.Name, Libc.IFNAMSIZ));
        if (Libc.Ioctl(tun, Libc.TUNSETIFF, &request) < 0)
        {
            var error = LinuxException.FromLastError("ioctl(TUNSETIFF)", $"TUN '{name}' in netns '{namespaceName}'");
            tun.Dispose();
            throw error;
        }
        return tun;
    }

    public async Task AddAddressAsync(IPAddress address, int prefixLength, CancellationToken cancellationToken = default)
    {
        var a = new InterfaceAddress(Index, address, prefixLength);
        await _rtnl.Addresses.AddAsync(a, cancellationToken).ConfigureAwait(false);
        lock (_addresses) _addresses.Add(a);
    }

    public async Task RemoveAddressAsync(IPAddress address, int prefixLength, CancellationToken cancellationToken = default)
    {
        var a = new InterfaceAddress(Index, address, prefixLength);
        await _rtnl.Addresses.DeleteAsync(a, cancellationToken).ConfigureAwait(false);
        lock (_addresses) _addresses.Remove(a);
    }

    public override string ToString() => $"TUN '{Name}' (#{Index}) in netns '{Namespace.Name}'";

    /// <summary>Closes the TUN fd; the kernel deletes the link, its addresses and its routes.</summary>
    public void Dispose()
    {
        _fd.Dispose();
        _rtnl.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
