using Overlay.Core.Yaml;

namespace Overlay.Core.Tests.Yaml;

/// <summary>The accessor both YAML readers share, seen through a dialect that only records what it is told.</summary>
public class YamlAccessTests
{
    private sealed class Recording : YamlAccess
    {
        public List<string> Said { get; } = [];

        public override void WrongType(YNode node, string name, YShape expected, string? key, string? fix) =>
            Said.Add($"{node.At.Line}:{node.At.Column} {name} not {expected}");

        public override void KeyNotScalar(YMap map, YNode key) => Said.Add($"{key.At.Line}:{key.At.Column} key not scalar");

        public override void DuplicateKey(YMap map, YNode key, YNode first) =>
            Said.Add($"{key.At.Line}:{key.At.Column} {map.PathOf(key.Value)} twice, first on {first.At.Line}");

        public override void UnknownKey(YMap map, YNode key, string? nearest) =>
            Said.Add($"{key.At.Line}:{key.At.Column} {map.PathOf(key.Value)} unknown, near {nearest ?? "-"}");

        public override void MissingKey(YMap map, string key, string context) => Said.Add($"{map.PathOf(key)} missing ({context})");
    }

    private static YNode Root(string text)
    {
        var document = YamlTree.Load(text, "t.yaml");
        Assert.Null(document.Error);
        return document.Root!;
    }

    [Fact]
    public void Keys_asked_for_are_known_the_rest_are_reported_with_the_nearest_known_key()
    {
        var access = new Recording();
        var map = access.MapOf(Root("listen: a\nlisen: b\nzzz: c\n"), "metrics")!;
        Assert.Equal("a", map.Scalar("listen"));
        map.ReportUnknown();
        Assert.Equal(["2:1 metrics.lisen unknown, near listen", "3:1 metrics.zzz unknown, near -"], access.Said);
        Assert.True(map.IsMisspelt("listen"));
        Assert.Null(map.Get("zzz")); // once reported, an unknown key reads as absent
    }

    [Fact]
    public void A_duplicate_key_is_reported_at_the_second_and_the_first_counts()
    {
        var access = new Recording();
        var map = access.MapOf(Root("a: 1\nb: 2\na: 3\n"), "")!;
        Assert.Equal("1", map.Scalar("a"));
        Assert.Equal(["3:1 a twice, first on 1"], access.Said);
    }

    [Fact]
    public void Shapes_are_checked_and_nulls_read_as_absent()
    {
        var access = new Recording();
        var map = access.MapOf(Root("m: [1]\nl: x\ns: {k: v}\nn: ~\n"), "")!;
        Assert.Null(map.Map("m"));
        Assert.Null(map.List("l"));
        Assert.Null(map.Scalar("s"));
        Assert.Null(map.Get("n"));
        Assert.Null(map.Required("n", "who"));
        Assert.Equal(["1:4 m not Mapping", "2:4 l not List", "3:4 s not Scalar", "n missing (who)"], access.Said);
    }

    [Fact]
    public void A_misspelt_required_key_is_one_error_not_also_a_missing_one()
    {
        var access = new Recording();
        var map = access.MapOf(Root("nmae: x\n"), "vip")!.Allow("name", "prefix");
        map.ReportUnknown();
        Assert.Null(map.Required("name", "a VIP"));
        Assert.Null(map.Required("prefix", "a VIP"));
        Assert.Equal(["1:1 vip.nmae unknown, near name", "vip.prefix missing (a VIP)"], access.Said);
    }

    [Fact]
    public void List_items_are_read_with_their_paths_and_null_items_are_the_wrong_shape()
    {
        var access = new Recording();
        var map = access.MapOf(Root("vips:\n  - {name: a}\n  -\n"), "")!;
        var names = map.ListOf("vips", (item, path) => access.MapOf(item, path)?.Scalar("name"));
        Assert.Equal(["a"], names);
        Assert.Equal(["3:4 vips[1] not Mapping"], access.Said);
    }
}
