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
    private const uint TUNSETIFF = 0x400454ca;
    private const short IFF_TUN = 0x0001;
    private const short IFF_NO_PI = 0x1000;
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

    private static unsafe FileDescriptorHandle OpenTun(string name, string namespaceName)
    {
        var tun = Libc.Open("/dev/net/tun", Libc.O_RDWR, $"/dev/net/tun for TUN '{name}' in netns '{namespaceName}'");
        var request = new InterfaceRequest { Flags = IFF_TUN | IFF_NO_PI };
        Encoding.UTF8.GetBytes(name, new Span<byte>(request.Name, 16));
        if (Libc.ioctl(tun, TUNSETIFF, &request) < 0)
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

    /// <summary><c>struct ifreq</c> as TUNSETIFF reads it: name, flags, padding to 40 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private unsafe struct InterfaceRequest
    {
        public fixed byte Name[16];
        public short Flags;
    }
}
