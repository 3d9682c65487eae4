using System.Runtime.InteropServices;

namespace Overlay.Lab.Interop;

internal static partial class Libc
{
    internal const int CLONE_NEWNET = 0x40000000;
    internal const int O_RDONLY = 0;
    internal const int O_CLOEXEC = 0x80000;
    internal const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(SafeNamespaceHandle fd, int nstype);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    /// <summary>errno is translated here, once, into an exception naming the operation and the object.</summary>
    internal static IOException Error(string operation, string target)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{operation} {target}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
