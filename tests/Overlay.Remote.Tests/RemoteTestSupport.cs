using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Rotation;
using Overlay.Remote.Shell;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Remote.Tests;

/// <summary>The example inventory, plan and healthy pre-flight answers shared by these tests and the CLI's rotate apply tests.</summary>
internal static class RemoteTestSupport
{
    internal const string NewKey = "uQqGZ+pNUaLoGxR0zB0wFPD0ByarfY9HRD8W4NJrmkQ=";

    internal static Inventory Example() =>
        InventoryParser.Parse(File.ReadAllText(Path.Combine(Root(), "examples", "hub-spoke.yaml")), "hub-spoke.yaml").Inventory!;

    internal static RotationPlan Plan(Inventory inv, string node = "spoke1") =>
        RotationPlanner.Plan(inv, node, new RotationOptions { NewPublicKey = WireGuardKey.Parse(NewKey) }).MakeBeforeBreak;

    /// <summary>Answers the pre-flight like a healthy node; on the rotating node with the derived public key given.</summary>
    internal static ShellResult HealthyPreflight(string script, string? stdin, string derived)
    {
        if (!script.Contains("overlay-preflight", StringComparison.Ordinal)) return FakeNodeShell.Ok();
        var lines = (stdin ?? "").Split('\n');
        return FakeNodeShell.Ok("overlay-preflight\n" + (lines.Length > 1 && lines[1].Length > 0 ? $"derived-public-key: {derived}\n" : ""));
    }

    internal static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln above " + AppContext.BaseDirectory);
    }
}
