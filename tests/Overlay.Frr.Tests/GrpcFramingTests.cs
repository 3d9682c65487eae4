using System.Buffers.Binary;
using Google.Protobuf;
using Overlay.Frr.Grpc;
using Overlay.Frr.Northbound.Protocol;

namespace Overlay.Frr.Tests;

public sealed class GrpcFramingTests
{
    /// <summary>Hands out at most <c>chunk</c> bytes per read, like HTTP/2 DATA frames of any size.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(chunk, buffer.Length)]);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }

    private static GetResponse Response(int jsonLength) =>
        new() { Timestamp = 1795307042, Data = new DataTree { Encoding = Encoding.Json, Data = new string('x', jsonLength) } };

    [Fact]
    public void Frame_prefixes_flag_and_big_endian_length()
    {
        var message = new CreateCandidateResponse { CandidateId = 300 };
        var frame = GrpcFraming.Frame(message);
        Assert.Equal(0, frame[0]);
        Assert.Equal((uint)message.CalculateSize(), BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1)));
        Assert.Equal(message.ToByteArray(), frame[5..]);
    }

    [Fact]
    public void Empty_message_is_a_bare_header()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0 }, GrpcFraming.Frame(new GetCapabilitiesRequest()));
    }

    [Theory]
    [InlineData(1, 10)]          // every byte its own read: header and payload split everywhere
    [InlineData(3, 100)]
    [InlineData(7, 20_000)]      // > 16 KiB: larger than one default HTTP/2 frame
    [InlineData(16_384, 70_000)]
    [InlineData(1 << 20, 300_000)]
    public async Task Reassembles_several_messages_from_any_chunking(int chunk, int jsonLength)
    {
        var messages = new[] { Response(jsonLength), Response(0), Response(jsonLength / 2) };
        var stream = new ChunkedStream(messages.SelectMany(GrpcFraming.Frame).ToArray(), chunk);

        var read = new List<GetResponse>();
        while (await GrpcFraming.ReadMessageAsync(stream, int.MaxValue, default) is { } payload)
            read.Add(GetResponse.Parser.ParseFrom(payload));

        Assert.Equal(messages, read);
    }

    [Fact]
    public async Task Message_above_the_limit_is_resource_exhausted_before_reading_it()
    {
        var frame = GrpcFraming.Frame(Response(5000));
        var error = await Assert.ThrowsAsync<GrpcFramingException>(
            async () => await GrpcFraming.ReadMessageAsync(new MemoryStream(frame[..5]), 4096, default));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("4096", error.Message);
    }

    [Fact]
    public async Task Message_exactly_at_the_limit_is_accepted()
    {
        var frame = GrpcFraming.Frame(Response(5000));
        var size = frame.Length - GrpcFraming.HeaderSize;
        Assert.NotNull(await GrpcFraming.ReadMessageAsync(new MemoryStream(frame), size, default));
    }

    public static TheoryData<byte[], string> Broken => new()
    {
        { [0, 0, 0], "inside a message header" },
        { [0, 0, 0, 0, 10, 1, 2, 3], "inside a message (3 of 10 bytes)" },
        { [1, 0, 0, 0, 1, 42], "compressed" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Truncated_or_compressed_frames_are_internal_errors(byte[] data, string expected)
    {
        var error = await Assert.ThrowsAsync<GrpcFramingException>(
            async () => await GrpcFraming.ReadMessageAsync(new ChunkedStream(data, 2), 1000, default));
        Assert.Equal(GrpcStatusCode.Internal, error.StatusCode);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task End_of_stream_between_messages_is_null()
    {
        Assert.Null(await GrpcFraming.ReadMessageAsync(new MemoryStream([]), 1000, default));
    }
}
