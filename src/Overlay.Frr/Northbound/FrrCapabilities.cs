using System.Globalization;

namespace Overlay.Frr.Northbound;

/// <summary>A YANG module a daemon serves over the northbound API.</summary>
public sealed record YangModule(string Name, string Organization, string Revision);

/// <summary>
/// What one daemon answered to GetCapabilities. In 8.4 ospfd and bgpd serve only route-map modules;
/// newer releases that model OSPF/BGP state can be detected with <see cref="Serves"/>.
/// </summary>
public sealed record FrrCapabilities(
    FrrDaemon Daemon,
    string FrrVersionText,
    bool RollbackSupport,
    IReadOnlyList<YangModule> Modules,
    IReadOnlyList<string> Encodings)
{
    /// <summary>The numeric part of the version ("8.4.4" of "8.4.4-dev"); null when unparsable.</summary>
    public Version? FrrVersion { get; } = ParseVersion(FrrVersionText);

    /// <summary>True when the daemon serves the YANG module, e.g. <c>Serves("frr-staticd")</c>.</summary>
    public bool Serves(string module) => Modules.Any(m => string.Equals(m.Name, module, StringComparison.Ordinal));

    public static Version? ParseVersion(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
            end++;
        var parts = text[..end].Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 4)
            return null;
        var numbers = new int[Math.Max(parts.Length, 2)];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
                return null;
        return parts.Length switch
        {
            1 or 2 => new Version(numbers[0], numbers[1]),
            3 => new Version(numbers[0], numbers[1], numbers[2]),
            _ => new Version(numbers[0], numbers[1], numbers[2], numbers[3]),
        };
    }
}
