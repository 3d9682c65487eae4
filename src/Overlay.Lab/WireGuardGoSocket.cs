using System.Net.Sockets;

namespace Overlay.Lab;

/// <summary>wireguard-go's UAPI socket (/var/run/wireguard/IFNAME.sock), as the lab waits for it.</summary>
public static class WireGuardGoSocket
{
    public static string PathOf(string ifname) => Path.Combine(LabNames.WireGuardSocketDirectory, ifname + ".sock");

    /// <summary>
    /// Removes the socket a SIGKILLed wireguard-go left behind (waiting for "the socket listens" needs it gone).
    /// On a fresh machine the directory does not exist until some wireguard-go has run: nothing to remove then.
    /// </summary>
    public static void RemoveStale(string ifname)
    {
        try
        {
            File.Delete(PathOf(ifname));
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// True once a connect succeeds. The file alone is not enough: it appears at bind(), before listen(), and a 'wg set'
    /// that loses that race falls back to the kernel ("Protocol not supported"), which this kernel does not have.
    /// </summary>
    public static bool IsListening(string ifname)
    {
        string path = PathOf(ifname);
        if (!File.Exists(path)) return false;
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
