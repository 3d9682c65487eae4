using System.Buffers.Binary;
using Google.Protobuf;

namespace Overlay.Frr.Grpc;

/// <summary>
/// gRPC message framing: each message is 1 byte "compressed" flag + 4 bytes big-endian length + payload.
/// HTTP/2 DATA frames may split or join messages arbitrarily; the reader reassembles them.
/// </summary>
internal static class GrpcFraming
{
    public const int HeaderSize = 5;

    public static byte[] Frame(IMessage message)
    {
        var size = message.CalculateSize();
        var buffer = new byte[HeaderSize + size];
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1, 4), (uint)size);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>
    /// Reads one message payload. Returns null on a clean end of stream (between messages);
    /// throws <see cref="GrpcFramingException"/> on a truncated frame, a compressed frame
    /// (no compression is negotiated) or a message above <paramref name="maxMessageSize"/>.
    /// </summary>
    public static async ValueTask<byte[]?> ReadMessageAsync(Stream stream, int maxMessageSize, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        var read = await stream.ReadAtLeastAsync(header, HeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
            return null;
        if (read < HeaderSize)
            throw new GrpcFramingException(GrpcStatusCode.Internal, $"stream ended inside a message header ({read} of {HeaderSize} bytes)");

        if (header[0] != 0)
            throw new GrpcFramingException(GrpcStatusCode.Internal, $"received a compressed message (flag {header[0]}) although no compression was negotiated");

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > (uint)maxMessageSize)
            throw new GrpcFramingException(GrpcStatusCode.ResourceExhausted, $"received message of {length} bytes exceeds the limit of {maxMessageSize} bytes");

        var payload = new byte[length];
        read = await stream.ReadAtLeastAsync(payload, payload.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < payload.Length)
            throw new GrpcFramingException(GrpcStatusCode.Internal, $"stream ended inside a message ({read} of {length} bytes)");
        return payload;
    }
}

/// <summary>A framing violation; the transport turns it into <see cref="FrrNorthboundException"/>.</summary>
internal sealed class GrpcFramingException(GrpcStatusCode statusCode, string message) : Exception(message)
{
    public GrpcStatusCode StatusCode { get; } = statusCode;
}
