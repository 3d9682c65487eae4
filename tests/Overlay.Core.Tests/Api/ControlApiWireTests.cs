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

    internal static string Serialize(object value) => JsonSerializer.Serialize(value, value.GetType(), ControlApiJson.Default);

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

/// <summary>What overlayd writes, overlayctl reads back whole: every contract type survives the generated context both ways.</summary>
public sealed class ControlApiRoundTripTests
{
    public static TheoryData<string> Samples() => [.. ContractSamples.All().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Serialize_deserialize_serialize_gives_the_same_bytes(string name)
    {
        var value = ContractSamples.All().Single(s => s.Name == name).Value;
        string once = ControlApiWireTests.Serialize(value);
        object? back = JsonSerializer.Deserialize(once, value.GetType(), ControlApiJson.Default);
        Assert.NotNull(back);
        Assert.Equal(once, ControlApiWireTests.Serialize(back));
    }

    [Fact]
    public void Bgp_sessions_from_an_overlayd_before_the_added_fields_read_the_same()
    {
        // routing.bgpSessions as overlayd wrote it when an entry had neighbor, state and established only.
        const string old = """{"peers":[],"bfd":[],"routing":{"ospfNeighbors":[],"bgpSessions":[{"neighbor":"192.0.2.254","state":"Established","established":true},{"neighbor":"2001:db8::fe","state":"Active","established":false}]}}""";

        var peers = JsonSerializer.Deserialize(old, ControlApiJson.Default.PeersResponse)!;

        Assert.Equal([("192.0.2.254", "Established", true), ("2001:db8::fe", "Active", false)],
            peers.Routing.BgpSessions.Select(b => (b.Neighbor, b.State, b.Established)));
        Assert.Equal([System.Net.IPAddress.Parse("192.0.2.254"), System.Net.IPAddress.Parse("2001:db8::fe")], peers.Routing.BgpSessions.Select(b => b.Address));
        Assert.All(peers.Routing.BgpSessions, b => Assert.Null(b.Interface));
    }

    [Fact]
    public void Every_type_the_context_lists_has_a_sample()
    {
        var listed = typeof(ControlApiJson).GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(System.Text.Json.Serialization.JsonSerializableAttribute))
            .Select(a => (Type)a.ConstructorArguments[0].Value!).ToList();
        var sampled = ContractSamples.All().Select(s => s.Value.GetType()).ToHashSet();
        Assert.NotEmpty(listed);
        Assert.All(listed, t => Assert.True(sampled.Contains(t), $"{t.Name} is in the contract but has no sample in ContractSamples"));
    }
}
