using System.Net.Sockets;
using Overlay.Linux.Interop;
using Tmds.Linux;

namespace Overlay.Daemon.Hosting;

/// <summary>
/// The control socket's file. Whatever the inherited umask, the socket appears at its path only with its final
/// mode and group: it is bound inside a private 0700 directory next to the path, given its mode and group there,
/// listened on, and only then renamed into place (without replacing anything that appeared meanwhile). Only a
/// stale socket is ever removed from the path; a regular file, directory or symlink there is refused.
/// </summary>
internal static unsafe class UnixSocketFile
{
    /// <summary>Directories overlayd creates for the socket get this mode (like systemd's RuntimeDirectory).</summary>
    public const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101; // 0755

    /// <summary>Binds and listens on <paramref name="path"/>; the caller hands the socket to Kestrel.</summary>
    public static Socket BindListening(string path, int mode, string? group)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        CreateDirectories(dir);
        RemoveStale(path);
        int gid = group is null ? -1 : GroupId(group);

        // Short, so the staged path is no longer than a typical api.socket (sun_path holds 107 bytes).
        string staging = Path.Combine(dir, ".ovl-" + Guid.NewGuid().ToString("N")[..8]);
        // mkdir's mode is masked by the umask, which can only take bits away: 0700 or less, never more.
        if (Libc.Mkdir(staging, 0b111_000_000) != 0) throw LinuxException.FromLastError("mkdir", staging);
        string staged = Path.Combine(staging, "s");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(staged));
            File.SetUnixFileMode(staged, (UnixFileMode)mode);
            if (gid >= 0 && Libc.Chown(staged, -1, gid) != 0) throw LinuxException.FromLastError($"chown(group {group})", staged);
            socket.Listen(512);
            if (Libc.RenameAt2(staged, path, Libc.RENAME_NOREPLACE) != 0)
            {
                var error = LinuxException.FromLastError("renameat2(RENAME_NOREPLACE)", $"{staged} -> {path}");
                throw error.Errno == Errno.EEXIST
                    ? new IOException($"{path} appeared while overlayd was starting; another process is using api.socket. Stop it or choose another api.socket", error)
                    : error;
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            try { File.Delete(staged); } catch (IOException) { }
            throw;
        }
        finally
        {
            try { Directory.Delete(staging); } catch (IOException) { }
        }
    }

    /// <summary>Removes the socket file at stop, if it is still a socket (never anything else).</summary>
    public static void RemoveAtStop(string path)
    {
        if (Kind(path) == FileKind.Socket) File.Delete(path);
    }

    /// <summary>
    /// Removes a socket file left by a crashed daemon. A socket someone still answers on is not touched (two daemons
    /// must not share a node), and neither is anything that is not a socket.
    /// </summary>
    internal static void RemoveStale(string path)
    {
        switch (Kind(path))
        {
            case FileKind.Missing: return;
            case FileKind.Socket: break;
            case var other:
                throw new InvalidOperationException(
                    $"api.socket {path} is {Describe(other)}, not a stale socket; overlayd removes only a socket it left behind. " +
                    "Move it away if it is not needed, or set api.socket to another path");
        }
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

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Symlink => "a symbolic link",
        _ => "a special file",
    };

    /// <summary>Creates missing directories with <see cref="DirectoryMode"/>, set explicitly rather than left to the umask.</summary>
    private static void CreateDirectories(string dir)
    {
        if (Directory.Exists(dir)) return;
        CreateDirectories(Path.GetDirectoryName(dir)!);
        if (Libc.Mkdir(dir, (uint)DirectoryMode) != 0 && Libc.LastErrno != (int)Errno.EEXIST) throw LinuxException.FromLastError("mkdir", dir);
        File.SetUnixFileMode(dir, DirectoryMode);
    }

    internal enum FileKind { Missing, Socket, Regular, Directory, Symlink, Other }

    /// <summary>The type of what is at <paramref name="path"/>, without following a symlink (statx, AT_SYMLINK_NOFOLLOW).</summary>
    internal static FileKind Kind(string path)
    {
        statx result;
        if (Libc.Statx(path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_TYPE | LibC.STATX_MODE, &result) != 0)
        {
            if (Libc.LastErrno == (int)Errno.ENOENT) return FileKind.Missing;
            throw LinuxException.FromLastError("statx", path);
        }
        int type = result.stx_mode & 0xF000;
        return type switch
        {
            0xC000 => FileKind.Socket,
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            _ => FileKind.Other,
        };
    }

    /// <summary>The permission bits of <paramref name="path"/> (not following a symlink), for tests and diagnostics.</summary>
    internal static int Mode(string path)
    {
        statx result;
        if (Libc.Statx(path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_TYPE | LibC.STATX_MODE, &result) != 0) return -1;
        return result.stx_mode & 0xFFF;
    }

    private static int GroupId(string group) =>
        (int?)Libc.GroupId(group)
        ?? throw new IOException($"group '{group}' does not exist; create it (groupadd {group}) or remove api.group");
}
