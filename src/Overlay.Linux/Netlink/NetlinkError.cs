using System.Runtime.InteropServices;

namespace Overlay.Linux.Netlink;

/// <summary>
/// The payload of an <c>NLMSG_ERROR</c> message: 0 for an ACK, otherwise a negative errno, followed by
/// the header of the request it answers (plus the request's payload unless <see cref="NetlinkMessageFlags.Capped"/>),
/// followed by extended-ack attributes when <see cref="NetlinkMessageFlags.AckTlvs"/> is set.
/// </summary>
public readonly record struct NetlinkError(int Errno, NetlinkMessageHeader Request, string? Message, uint? Offset)
{
    public bool IsAck => Errno == 0;

    private const ushort AttributeMessage = 1; // NLMSGERR_ATTR_MSG
    private const ushort AttributeOffset = 2;  // NLMSGERR_ATTR_OFFS

    public static NetlinkError Parse(in NetlinkMessage message)
    {
        var payload = message.Payload;
        if (message.Type != NetlinkMessageType.Error)
            throw new ArgumentException($"message type {message.Type} is not NLMSG_ERROR", nameof(message));
        if (payload.Length < 4 + NetlinkMessageHeader.Size)
            throw new NetlinkFormatException($"NLMSG_ERROR has {payload.Length} payload bytes; needs {4 + NetlinkMessageHeader.Size}");
        int error = MemoryMarshal.Read<int>(payload);
        var request = MemoryMarshal.Read<NetlinkMessageHeader>(payload[4..]);
        string? text = null;
        uint? offset = null;
        if ((message.Flags & NetlinkMessageFlags.AckTlvs) != 0)
        {
            bool capped = (message.Flags & NetlinkMessageFlags.Capped) != 0;
            if (!capped && request.Length < NetlinkMessageHeader.Size)
                throw new NetlinkFormatException($"NLMSG_ERROR echoes a request of {request.Length} bytes; a request has at least {NetlinkMessageHeader.Size}");
            // In long: an echoed length near 4 GiB must not wrap to a negative offset (found by tests/Overlay.Fuzz.Tests).
            long tlvStart = 4 + (capped ? NetlinkMessageHeader.Size : (request.Length + 3L) & ~3L);
            if (tlvStart <= payload.Length)
            {
                foreach (var a in new NetlinkAttributeReader(payload[(int)tlvStart..]))
                {
                    if (a.Type == AttributeMessage) text = a.GetString();
                    else if (a.Type == AttributeOffset) offset = a.GetUInt32();
                }
            }
        }
        return new NetlinkError(-error, request, text, offset);
    }
}
