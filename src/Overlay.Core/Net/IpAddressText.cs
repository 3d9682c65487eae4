using System.Net;
using System.Net.Sockets;

namespace Overlay.Core.Net;

/// <summary>
/// The one parser of IP address text (inventory, overlayd.yaml, prefixes, endpoints, CLI arguments). Stricter than
/// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>, which follows inet_aton: there "010.0.1.2" is octal
/// (8.0.1.2), "0x0a.1" is hex and "10.1" is 10.0.0.1, while iproute2 and every operator read them differently. So IPv4
/// is exactly four decimal octets without leading zeros; IPv6 is hex groups and colons (an embedded IPv4 tail follows
/// the IPv4 rule), without a zone; no whitespace anywhere.
/// </summary>
public static class IpAddressText
{
    public static bool TryParse(ReadOnlySpan<char> text, out IPAddress address) => TryParse(text, out address, out _);

    /// <summary>Parses an address; <paramref name="error"/> says what is wrong (without repeating the text).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IPAddress address, out string? error)
    {
        address = IPAddress.None;
        error = null;
        if (text.IsEmpty) { error = "empty"; return false; }
        if (text.Length > 45) { error = "too long for an IP address"; return false; }
        if (text.Contains(':')) return TryParseV6(text, out address, out error);
        if (!TryParseV4(text, out uint value, out error)) return false;
        Span<byte> b = [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
        address = new IPAddress(b);
        return true;
    }

    public static IPAddress Parse(string text) =>
        TryParse(text, out var a, out var error) ? a : throw new FormatException($"'{text}' is not an IP address: {error}");

    private static bool TryParseV4(ReadOnlySpan<char> text, out uint value, out string? error)
    {
        value = 0;
        error = null;
        int parts = 0;
        int i = 0;
        while (true)
        {
            int start = i;
            uint octet = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                octet = octet * 10 + (uint)(text[i] - '0');
                if (i - start >= 3) { error = "an IPv4 octet has more than three digits"; return false; }
                i++;
            }
            int digits = i - start;
            if (digits == 0) { error = "an IPv4 address is four decimal octets, e.g. 10.0.1.2"; return false; }
            if (digits > 1 && text[start] == '0')
            {
                error = $"octet '{text[start..i]}' has a leading zero, which some tools read as octal; write {octet}";
                return false;
            }
            if (octet > 255) { error = $"octet {octet} is above 255"; return false; }
            value = (value << 8) | octet;
            parts++;
            if (i == text.Length) break;
            if (text[i] != '.' || parts == 4) { error = "an IPv4 address is four decimal octets, e.g. 10.0.1.2"; return false; }
            i++;
        }
        if (parts != 4) { error = "an IPv4 address is four decimal octets, e.g. 10.0.1.2"; return false; }
        return true;
    }

    private static bool TryParseV6(ReadOnlySpan<char> text, out IPAddress address, out string? error)
    {
        address = IPAddress.None;
        error = null;
        foreach (char c in text)
            if (!(char.IsAsciiHexDigit(c) || c is ':' or '.'))
            {
                error = c == '%' ? "a zone (%...) is not allowed here" : "an IPv6 address holds only hex digits and ':'";
                return false;
            }
        // An embedded IPv4 tail ("::ffff:10.0.0.1") follows the IPv4 rule.
        int lastColon = text.LastIndexOf(':');
        var tail = text[(lastColon + 1)..];
        if (tail.Contains('.') && !TryParseV4(tail, out _, out error)) return false;
        if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6 || parsed.ScopeId != 0)
        {
            error = "not a valid IPv6 address";
            return false;
        }
        address = parsed;
        return true;
    }

    /// <summary>
    /// Why an address cannot be an interface address, router id, peer or endpoint ("unspecified", "loopback",
    /// "multicast", "broadcast"), or null when it can. IPv4-mapped IPv6 addresses are judged by their IPv4 address.
    /// </summary>
    public static string? SpecialKind(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            if (b[0] == 0) return "unspecified"; // 0.0.0.0/8: "this network", never a host's address
            if (b[0] == 127) return "loopback";
            if (b[0] is >= 224 and <= 239) return "multicast";
            if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "broadcast";
            return null;
        }
        if (address.Equals(IPAddress.IPv6Any)) return "unspecified";
        if (address.Equals(IPAddress.IPv6Loopback)) return "loopback";
        if (address.IsIPv6Multicast) return "multicast";
        return null;
    }
}
