using System.Text;
using System.Text.Json;
using Overlay.Core.Api;
using Overlay.Core.Tests.Render;

namespace Overlay.Core.Tests.Api;

/// <summary>
/// The control API's bytes: every contract type serialized through the context must equal the golden file, which was
/// first written by the reflection-based serializer overlayd used before the contract (so the wire did not change).
/// </summary>
public sealed class ControlApiWireTests
{
    private static string GoldenPath => Path.Combine(RepoPaths.Root, "tests", "Overlay.Core.Tests", "Api", "control-api-wire.golden.txt");

    internal static string Serialize(object value) => JsonSerializer.Serialize(value, value.GetType(), ApiJson.Options);

    [Fact]
    public void Every_contract_type_serializes_to_the_pinned_bytes()
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in ContractSamples.All()) sb.Append("# ").Append(name).Append('\n').Append(Serialize(value)).Append('\n');
        string actual = sb.ToString();
        if (RepoPaths.UpdateGolden) File.WriteAllText(GoldenPath, actual);
        Assert.Equal(File.ReadAllText(GoldenPath), actual);
    }
}
