using System.Net;
using Overlay.Core.Net;

namespace Overlay.Core.Tests.Net;

public class IpPrefixTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("10.1.2.3/8", "10.0.0.0/8")]
    [InlineData("203.0.113.10", "203.0.113.10/32")]
    [InlineData("2001:db8::1/32", "2001:db8::/32")]
    [InlineData("::/0", "::/0")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    public void Parses_to_canonical_form(string text, string expected) =>
        Assert.Equal(expected, IpPrefix.Parse(text).ToString());

    [Theory]
    [InlineData("10.0.0.0/33", "invalid prefix length")]
    [InlineData("10.0.0/8", "is not an IP prefix")]
    [InlineData("10.0.0.0/", "invalid prefix length")]
    [InlineData("bogus", "is not an IP prefix")]
    [InlineData("", "empty prefix")]
    [InlineData("2001:db8::/129", "invalid prefix length")]
    public void Rejects_bad_text(string text, string message)
    {
        Assert.False(IpPrefix.TryParse(text, strict: false, out _, out var error));
        Assert.Contains(message, error);
    }

    [Fact]
    public void Strict_parse_names_both_fixes_for_host_bits()
    {
        Assert.False(IpPrefix.TryParse("10.0.0.1/8", strict: true, out _, out var error));
        Assert.Contains("10.0.0.0/8", error);
        Assert.Contains("10.0.0.1/32", error);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.20.0.0/16", true)]
    [InlineData("10.20.0.0/16", "10.0.0.0/8", true)]
    [InlineData("10.0.0.0/16", "10.1.0.0/16", false)]
    [InlineData("0.0.0.0/0", "::/0", false)]
    [InlineData("::/0", "2001:db8::/32", true)]
    public void Overlap_is_symmetric_containment(string a, string b, bool overlap) =>
        Assert.Equal(overlap, IpPrefix.Parse(a).Overlaps(IpPrefix.Parse(b)));

    [Fact]
    public void Contains_address_respects_family()
    {
        var p = IpPrefix.Parse("10.0.0.0/8");
        Assert.True(p.Contains(IPAddress.Parse("10.20.5.5")));
        Assert.False(p.Contains(IPAddress.Parse("11.0.0.1")));
        Assert.False(IpPrefix.Parse("::/0").Contains(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void Order_is_v4_first_then_address_then_length()
    {
        var sorted = new[] { "2001:db8::/32", "10.0.0.0/16", "10.0.0.0/8", "9.0.0.0/8" }
            .Select(IpPrefix.Parse).Order().Select(p => p.ToString());
        Assert.Equal(new[] { "9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "2001:db8::/32" }, sorted);
    }
}

public class WireGuardKeyTests
{
    [Fact]
    public void Private_key_never_prints_itself()
    {
        var key = WireGuardPrivateKey.Generate();
        Assert.Equal("(redacted)", key.ToString());
        Assert.DoesNotContain(key.RevealBase64(), $"key={key}");
    }

    [Fact]
    public void Parse_error_does_not_echo_the_input()
    {
        const string almost = "YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk"; // one char short
        Assert.False(WireGuardPrivateKey.TryParse(almost, out _, out var error));
        Assert.DoesNotContain(almost, error);
    }

    [Fact]
    public void Round_trips_base64_and_hex()
    {
        var k = WireGuardKey.Parse("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=");
        Assert.Equal("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=", WireGuardKey.FromHex(k.ToHex()).ToBase64());
    }
}

public class DurationTextTests
{
    [Theory]
    [InlineData("150ms", 150)]
    [InlineData("3s", 3000)]
    [InlineData("2m", 120000)]
    [InlineData("1h", 3600000)]
    public void Parses(string text, long ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), DurationText.Parse(text));

    [Theory]
    [InlineData("25", "has no unit")]
    [InlineData("3d", "unknown unit")]
    [InlineData("s", "is not a duration")]
    [InlineData("-1s", "is not a duration")]
    public void Rejects(string text, string message)
    {
        Assert.False(DurationText.TryParse(text, out _, out var error));
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData(1500, "1500ms")]
    [InlineData(3000, "3s")]
    [InlineData(120000, "2m")]
    [InlineData(0, "0s")]
    public void Formats_shortest_exact(long ms, string text) => Assert.Equal(text, DurationText.Format(TimeSpan.FromMilliseconds(ms)));
}
