using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

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

    // RFC 7748 section 6.1: Alice's and Bob's key pairs (the private keys unclamped, as the RFC gives them).
    [Theory]
    [InlineData("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")]
    [InlineData("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")]
    public void PublicKeyOf_matches_the_rfc_7748_vectors(string privateHex, string publicHex) =>
        Assert.Equal(publicHex, WireGuardKeys.PublicKeyOf(WireGuardPrivateKey.FromHex(privateHex)).ToHex());

    [SkippableFact]
    public void PublicKeyOf_matches_wg_pubkey()
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
