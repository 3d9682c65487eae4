using System.Net;
using Overlay.Frr.Grpc;

namespace Overlay.Frr.Tests;

public sealed class GrpcProtocolTests
{
    public static TheoryData<TimeSpan, string> Timeouts => new()
    {
        { TimeSpan.Zero, "1n" },
        { TimeSpan.FromTicks(1), "100n" },
        { TimeSpan.FromMilliseconds(50), "50000000n" },
        { TimeSpan.FromMilliseconds(100), "100000u" },
        { TimeSpan.FromSeconds(10), "10000000u" },
        { TimeSpan.FromSeconds(100), "100000m" },
        { TimeSpan.FromSeconds(100) + TimeSpan.FromTicks(1), "100001m" }, // rounded up, never shorter
        { TimeSpan.FromDays(2), "172800S" },
        { TimeSpan.FromDays(5000), "7200000M" },
    };

    [Theory]
    [MemberData(nameof(Timeouts))]
    public void Timeout_header_uses_at_most_eight_digits_rounded_up(TimeSpan timeout, string expected)
    {
        var encoded = GrpcProtocol.EncodeTimeout(timeout);
        Assert.Equal(expected, encoded);
        Assert.InRange(encoded.Length - 1, 1, 8);
    }

    [Theory]
    [InlineData("0", GrpcStatusCode.OK)]
    [InlineData("3", GrpcStatusCode.InvalidArgument)]
    [InlineData("9", GrpcStatusCode.FailedPrecondition)]
    [InlineData("10", GrpcStatusCode.Aborted)]
    [InlineData("14", GrpcStatusCode.Unavailable)]
    [InlineData("16", GrpcStatusCode.Unauthenticated)]
    [InlineData("17", GrpcStatusCode.Unknown)]
    [InlineData("-1", GrpcStatusCode.Unknown)]
    [InlineData("abc", GrpcStatusCode.Unknown)]
    [InlineData("", GrpcStatusCode.Unknown)]
    [InlineData(null, GrpcStatusCode.Unknown)]
    public void Status_trailer_parses_to_the_enum(string? value, GrpcStatusCode expected)
    {
        Assert.Equal(expected, GrpcProtocol.ParseStatus(value));
    }

    [Theory]
    [InlineData("No changes to apply were found during preparation phase", "No changes to apply were found during preparation phase")]
    [InlineData("Failed to remove %22/frr-bfdd:bfdd%22", "Failed to remove \"/frr-bfdd:bfdd\"")]
    [InlineData("caf%C3%A9 100%25", "café 100%")]
    [InlineData("bad %zz escape %4", "bad %zz escape %4")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Message_trailer_is_percent_decoded_leniently(string? value, string expected)
    {
        Assert.Equal(expected, GrpcProtocol.DecodeMessage(value));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, GrpcStatusCode.Internal)]
    [InlineData(HttpStatusCode.Unauthorized, GrpcStatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.Forbidden, GrpcStatusCode.PermissionDenied)]
    [InlineData(HttpStatusCode.NotFound, GrpcStatusCode.Unimplemented)]
    [InlineData(HttpStatusCode.TooManyRequests, GrpcStatusCode.Unavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, GrpcStatusCode.Unavailable)]
    [InlineData(HttpStatusCode.InternalServerError, GrpcStatusCode.Unknown)]
    public void Http_status_without_grpc_status_maps_per_the_grpc_spec(HttpStatusCode http, GrpcStatusCode expected)
    {
        Assert.Equal(expected, GrpcProtocol.FromHttpStatus(http));
    }
}
