namespace Overlay.Linux.WireGuard;

internal static class WireGuardNames
{
    /// <summary>Interface names are at most 15 bytes and never a path.</summary>
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 15 || name.Contains('/') || name is "." or ".." || name.Any(char.IsWhiteSpace))
            throw new ArgumentException($"'{name}' is not an interface name: at most 15 characters, no '/', no spaces", nameof(name));
    }
}
