using System.Net.Sockets;

namespace Overlay.Lab.Interop;

/// <summary>
/// Runs code inside a named network namespace. setns changes only the calling thread, so the work runs
/// on a dedicated thread that nothing else shares; a socket created there stays in that namespace and
/// can be used from any thread afterwards.
/// </summary>
internal static class NamespaceRunner
{
    public static T Run<T>(string namespaceName, Func<T> work)
    {
        string path = Path.Combine("/var/run/netns", namespaceName);
        using var target = SafeNamespaceHandle.Open(path);
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var home = SafeNamespaceHandle.Open("/proc/thread-self/ns/net");
                if (Libc.SetNs(target, Libc.CLONE_NEWNET) != 0) throw Libc.Error("setns into", path);
                try { result = work(); }
                finally
                {
                    // The thread ends right after, but it must never run anything else in the wrong namespace.
                    if (Libc.SetNs(home, Libc.CLONE_NEWNET) != 0) failure ??= Libc.Error("setns back from", path);
                }
            }
            catch (Exception e) { failure = e; }
        })
        { IsBackground = true, Name = "netns " + namespaceName };
        thread.Start();
        thread.Join();
        if (failure is not null) throw failure;
        return result!;
    }

    public static Socket CreateSocket(string namespaceName, AddressFamily family, SocketType type, ProtocolType protocol) =>
        Run(namespaceName, () => new Socket(family, type, protocol));
}
