using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Overlay.Daemon.Hosting;

/// <summary>The control socket's file: stale-file takeover before bind, mode and group after bind.</summary>
internal static partial class UnixSocketFile
{
    /// <summary>
    /// Removes a socket file left by a crashed daemon. A socket someone still answers on is not touched:
    /// two daemons must not share a node.
    /// </summary>
    public static void PrepareForBind(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path)) return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new InvalidOperationException($"another process is serving {path}; stop it or choose another api.socket");
            }
            catch (SocketException) { }
        }
        File.Delete(path);
    }

    public static void SetModeAndGroup(string path, int mode, string? group)
    {
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        if (group is null) return;
        var gid = GroupId(group);
        if (Chown(path, -1, gid) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"chown({path}, group {group}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }

    private static int GroupId(string group)
    {
        // getgrnam goes through NSS, so LDAP/sssd groups work like local ones.
        Marshal.SetLastPInvokeError(0);
        var ptr = GetGrNam(group);
        if (ptr == IntPtr.Zero)
            throw new IOException($"group '{group}' does not exist; create it (groupadd {group}) or remove api.group");
        // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
        return Marshal.ReadInt32(ptr, 2 * IntPtr.Size);
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "getgrnam", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGrNam(string name);
}
