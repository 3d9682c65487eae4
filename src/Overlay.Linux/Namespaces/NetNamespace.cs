using System.Net.Sockets;
using Overlay.Linux.Interop;

namespace Overlay.Linux.Namespaces;

/// <summary>
/// A network namespace held open by a file descriptor. Work that must happen inside it runs on a
/// dedicated, short-lived thread that calls <c>setns(CLONE_NEWNET)</c> and then exits, so no
/// thread-pool thread ever changes namespace. Sockets keep the namespace they were created in,
/// so a socket from <see cref="CreateSocket"/> can be used from any thread afterwards.
/// </summary>
public sealed class NetNamespace : IDisposable
{
    /// <summary>Where <c>ip netns add NAME</c> bind-mounts named namespaces.</summary>
    public const string NamedNamespaceDirectory = "/var/run/netns";

    private readonly FileDescriptorHandle? _fd;

    private NetNamespace(FileDescriptorHandle? fd, string name)
    {
        _fd = fd;
        Name = name;
    }

    /// <summary>The namespace this process runs in. Work runs on the calling side without setns.</summary>
    public static NetNamespace Current { get; } = new(null, "(current)");

    /// <summary>The name given to <see cref="Open"/>, the path given to <see cref="OpenPath"/>, or "(current)".</summary>
    public string Name { get; }

    public bool IsCurrent => _fd is null;

    /// <summary>Opens the named namespace <c>/var/run/netns/NAME</c>.</summary>
    public static NetNamespace Open(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || name is "." or "..")
            throw new ArgumentException($"'{name}' is not a namespace name (expected the NAME of 'ip netns add NAME')", nameof(name));
        return OpenCore(Path.Combine(NamedNamespaceDirectory, name), name);
    }

    /// <summary>Opens a namespace by path, e.g. <c>/proc/PID/ns/net</c>.</summary>
    public static NetNamespace OpenPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return OpenCore(path, path);
    }

    private static NetNamespace OpenCore(string path, string name)
    {
        var fd = Libc.Open(path, Tmds.Linux.LibC.O_RDONLY, $"netns '{name}' ({path})");
        return new NetNamespace(fd, name);
    }

    /// <summary>Runs <paramref name="action"/> inside the namespace on a dedicated thread.</summary>
    public Task<T> RunAsync<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (IsCurrent)
        {
            // The current namespace needs no setns; any thread will do.
            return Task.Run(action);
        }
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Enter();
                done.SetResult(action());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns " + Name,
        };
        thread.Start();
        return done.Task;
    }

    public Task RunAsync(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(() => { action(); return true; });
    }

    /// <summary>Runs <paramref name="action"/> inside the namespace and waits for it (still on a dedicated thread).</summary>
    public T Run<T>(Func<T> action)
    {
        if (IsCurrent) return action();
        return RunAsync(action).GetAwaiter().GetResult();
    }

    /// <summary>Creates a socket inside the namespace. The socket can be used from any thread.</summary>
    public Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol) =>
        Run(() => new Socket(family, type, protocol));

    /// <summary>Creates a raw socket fd inside the namespace (for families .NET does not wrap, like AF_NETLINK).</summary>
    internal FileDescriptorHandle CreateRawSocket(int domain, int type, int protocol, string description) =>
        Run(() => Libc.Socket(domain, type, protocol, $"{description} in netns '{Name}'"));

    /// <summary>Opens a file inside the namespace (devices like /dev/net/tun bind to the opener's namespace).</summary>
    internal FileDescriptorHandle OpenFile(string path, int flags) =>
        Run(() => Libc.Open(path, flags, $"{path} in netns '{Name}'"));

    private void Enter()
    {
        ObjectDisposedException.ThrowIf(_fd!.IsClosed, this);
        if (Libc.SetNs(_fd, Tmds.Linux.LibC.CLONE_NEWNET) != 0)
            throw LinuxException.FromLastError("setns(CLONE_NEWNET)", $"netns '{Name}'");
    }

    public override string ToString() => $"netns '{Name}'";

    public void Dispose() => _fd?.Dispose();
}
