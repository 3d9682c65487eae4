using Overlay.Core.Model;
using Overlay.Linux.Netlink;

namespace Overlay.Linux.Rtnetlink;

/// <summary>Encodes and decodes link messages (RTM_NEWLINK/GETLINK). Pure code.</summary>
internal static class LinkCodec
{
    public static void WriteDump(NetlinkWriter w, uint sequence)
    {
        int m = w.BeginMessage(RtmType.GetLink, NetlinkMessageFlags.Request | NetlinkMessageFlags.Dump, sequence);
        w.Write(new InterfaceInfoMessage());
        w.WriteUInt32(LinkAttr.ExtMask, LinkAttr.RTEXT_FILTER_SKIP_STATS);
        w.EndMessage(m);
    }

    public static void WriteGet(NetlinkWriter w, int index, string? name, uint sequence)
    {
        int m = w.BeginMessage(RtmType.GetLink, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, sequence);
        w.Write(new InterfaceInfoMessage { Index = index });
        if (name is not null) w.WriteString(LinkAttr.IfName, name);
        w.WriteUInt32(LinkAttr.ExtMask, LinkAttr.RTEXT_FILTER_SKIP_STATS);
        w.EndMessage(m);
    }

    public static void WriteSetUp(NetlinkWriter w, int index, bool up, uint sequence)
    {
        int m = w.BeginMessage(RtmType.NewLink, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, sequence);
        w.Write(new InterfaceInfoMessage { Index = index, Flags = up ? LinkInfo.IFF_UP : 0, Change = LinkInfo.IFF_UP });
        w.EndMessage(m);
    }

    public static LinkInfo Read(in NetlinkMessage message)
    {
        var ifi = message.ReadFamilyHeader<InterfaceInfoMessage>();
        string name = "";
        uint mtu = 0;
        var oper = LinkOperState.Unknown;
        string? kind = null;
        foreach (var a in message.Attributes(InterfaceInfoMessage.Size))
        {
            switch (a.Type)
            {
                case LinkAttr.IfName: name = a.GetString(); break;
                case LinkAttr.Mtu: mtu = a.GetUInt32(); break;
                case LinkAttr.OperState: oper = (LinkOperState)a.GetUInt8(); break;
                case LinkAttr.LinkInfo:
                    foreach (var info in a.GetNested())
                        if (info.Type == LinkAttr.InfoKind) kind = info.GetString();
                    break;
            }
        }
        return new LinkInfo(ifi.Index, name, ifi.Flags, oper, mtu, kind);
    }
}
