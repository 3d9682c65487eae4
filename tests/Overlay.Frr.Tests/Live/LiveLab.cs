using Overlay.Lab;

namespace Overlay.Frr.Tests.Live;

/// <summary>Live tests share the two cores with each other: one at a time keeps their timings meaningful.</summary>
[CollectionDefinition(Name)]
public sealed class LiveLabCollection
{
    public const string Name = "live-lab";
}

internal static class LiveLab
{
    public static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    /// <summary>Skips with every missing piece spelled out (not root, FRR or its gRPC module, wireguard-go).</summary>
    public static void SkipUnlessUsable(bool frr = true, bool wireGuard = true)
    {
        string? why = LabPreflight.MissingRequirements(frr, wireGuard);
        Skip.If(why is not null, "live lab test skipped: " + why);
    }

    public static LineLogger Logger(ITestOutputHelper output) => new(output.WriteLine);
}
