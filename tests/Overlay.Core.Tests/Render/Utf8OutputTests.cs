using System.Net;
using System.Text;
using Overlay.Core.Net;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Render;

public class Utf8OutputTests
{
    [Theory]
    [MemberData(nameof(GoldenTests.Examples), MemberType = typeof(GoldenTests))]
    public void Rendered_bytes_are_the_golden_files_bytes(string example)
    {
        string golden = Path.Combine(RepoPaths.Golden, example);
        foreach (var f in GoldenTests.RenderExample(example))
            Assert.True(File.ReadAllBytes(Path.Combine(golden, f.RelativePath)).AsSpan().SequenceEqual(f.Utf8.Span), $"{example}: {f.RelativePath} differs from its golden file");
    }

    [Fact]
    public void Lines_encode_like_string_interpolation_including_non_ascii_text()
    {
        var prefix = IpPrefix.Parse("2001:db8::/64");
        var address = IPAddress.Parse("192.0.2.7");
        long? none = null;
        using var o = new Utf8Out(4); // starts too small: every append has to grow it
        o.Line($"site: {"Zürich – 東京"} id {42} asn {none} at {address}/31 link {prefix} key {"AbC="u8}");
        o.Line("plain ✓");
        o.Line();

        string expected = $"site: Zürich – 東京 id 42 asn  at {address}/31 link {prefix} key AbC=\nplain ✓\n\n";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), o.ToArray());
    }

    [Fact]
    public void Files_are_equal_by_path_and_bytes()
    {
        byte[] text = "a\n"u8.ToArray();
        var a = new RenderedFile("n/x.conf", text);
        Assert.Equal(a, new RenderedFile("n/x.conf", new ReadOnlyMemory<byte>([0, .. text], 1, 2)));
        Assert.NotEqual(a, new RenderedFile("n/y.conf", text));
        Assert.NotEqual(a, new RenderedFile("n/x.conf", "b\n"u8.ToArray()));
        Assert.Equal("a\n", a.Content);
    }
}
