using System.Runtime.InteropServices;

namespace Overlay.Linux.Interop;

/// <summary>Owns one Linux file descriptor; closes it exactly once when disposed or finalized.</summary>
public sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle() : base(new IntPtr(-1), ownsHandle: true) { }

    internal FileDescriptorHandle(int fd) : this() => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw fd; valid only while this handle is alive.</summary>
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Libc.Close((int)handle.ToInt64()) == 0;
}
