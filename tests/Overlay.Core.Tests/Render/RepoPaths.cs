namespace Overlay.Core.Tests.Render;

internal static class RepoPaths
{
    /// <summary>The repository root (the folder holding Overlay.sln), found from the test binary's location.</summary>
    public static string Root { get; } = FindRoot();

    public static string Examples => Path.Combine(Root, "examples");
    public static string Golden => Path.Combine(Root, "tests", "Overlay.Core.Tests", "Render", "Golden");
    public static string BadInputs => Path.Combine(Root, "tests", "Overlay.Core.Tests", "Inventory", "BadInputs");

    /// <summary>OVERLAY_UPDATE_GOLDEN=1 rewrites golden files instead of comparing.</summary>
    public static bool UpdateGolden => Environment.GetEnvironmentVariable("OVERLAY_UPDATE_GOLDEN") == "1";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln above " + AppContext.BaseDirectory);
    }
}
