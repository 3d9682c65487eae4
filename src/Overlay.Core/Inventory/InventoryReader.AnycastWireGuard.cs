using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Config;
using Overlay.Core.Net;
using Overlay.Core.Yaml;
using static Overlay.Core.Diagnostics.NearMiss;

namespace Overlay.Core.Inventories;

// vips[].wireguard (the members' shared-key WireGuard endpoint on the VIP, with per-member health peers),
// anycastEndpoint.address (a client's address on it) and defaults.bgp (docs/inventory.md, docs/anycast.md).
internal sealed partial class InventoryReader
{
    private static readonly string[] VipWireGuardKeys = ["port", "publicKey", "keyFile", "address", "health"];
    private static readonly string[] HealthPeerKeys = ["member", "name", "publicKey", "endpoint", "address", "peerAddress", "keepalive"];
    private static readonly string[] BgpKeys = ["keepalive", "hold", "connectRetry", "advertisementInterval"];

    /// <summary>defaults.bgp: whole seconds within FRR's ranges, hold longer than keepalive.</summary>
    private BgpTimers ReadBgpTimers(YMap? defaults)
    {
        var d = BgpTimers.Standard;
        var m = Map(Get(defaults, "bgp"), "defaults.bgp", BgpKeys);
        if (m is null) return d;
        TimeSpan Seconds(string field, TimeSpan fallback, TimeSpan min, TimeSpan max, string hint)
        {
            var node = Get(m, field);
            var v = Duration(node, "bgp." + field);
            if (node is null || v is null) return fallback;
            if (v.Value.Ticks % TimeSpan.TicksPerSecond != 0 || v.Value < min || v.Value > max)
            {
                Error(InventoryCodes.TimerInvalid, node.At, $"bgp.{field} {DurationText.Format(v.Value)} must be whole seconds between {DurationText.Format(min)} and {DurationText.Format(max)}", hint);
                return fallback;
            }
            return v.Value;
        }
        var keepalive = Seconds("keepalive", d.Keepalive, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(21845), "FRR counts BGP timers in seconds, e.g. keepalive: 3s");
        var hold = Seconds("hold", d.Hold, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(65535), "the hold time is usually 3 keepalives, e.g. hold: 9s");
        var connect = Seconds("connectRetry", d.ConnectRetry, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(65535), "how soon a lost session is retried, e.g. connectRetry: 10s");
        var mrai = Seconds("advertisementInterval", d.AdvertisementInterval, TimeSpan.Zero, TimeSpan.FromSeconds(600), "0s sends every change at once (a withdrawn VIP leaves without waiting)");
        if (hold <= keepalive && Get(m, "hold") is { } hn)
        {
            Error(InventoryCodes.TimerInvalid, hn.At, $"bgp.hold {DurationText.Format(hold)} must be longer than bgp.keepalive {DurationText.Format(keepalive)}", "use three keepalives, e.g. keepalive: 3s, hold: 9s");
            return d;
        }
        return new BgpTimers(keepalive, hold, connect, mrai);
    }

    /// <summary>An interface address "A.B.C.D/LEN" (IPv4): a unicast host of its prefix, never its network or broadcast address.</summary>
    private TunnelAddress? ReadTunnelAddress(YNode? node, string field, int minLength)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        string hint = "write address/length, e.g. 10.99.0.1/24";
        int slash = s.IndexOf('/');
        if (slash < 0 || s.IndexOf('/', slash + 1) >= 0)
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{ValueGrammar.Printable(s)}' is not an interface address with a prefix length", hint);
            return null;
        }
        string lenText = s[(slash + 1)..];
        if (!IpAddressText.TryParse(s.Substring(0, slash), out var a, out _) || a.AddressFamily != AddressFamily.InterNetwork
            || lenText.Length is 0 or > 2 || !lenText.All(char.IsAsciiDigit) || (lenText.Length == 2 && lenText[0] == '0'))
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{ValueGrammar.Printable(s)}' is not an IPv4 interface address with a prefix length", hint);
            return null;
        }
        int len = int.Parse(lenText, NumberStyles.None, CultureInfo.InvariantCulture);
        if (len < minLength || len > 31)
        {
            Error(InventoryCodes.OutOfRange, node!.At, $"{field} {s}: prefix length {len} is out of range {minLength}..31", "the link needs room for both ends, e.g. /24 or /31");
            return null;
        }
        if (IpAddressText.SpecialKind(a) is { } special)
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} {s} is a {special} address", "use private unicast space, e.g. 10.99.0.1/24");
            return null;
        }
        var network = IpPrefix.Create(a, len);
        if (len <= 30 && (a.Equals(network.Address) || a.Equals(IpPrefix.ToAddress(network.Bits + ((UInt128.One << (32 - len)) - 1), false))))
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} {s} is the network or broadcast address of {network}", "pick a host address inside the prefix");
            return null;
        }
        return new TunnelAddress(a, len);
    }

    private AnycastWireGuard? ReadVipWireGuard(YMap vip, string who)
    {
        var node = Get(vip, "wireguard");
        if (node is null || node.IsNull) return null;
        var m = Map(node, $"the wireguard block of {who}", VipWireGuardKeys);
        if (m is null) return null;
        int before = _errorCount;
        int? port = Required(m, "port", $"the wireguard block of {who}") is { } pn ? Int(pn, "wireguard.port", 1, 65535) : null;
        var key = Required(m, "publicKey", $"the wireguard block of {who}") is { } kn ? Key(kn, "wireguard.publicKey") : null;
        string? keyFile = Required(m, "keyFile", $"the wireguard block of {who}") is { } kf ? Path(kf, "keyFile") : null;
        var address = Required(m, "address", $"the wireguard block of {who}") is { } an ? ReadTunnelAddress(an, "wireguard.address", 8) : null;
        var health = new List<AnycastHealthPeer>();
        if (Required(m, "health", $"the wireguard block of {who}") is { } hn && Seq(hn, "wireguard.health") is { } items)
        {
            if (items.Count == 0) Error(InventoryCodes.MissingField, hn.At, $"{who} lists no health peers", "give every member one: overlayd decides from it whether the member advertises the VIP");
            foreach (var item in items.Where(i => !EmptyEntry(i, "health")))
                if (ReadHealthPeer(item, who) is { } h) health.Add(h);
        }
        if (_errorCount != before || port is null || key is null || keyFile is null || address is null) return null;
        return new AnycastWireGuard(port.Value, key.Value, keyFile, address, health, node.At);
    }

    private AnycastHealthPeer? ReadHealthPeer(YNode item, string who)
    {
        var m = Map(item, $"a health peer of {who}", HealthPeerKeys);
        if (m is null) return null;
        int before = _errorCount;
        string owner = $"a health peer of {who}";
        string? member = Required(m, "member", owner) is { } mn ? Str(mn, "health.member") : null;
        string? name = Required(m, "name", owner) is { } nn ? Str(nn, "health.name") : null;
        if (name is not null && !ValueGrammar.IsNodeName(name))
            Error(InventoryCodes.InvalidName, m["name"].At, $"health peer name '{ValueGrammar.Printable(name)}' is invalid", "use 1-32 lowercase letters, digits and '-' (overlayd names the peer so in its events)");
        var key = Required(m, "publicKey", owner) is { } kn ? Key(kn, "health.publicKey") : null;
        var endpoint = Required(m, "endpoint", owner) is { } en ? Endpoint(en) : null;
        var address = Required(m, "address", owner) is { } an ? ReadTunnelAddress(an, "health.address", 8) : null;
        var peer = Required(m, "peerAddress", owner) is { } pa ? Address(pa, "health.peerAddress", AddressFamily.InterNetwork, "a health peer") : null;
        var keepNode = Get(m, "keepalive");
        var keepalive = Duration(keepNode, "health.keepalive") ?? TimeSpan.FromSeconds(1);
        if (keepNode is not null && (keepalive.Ticks % TimeSpan.TicksPerSecond != 0 || keepalive < TimeSpan.FromSeconds(1) || keepalive > TimeSpan.FromSeconds(65535)))
            Error(InventoryCodes.TimerInvalid, keepNode.At, $"health.keepalive {DurationText.Format(keepalive)} must be whole seconds between 1s and 65535s", "WireGuard's PersistentKeepalive counts seconds; 1s keeps the health signal fresh");
        if (address is not null && peer is not null)
        {
            if (peer.Equals(address.Address))
                Error(InventoryCodes.DuplicateValue, m["peerAddress"].At, $"health.peerAddress {peer} is the member's own address", "the far end needs the other address of the link");
            else if (!address.Network.Contains(peer))
                Error(InventoryCodes.InvalidAddress, m["peerAddress"].At, $"health.peerAddress {peer} is outside the member's link {address.Network}", $"pick an address inside {address.Network}");
        }
        if (_errorCount != before || member is null || name is null || key is null || endpoint is null || address is null || peer is null) return null;
        return new AnycastHealthPeer(member, name, key.Value, endpoint, address, peer, keepalive, item.At);
    }

    private WireGuardKey? Key(YNode node, string field)
    {
        if (Str(node, field) is not { } text) return null;
        if (!WireGuardKey.TryParse(text, out var key, out var error))
        {
            Error(InventoryCodes.InvalidKey, node.At, $"{field}: {error}", "paste the output of 'wg pubkey' (the public key, never the private one)");
            return null;
        }
        if (key.IsLowOrder)
        {
            Error(InventoryCodes.InvalidKey, node.At, $"{field} {text} is {WireGuardKey.LowOrderMessage}", "paste the output of 'wg pubkey'");
            return null;
        }
        return key;
    }

    /// <summary>
    /// Health peers name members, one each; ports and addresses do not collide with the members' tunnels; the shared key
    /// is no node's own key.
    /// </summary>
    private void CheckVipWireGuard(List<Vip> vips, Dictionary<string, Node> byName, List<Tunnel> tunnels)
    {
        var keys = new Dictionary<WireGuardKey, string>();
        foreach (var n in byName.Values) keys.TryAdd(n.PublicKey, $"node '{n.Name}'");
        var ports = new Dictionary<(string Node, int Port), string>();
        foreach (var vip in vips)
        {
            if (vip.WireGuard is not { } w) continue;
            if (keys.TryGetValue(w.PublicKey, out var owner))
                Error(InventoryCodes.DuplicateValue, w.Location, $"VIP '{vip.Name}' wireguard.publicKey is already the key of {owner}", "the anycast endpoint has a key pair of its own, shared by the members only");
            else keys[w.PublicKey] = $"VIP '{vip.Name}'";
            foreach (var h in w.Health)
            {
                if (!vip.Members.Contains(h.Member))
                    Error(InventoryCodes.UnknownNode, h.Location, $"health peer '{h.Name}' of VIP '{vip.Name}' is for '{h.Member}', which is not a member of the VIP",
                        Suggest(h.Member, vip.Members) ?? $"name one of {string.Join(", ", vip.Members)}");
                else if (w.Health.First(x => x.Member == h.Member) != h)
                    Error(InventoryCodes.DuplicateValue, h.Location, $"VIP '{vip.Name}' has a second health peer for member '{h.Member}'", "one health peer per member");
                if (h.PublicKey.Equals(w.PublicKey))
                    Error(InventoryCodes.DuplicateValue, h.Location, $"health peer '{h.Name}' has the VIP's own key", "the health peer is the far end: its own key pair");
                if (h.Address.Network.Overlaps(w.Address.Network))
                    Error(InventoryCodes.DuplicateValue, h.Location, $"health link {h.Address.Network} overlaps the VIP's tunnel network {w.Address.Network}", "give the health link its own small prefix, e.g. a /31");
            }
            foreach (var member in vip.Members.Where(byName.ContainsKey))
            {
                var n = byName[member];
                if (w.HealthOf(member) is null)
                    Error(InventoryCodes.PolicyUnsatisfiable, w.Location, $"VIP '{vip.Name}' member '{member}' has no health peer", "add one under wireguard.health: overlayd decides from it whether the member advertises the VIP");
                if (!ports.TryAdd((member, w.Port), vip.Name))
                    Error(InventoryCodes.DuplicateValue, w.Location, $"VIP '{vip.Name}' listens on port {w.Port} on '{member}', already used there by VIP '{ports[(member, w.Port)]}'", "give each anycast endpoint of a member its own port");
                foreach (var t in tunnels.Where(t => t.Involves(member)))
                {
                    int used = n.ListenPort + byName[t.PeerOf(member)].Id;
                    if (used == w.Port)
                        Error(InventoryCodes.DuplicateValue, w.Location, $"VIP '{vip.Name}' port {w.Port} is also '{member}''s tunnel port toward '{t.PeerOf(member)}' (listenPort + peer id)", "pick a port outside listenPort+1 .. listenPort+<largest id>, e.g. the base listenPort itself");
                    if (t.Link.Overlaps(w.Address.Network) || (w.HealthOf(member) is { } h && t.Link.Overlaps(h.Address.Network)))
                        Error(InventoryCodes.DuplicateValue, w.Location, $"VIP '{vip.Name}' addresses overlap '{member}''s tunnel link {t.Link}", "keep the anycast and health links outside defaults.linkPool");
                }
            }
        }
    }
}
