using Microsoft.Win32.SafeHandles;

namespace Overlay.Lab.Interop;

/// <summary>An open network-namespace file (/var/run/netns/NAME or /proc/thread-self/ns/net).</summary>
internal sealed class SafeNamespaceHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeNamespaceHandle() : base(ownsHandle: true) { }

    public static SafeNamespaceHandle Open(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0) throw Libc.Error("open network namespace", path);
        var handle = new SafeNamespaceHandle();
        handle.SetHandle(fd);
        return handle;
    }

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
