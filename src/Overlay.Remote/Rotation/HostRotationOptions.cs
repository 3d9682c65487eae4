using Overlay.Remote.Shell;

namespace Overlay.Remote.Rotation;

/// <summary>How a node keeps its WireGuard and FRR: the standard tools (wg-quick, wg, ip, vtysh) in their usual places.</summary>
public sealed record HostRotationOptions
{
    public const string DefaultWireGuardDirectory = "/etc/wireguard";

    /// <summary>Where wg-quick files live; <c>{node}</c> is replaced by the node's name (the lab keeps one folder per node).</summary>
    public string WireGuardDirectory { get; init; } = DefaultWireGuardDirectory;

    /// <summary>Start and stop interfaces with systemd's <c>wg-quick@IFACE</c> units instead of calling wg-quick directly.</summary>
    public bool Systemd { get; init; }

    /// <summary>The vtysh command as a template; <c>{node}</c> is replaced ("vtysh -N lab-{node}" for FRR pathspaces).</summary>
    public string Vtysh { get; init; } = "vtysh";

    /// <summary>Deadline for one script on a node (a change or one check).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options at once; empty when they can be used.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!WireGuardDirectory.StartsWith('/'))
            errors.Add($"--wg-dir '{WireGuardDirectory}' must be an absolute path");
        if (Systemd && WireGuardDirectory != DefaultWireGuardDirectory)
            errors.Add($"--systemd uses wg-quick@IFACE units, which read {DefaultWireGuardDirectory} only; drop --wg-dir or --systemd");
        try { ShellWords.Split(Vtysh); }
        catch (ArgumentException e) { errors.Add($"--vtysh: {e.Message}"); }
        if (CommandTimeout <= TimeSpan.Zero) errors.Add("the command timeout must be positive");
        return errors;
    }

    internal string Directory(string node)
    {
        ShellWords.ValidateNodeName(node);
        return WireGuardDirectory.Replace("{node}", node, StringComparison.Ordinal).TrimEnd('/');
    }

    /// <summary>The quoted path of an interface's wg-quick file, for a script.</summary>
    internal string ConfigFile(string node, string iface)
    {
        ShellWords.ValidateInterfaceName(iface);
        return ShellWords.Quote($"{Directory(node)}/{iface}.conf");
    }

    /// <summary>The quoted vtysh command words, for a script.</summary>
    internal string VtyshCommand(string node) => ShellWords.Join(ShellWords.Expand(Vtysh, node));
}

/// <summary>A change could not be applied on a node; the message names the node, the step and what the node said.</summary>
public sealed class HostAgentException(string message) : Exception(message);
