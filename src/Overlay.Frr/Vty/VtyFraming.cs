using System.Text;

namespace Overlay.Frr.Vty;

/// <summary>
/// The vty socket protocol: a command is its text followed by one NUL byte; the reply is the
/// output followed by the 4 bytes 00 00 00 STATUS.
/// </summary>
internal static class VtyFraming
{
    public const int TrailerSize = 4;

    public static byte[] EncodeCommand(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Contains('\0') || command.Contains('\n'))
            throw new ArgumentException("A vty command is one line without NUL characters.", nameof(command));
        var bytes = new byte[Encoding.UTF8.GetByteCount(command) + 1];
        Encoding.UTF8.GetBytes(command, bytes);
        return bytes; // last byte stays 0
    }

    /// <summary>True when <paramref name="received"/> ends with a complete trailer; returns the status.</summary>
    public static bool TryGetTrailer(ReadOnlySpan<byte> received, out VtyStatus status)
    {
        status = default;
        if (received.Length < TrailerSize)
            return false;
        var trailer = received[^TrailerSize..];
        if (trailer[0] != 0 || trailer[1] != 0 || trailer[2] != 0)
            return false;
        status = (VtyStatus)trailer[3];
        return true;
    }

    public static string DecodeOutput(ReadOnlySpan<byte> received) =>
        Encoding.UTF8.GetString(received[..^TrailerSize]);
}
