namespace Overlay.Linux.Netlink;

/// <summary>A generic netlink family as the controller describes it.</summary>
public sealed record GenericNetlinkFamily(string Name, ushort Id, uint Version, IReadOnlyDictionary<string, uint> MulticastGroups);

/// <summary>Generic netlink helpers on top of <see cref="NetlinkSocket"/>.</summary>
public static class GenericNetlink
{
    private const ushort McastGroupName = 1; // CTRL_ATTR_MCAST_GRP_NAME
    private const ushort McastGroupId = 2;   // CTRL_ATTR_MCAST_GRP_ID

    /// <summary>
    /// Resolves a family name (e.g. "wireguard") to its message type id with CTRL_CMD_GETFAMILY.
    /// Throws <see cref="Interop.LinuxException"/> with ENOENT when the kernel has no such family.
    /// </summary>
    public static GenericNetlinkFamily ResolveFamily(NetlinkSocket socket, string name)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (socket.Protocol != NetlinkProtocol.Generic)
            throw new ArgumentException($"family lookup needs a generic netlink socket, not {socket.Protocol}", nameof(socket));
        var w = new NetlinkWriter(128);
        int m = w.BeginMessage(GenericNetlinkController.FamilyId, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack, socket.NextSequence());
        w.Write(new GenericNetlinkHeader(GenericNetlinkController.CommandGetFamily, GenericNetlinkController.Version));
        w.WriteString(GenericNetlinkController.AttributeFamilyName, name);
        w.EndMessage(m);

        GenericNetlinkFamily? family = null;
        socket.Execute(w, "CTRL_CMD_GETFAMILY", $"generic netlink family '{name}' in netns '{socket.NamespaceName}'", (in NetlinkMessage reply) =>
        {
            if (reply.Type == GenericNetlinkController.FamilyId) family = ReadFamily(reply);
        });
        return family ?? throw new Interop.LinuxException("CTRL_CMD_GETFAMILY", $"generic netlink family '{name}'", (int)Interop.Errno.ENOENT, "no family in the reply");
    }

    /// <summary>Decodes a CTRL_CMD_NEWFAMILY message (pure; used by <see cref="ResolveFamily"/>).</summary>
    public static GenericNetlinkFamily ReadFamily(in NetlinkMessage message)
    {
        string name = "";
        ushort id = 0;
        uint version = 0;
        var groups = new Dictionary<string, uint>();
        foreach (var a in message.Attributes(GenericNetlinkHeader.Size))
        {
            switch (a.Type)
            {
                case GenericNetlinkController.AttributeFamilyId: id = a.GetUInt16(); break;
                case GenericNetlinkController.AttributeFamilyName: name = a.GetString(); break;
                case GenericNetlinkController.AttributeVersion: version = a.GetUInt32(); break;
                case GenericNetlinkController.AttributeMulticastGroups:
                    foreach (var group in a.GetNested())
                    {
                        string? groupName = null;
                        uint groupId = 0;
                        foreach (var g in group.GetNested())
                        {
                            if (g.Type == McastGroupName) groupName = g.GetString();
                            else if (g.Type == McastGroupId) groupId = g.GetUInt32();
                        }
                        if (groupName is not null) groups[groupName] = groupId;
                    }
                    break;
            }
        }
        return new GenericNetlinkFamily(name, id, version, groups);
    }
}
