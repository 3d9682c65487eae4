using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;

namespace Overlay.Linux.Tests.WireGuard;

public class WireGuardModelTests
{
    private static WireGuardPeer Peer(DateTimeOffset? handshake) =>
        new(default, null, null, [], TimeSpan.Zero, handshake, 0, 0, 1);

    [Fact]
    public void Age_is_time_since_last_handshake()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var clock = new FakeTimeProvider(at.AddSeconds(42.5));
        Assert.Equal(TimeSpan.FromSeconds(42.5), Peer(at).Age(clock));
        Assert.Null(Peer(null).Age(clock));
    }

    [Fact]
    public void Preshared_key_redacts_and_none_is_zero()
    {
        var psk = WireGuardPresharedKey.Generate();
        Assert.Equal("(redacted)", psk.ToString());
        Assert.Equal("(redacted)", $"{psk}");
        Assert.True(WireGuardPresharedKey.None.IsNone);
        Assert.False(psk.IsNone);
        Assert.Equal(psk, WireGuardPresharedKey.FromHex(psk.RevealHex()));
        Assert.False(WireGuardPresharedKey.TryParse("not-a-key", out _, out var error));
        Assert.DoesNotContain("not-a-key", error);
    }

    // RFC 7748 section 6.1 (Alice).
    [Fact]
    public void Curve25519_matches_the_rfc_vector()
    {
        var priv = WireGuardPrivateKey.FromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Curve25519.PublicKey(priv).ToHex());
    }

    [SkippableFact]
    public void Curve25519_matches_wg_pubkey()
    {
        var why = WireGuardLab.WhyNotRunnable();
        Skip.If(why is not null, why);
        for (int i = 0; i < 5; i++)
        {
            var priv = WireGuardPrivateKey.Generate();
            string expected = WireGuardLab.RunWithInput("wg", priv.RevealBase64() + "\n", "pubkey").Trim();
            Assert.Equal(expected, WireGuardKeys.PublicKeyOf(priv).ToBase64());
        }
    }

    [Theory]
    [InlineData("wg0", true)]
    [InlineData("abcdefghijklmno", true)]
    [InlineData("abcdefghijklmnop", false)]
    [InlineData("../etc", false)]
    [InlineData("a b", false)]
    [InlineData("", false)]
    public void Interface_names_are_checked_before_touching_the_filesystem(string name, bool valid)
    {
        if (valid) WireGuardNames.Validate(name);
        else Assert.ThrowsAny<ArgumentException>(() => WireGuardNames.Validate(name));
    }
}
