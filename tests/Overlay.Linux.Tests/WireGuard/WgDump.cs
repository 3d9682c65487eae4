using System.Globalization;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Linux.Tests.WireGuard;

/// <summary>Renders a device the way 'wg show IFACE dump' prints it, to compare the two field by field.</summary>
internal static class WgDump
{
    public static string DeviceLine(WireGuardDevice d) => string.Join('\t',
        d.PrivateKey?.RevealBase64() ?? "(none)",
        d.PublicKey.IsZero ? "(none)" : d.PublicKey.ToBase64(),
        d.ListenPort.ToString(CultureInfo.InvariantCulture),
        d.FirewallMark == 0 ? "off" : "0x" + d.FirewallMark.ToString("x", CultureInfo.InvariantCulture));

    public static string PeerLine(WireGuardPeer p) => string.Join('\t',
        p.PublicKey.ToBase64(),
        p.PresharedKey?.RevealBase64() ?? "(none)",
        p.Endpoint?.ToString() ?? "(none)",
        p.AllowedIPs.Count == 0 ? "(none)" : string.Join(',', p.AllowedIPs),
        (p.LastHandshake?.ToUnixTimeSeconds() ?? 0).ToString(CultureInfo.InvariantCulture),
        p.ReceiveBytes.ToString(CultureInfo.InvariantCulture),
        p.TransmitBytes.ToString(CultureInfo.InvariantCulture),
        p.PersistentKeepalive == TimeSpan.Zero ? "off" : ((int)p.PersistentKeepalive.TotalSeconds).ToString(CultureInfo.InvariantCulture));

    /// <summary>wg's output split into the device line and peer lines sorted (wireguard-go lists peers in map order).</summary>
    public static (string Device, string[] Peers) Split(string dump)
    {
        var lines = dump.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (lines[0], lines.Skip(1).Order(StringComparer.Ordinal).ToArray());
    }

    public static (string Device, string[] Peers) Render(WireGuardDevice d) =>
        (DeviceLine(d), d.Peers.Select(PeerLine).Order(StringComparer.Ordinal).ToArray());
}
