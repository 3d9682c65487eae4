using System.Runtime.InteropServices;

namespace Overlay.Linux.Interop;

/// <summary>
/// A failed Linux system call or netlink request. The message names the operation, the object it
/// acted on, the errno symbol and its text, e.g.
/// <c>setns(CLONE_NEWNET) on netns 'n1' failed: EPERM (Operation not permitted)</c>.
/// All errno values are translated here, once, at the interop edge.
/// </summary>
public class LinuxException : IOException
{
    public LinuxException(string operation, string? target, int errno, string? detail = null)
        : base(Format(operation, target, errno, detail))
    {
        Operation = operation;
        Target = target;
        ErrorNumber = errno;
        Detail = detail;
        HResult = errno;
    }

    /// <summary>The system call or request, e.g. "setns(CLONE_NEWNET)" or "RTM_NEWROUTE".</summary>
    public string Operation { get; }
    /// <summary>What it acted on, e.g. "netns 'n1'" or "route 10.0.0.0/24 table 254"; null when nothing specific.</summary>
    public string? Target { get; }
    public int ErrorNumber { get; }
    public Errno Errno => (Errno)ErrorNumber;
    /// <summary>Extra text from the kernel (netlink extended ack message), if any.</summary>
    public string? Detail { get; }

    public string ErrnoName => NameOf(ErrorNumber);

    public static string NameOf(int errno) =>
        Enum.IsDefined(typeof(Errno), errno) ? ((Errno)errno).ToString() : $"errno {errno}";

    /// <summary>Builds the exception from the errno the last P/Invoke recorded (Tmds.LibC and Libc's own imports set SetLastError).</summary>
    public static LinuxException FromLastError(string operation, string? target) =>
        new(operation, target, Marshal.GetLastPInvokeError());

    internal static void ThrowIfFailed(int result, string operation, string? target)
    {
        if (result < 0) throw FromLastError(operation, target);
    }

    private static string Format(string operation, string? target, int errno, string? detail)
    {
        string on = target is null ? "" : $" on {target}";
        string extra = string.IsNullOrEmpty(detail) ? "" : $": {detail}";
        return $"{operation}{on} failed: {NameOf(errno)} ({Marshal.GetPInvokeErrorMessage(errno)}){extra}";
    }
}
