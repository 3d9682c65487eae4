using System.Runtime.InteropServices;

namespace Overlay.Lab.Interop;

internal static partial class Libc
{
    internal const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    /// <summary>errno is translated here, once, into an exception naming the operation and the object.</summary>
    internal static Overlay.Linux.Interop.LinuxException Error(string operation, string target) =>
        new(operation, target, Marshal.GetLastPInvokeError());
}
