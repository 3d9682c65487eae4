using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Overlay.Core.Net;

namespace Overlay.Core.Inventory;

/// <summary>
/// Turns inventory YAML into the validated model. Structure (keys, types, value syntax) and meaning
/// (references, uniqueness, topology, addressing) are checked in one pass each; every problem is
/// collected so the operator fixes the whole file in one round.
/// </summary>
internal sealed partial class InventoryReader(string file)
{
    private readonly List<Diagnostic> _diagnostics = [];

    // Names of every node entry, even those with errors: references to a broken node are not
    // reported again (its own errors say what to fix). Null when 'nodes' itself is unreadable.
    private HashSet<string>? _declaredNodes = new(StringComparer.Ordinal);

    private bool IsDeclared(string name) => _declaredNodes is null || _declaredNodes.Contains(name);

    private static readonly string[] RootKeys = ["defaults", "frr", "daemon", "gate", "policies", "nodes", "topology", "vips"];
    private static readonly string[] DefaultsKeys = ["listenPort", "keepalive", "keyFile", "linkPool", "ospf", "bfd"];
    private static readonly string[] OspfKeys = ["cost", "hello", "dead"];
    private static readonly string[] BfdKeys = ["minRx", "minTx", "multiplier"];
    private static readonly string[] FrrKeys = ["pathspace", "vtyDir", "grpc"];
    private static readonly string[] GrpcKeys = ["host", "zebra", "staticd", "bfdd"];
    private static readonly string[] DaemonKeys = ["socket", "mode", "group", "metrics", "drainFile", "shutdownTimeout"];
    private static readonly string[] PolicyKeys = ["interval", "fastInterval", "rise", "fall", "minHealthyInterfaces", "handshakeMaxAge", "rxStallAfter", "bfd", "holdDown", "dampening", "require"];
    private static readonly string[] HoldDownKeys = ["advertise", "withdraw"];
    private static readonly string[] DampeningKeys = ["halfLife", "penaltyPerFlap", "suppressAbove", "reuseBelow", "maxPenalty"];
    private static readonly string[] RequireKeys = ["ospfFullNeighbors", "bgpEstablished"];
    private static readonly string[] NodeKeys = ["name", "id", "short", "site", "role", "overlay", "subnets", "endpoint", "nat", "publicKey", "keyFile", "listenPort", "asn", "upstreams"];
    private static readonly string[] OverlayKeys = ["v4", "v6"];
    private static readonly string[] UpstreamKeys = ["neighbor", "remoteAsn"];
    private static readonly string[] TopologyKeys = ["type", "primary", "secondary", "hubLinkCost", "shortcuts"];
    private static readonly string[] HubKeys = ["node", "cost"];
    private static readonly string[] ShortcutKeys = ["between", "cost"];
    private static readonly string[] VipKeys = ["name", "prefix", "members", "policy"];

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")]
    private static partial Regex NodeNameRegex();
    [GeneratedRegex("^[a-z0-9]{1,5}$")]
    private static partial Regex ShortRegex();
    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,9}[a-z0-9])?$")]
    private static partial Regex VipNameRegex();
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?$")]
    private static partial Regex PolicyNameRegex();
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")]
    private static partial Regex HostNameRegex();

    public InventoryParseResult Read(string text)
    {
        var root = YamlTree.Load(text, file, _diagnostics);
        if (root is null)
        {
            if (_diagnostics.Count == 0)
                Error(InventoryCodes.MissingField, new SourceLocation(file, 1, 1), "the inventory is empty", "start from the example in docs/inventory.md");
            return Fail();
        }

        var map = Map(root, "the inventory", RootKeys);
        if (map is null) return Fail();

        var defaults = ReadDefaults(map);
        var frr = ReadFrr(map);
        var daemon = ReadDaemon(map);
        var gate = ReadGate(map, root);
        var policies = ReadPolicies(map);
        var nodes = ReadNodes(map, root, defaults);
        int beforeTopology = _diagnostics.Count;
        var topology = ReadTopology(map, root, defaults);
        int topologyErrors = _diagnostics.Count - beforeTopology;
        var vips = ReadVips(map);

        var byName = CheckNodes(nodes);
        CheckVips(vips, byName, policies);
        int beforePlan = _diagnostics.Count;
        var tunnels = topology is null ? [] : CheckTopologyAndPlanTunnels(topology, nodes, byName, defaults);
        // With a broken topology the tunnel plan is incomplete, and VIP health checks would only echo that.
        if (topology is not null && topologyErrors == 0 && _diagnostics.Count == beforePlan)
            CheckVipHealth(vips, policies, tunnels, byName, defaults);

        if (_diagnostics.Any(d => d.Severity == Severity.Error) || topology is null)
            return Fail();

        var inventory = new Inventory(
            file,
            [.. nodes.OrderBy(n => n.Name, StringComparer.Ordinal)],
            topology,
            [.. vips.OrderBy(v => v.Name, StringComparer.Ordinal)],
            [.. policies.Values.OrderBy(p => p.Name, StringComparer.Ordinal)],
            gate,
            defaults,
            frr,
            daemon,
            tunnels);
        return new InventoryParseResult(inventory, Sorted());
    }

    private InventoryParseResult Fail() => new(null, Sorted());

    private List<Diagnostic> Sorted()
    {
        var list = _diagnostics.Distinct().ToList();
        list.Sort(Diagnostic.Compare);
        return list;
    }

    private void Error(string code, SourceLocation at, string message, string? hint = null) =>
        _diagnostics.Add(Diagnostic.Error(code, at, message, hint));

    // ---- sections ------------------------------------------------------------------------------

    private InventoryDefaults ReadDefaults(Dictionary<string, YNode> root)
    {
        var d = InventoryDefaults.Standard;
        var m = Map(Get(root, "defaults"), "defaults", DefaultsKeys);
        if (m is null) return d;
        var ospf = Map(Get(m, "ospf"), "defaults.ospf", OspfKeys);
        var bfd = Map(Get(m, "bfd"), "defaults.bfd", BfdKeys);

        var pool = Prefix(Get(m, "linkPool"), "linkPool") ?? d.LinkPool;
        if (pool.IsIPv6 || pool.Length > 31)
        {
            Error(InventoryCodes.InvalidValue, Get(m, "linkPool")!.At, $"linkPool {pool} must be an IPv4 prefix of /31 or shorter", "e.g. 10.255.0.0/16: each tunnel takes one /31 from it");
            pool = d.LinkPool;
        }

        var hello = Duration(Get(ospf, "hello"), "hello") ?? d.OspfHello;
        var dead = Duration(Get(ospf, "dead"), "dead") ?? d.OspfDead;
        WholeSeconds(Get(ospf, "hello"), "hello", hello);
        WholeSeconds(Get(ospf, "dead"), "dead", dead);
        if (dead <= hello && ospf is not null)
            Error(InventoryCodes.TimerInvalid, (Get(ospf, "dead") ?? Get(ospf, "hello"))?.At ?? Loc(ospf),
                $"OSPF dead interval {DurationText.Format(dead)} must be longer than the hello interval {DurationText.Format(hello)}",
                "dead is usually 3 to 4 times hello");

        var minRx = Duration(Get(bfd, "minRx"), "minRx") ?? d.BfdMinRx;
        var minTx = Duration(Get(bfd, "minTx"), "minTx") ?? d.BfdMinTx;
        BfdTimer(Get(bfd, "minRx"), "minRx", minRx);
        BfdTimer(Get(bfd, "minTx"), "minTx", minTx);

        var keepalive = Duration(Get(m, "keepalive"), "keepalive") ?? d.Keepalive;
        if (keepalive > TimeSpan.FromSeconds(65535) || keepalive.Milliseconds != 0)
            Error(InventoryCodes.TimerInvalid, Get(m, "keepalive")!.At, $"keepalive {DurationText.Format(keepalive)} must be whole seconds between 0s and 65535s", "WireGuard's PersistentKeepalive counts seconds; 25s is customary");

        return new InventoryDefaults(
            Int(Get(m, "listenPort"), "listenPort", 1, 65535) ?? d.ListenPort,
            keepalive,
            Int(Get(ospf, "cost"), "cost", 1, 65535) ?? d.OspfCost,
            hello,
            dead,
            minRx,
            minTx,
            Int(Get(bfd, "multiplier"), "multiplier", 2, 255) ?? d.BfdMultiplier,
            pool,
            Path(Get(m, "keyFile"), "keyFile") ?? d.KeyFile);
    }

    private void WholeSeconds(YNode? node, string field, TimeSpan value)
    {
        if (node is null) return;
        if (value.Ticks % TimeSpan.TicksPerSecond != 0 || value < TimeSpan.FromSeconds(1) || value > TimeSpan.FromSeconds(65535))
            Error(InventoryCodes.TimerInvalid, node.At, $"OSPF {field} interval {DurationText.Format(value)} must be whole seconds between 1s and 65535s", "FRR sets OSPF hello and dead intervals in seconds");
    }

    private void BfdTimer(YNode? node, string field, TimeSpan value)
    {
        if (node is null) return;
        if (value < TimeSpan.FromMilliseconds(10) || value > TimeSpan.FromSeconds(60))
            Error(InventoryCodes.TimerInvalid, node.At, $"BFD {field} {DurationText.Format(value)} must be between 10ms and 60s", "100ms with multiplier 3 detects a dead tunnel in 300ms");
    }

    private FrrSettings ReadFrr(Dictionary<string, YNode> root)
    {
        var d = FrrSettings.Standard;
        var m = Map(Get(root, "frr"), "frr", FrrKeys);
        if (m is null) return d;
        var g = Map(Get(m, "grpc"), "frr.grpc", GrpcKeys);
        var host = Address(Get(g, "host"), "host", null);
        string? pathspace = Str(Get(m, "pathspace"), "pathspace");
        if (pathspace is not null && pathspace.Contains('/'))
        {
            Error(InventoryCodes.InvalidValue, Get(m, "pathspace")!.At, $"pathspace '{pathspace}' contains '/'", "write the bare FRR -N name, e.g. pathspace: edge1");
            pathspace = null;
        }
        return new FrrSettings(
            pathspace ?? d.Pathspace,
            Path(Get(m, "vtyDir"), "vtyDir") ?? d.VtyDir,
            host?.ToString() ?? d.GrpcHost,
            Int(Get(g, "zebra"), "zebra", 1, 65535) ?? d.ZebraPort,
            Int(Get(g, "staticd"), "staticd", 1, 65535) ?? d.StaticdPort,
            Int(Get(g, "bfdd"), "bfdd", 1, 65535) ?? d.BfddPort);
    }

    private DaemonSettings ReadDaemon(Dictionary<string, YNode> root)
    {
        var d = DaemonSettings.Standard;
        var m = Map(Get(root, "daemon"), "daemon", DaemonKeys);
        if (m is null) return d;
        string? mode = Str(Get(m, "mode"), "mode");
        if (mode is not null && !ModeRegex().IsMatch(mode))
        {
            Error(InventoryCodes.InvalidValue, Get(m, "mode")!.At, $"mode '{mode}' is not an octal file mode", "write it quoted, e.g. \"0660\"");
            mode = null;
        }
        else if (mode is not null && mode[^1] != '0')
        {
            Error(InventoryCodes.InvalidValue, Get(m, "mode")!.At, $"mode {mode} lets every local user reconfigure routing", "drop the 'other' bits, e.g. \"0660\" with a group");
            mode = null;
        }
        string? metrics = Str(Get(m, "metrics"), "metrics");
        if (metrics is not null && !(IPEndPoint.TryParse(metrics, out var ep) && IPAddress.IsLoopback(ep.Address) && ep.Port > 0))
        {
            Error(InventoryCodes.InvalidValue, Get(m, "metrics")!.At, $"metrics '{metrics}' must be a loopback address and port", "e.g. 127.0.0.1:9474; metrics are never served beyond the node");
            metrics = null;
        }
        return new DaemonSettings(
            Path(Get(m, "socket"), "socket") ?? d.ApiSocket,
            mode ?? d.ApiMode,
            Str(Get(m, "group"), "group"),
            metrics ?? d.MetricsListen,
            Path(Get(m, "drainFile"), "drainFile") ?? d.DrainFile,
            Duration(Get(m, "shutdownTimeout"), "shutdownTimeout") ?? d.ShutdownTimeout);
    }

    [GeneratedRegex("^0?[0-7]{3}$")]
    private static partial Regex ModeRegex();

    private List<IpPrefix> ReadGate(Dictionary<string, YNode> root, YNode rootNode)
    {
        var node = Get(root, "gate");
        if (node is null)
        {
            Error(InventoryCodes.MissingField, rootNode.At, "the inventory has no 'gate'", "add the AllowedIPs summary of every tunnel, e.g. gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]");
            return [];
        }
        var items = Seq(node, "gate");
        if (items is null) return [];
        if (items.Count == 0)
            Error(InventoryCodes.MissingField, node.At, "gate is empty: no traffic could cross any tunnel", "list the overlay summary and the OSPF multicast groups, e.g. [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]");
        var gate = new SortedSet<IpPrefix>();
        foreach (var item in items)
            if (Prefix(item, "gate") is { } p && !gate.Add(p))
                Error(InventoryCodes.DuplicateValue, item.At, $"gate lists {p} twice", "remove one of them");
        return [.. gate];
    }

    private Dictionary<string, HealthPolicy> ReadPolicies(Dictionary<string, YNode> root)
    {
        var result = new Dictionary<string, HealthPolicy>(StringComparer.Ordinal);
        var node = Get(root, "policies");
        if (node is not null && node.Kind != YKind.Mapping)
            WrongType(node, "policies", "a mapping of policy name to policy");
        else if (node is not null)
        {
            var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
            foreach (var (key, value) in node.Pairs)
            {
                if (key.Kind != YKind.Scalar) { WrongType(key, "a policy name", "a string"); continue; }
                if (seen.TryGetValue(key.Value, out var first))
                {
                    Error(InventoryCodes.DuplicateKey, key.At, $"policy '{key.Value}' is defined twice", $"the first definition is at line {first.At.Line}");
                    continue;
                }
                seen[key.Value] = key;
                if (!PolicyNameRegex().IsMatch(key.Value))
                    Error(InventoryCodes.InvalidName, key.At, $"policy name '{key.Value}' is invalid", "use letters, digits and '-'");
                result[key.Value] = ReadPolicy(key.Value, key, value);
            }
        }
        // A built-in "default" exists unless the inventory defines its own.
        if (!result.ContainsKey("default")) result["default"] = HealthPolicy.Default("default");
        return result;
    }

    /// <summary>overlayd refuses shorter ones: healthy peers would look dead between rekeys (REKEY_AFTER_TIME 120 s + REKEY_TIMEOUT).</summary>
    private static readonly TimeSpan MinHandshakeMaxAge = TimeSpan.FromSeconds(135);

    private HealthPolicy ReadPolicy(string name, YNode key, YNode value)
    {
        var d = HealthPolicy.Default(name) with { Location = key.At };
        if (value.IsNull) return d;
        var m = Map(value, $"policy '{name}'", PolicyKeys);
        if (m is null) return d;
        var hold = Map(Get(m, "holdDown"), "holdDown", HoldDownKeys);
        var damp = Map(Get(m, "dampening"), "dampening", DampeningKeys);
        var req = Map(Get(m, "require"), "require", RequireKeys);

        var bfd = d.Bfd;
        if (Str(Get(m, "bfd"), "bfd") is { } b)
        {
            if (b == "required") bfd = BfdRequirement.Required;
            else if (b == "ignored") bfd = BfdRequirement.Ignored;
            else Error(InventoryCodes.InvalidValue, Get(m, "bfd")!.At, $"bfd must be 'required' or 'ignored', got '{b}'", Suggest(b, ["required", "ignored"]) ?? "required: a configured BFD session must be up; ignored: BFD does not count");
        }

        var established = new List<IPAddress>();
        if (Seq(Get(req, "bgpEstablished"), "bgpEstablished") is { } addrs)
            foreach (var a in addrs)
                if (Address(a, "bgpEstablished", null) is { } ip) established.Add(ip);

        var dampening = new Dampening(
            Duration(Get(damp, "halfLife"), "halfLife") ?? d.Dampening.HalfLife,
            Int(Get(damp, "penaltyPerFlap"), "penaltyPerFlap", 1, 1_000_000) ?? d.Dampening.PenaltyPerFlap,
            Int(Get(damp, "suppressAbove"), "suppressAbove", 1, 1_000_000) ?? d.Dampening.SuppressAbove,
            Int(Get(damp, "reuseBelow"), "reuseBelow", 1, 1_000_000) ?? d.Dampening.ReuseBelow,
            Int(Get(damp, "maxPenalty"), "maxPenalty", 1, 1_000_000) ?? d.Dampening.MaxPenalty);
        if (damp is not null && !(dampening.ReuseBelow < dampening.SuppressAbove && dampening.SuppressAbove <= dampening.MaxPenalty))
            Error(InventoryCodes.InvalidValue, Get(m, "dampening")!.At,
                $"dampening needs reuseBelow < suppressAbove <= maxPenalty, got {dampening.ReuseBelow}, {dampening.SuppressAbove}, {dampening.MaxPenalty}",
                "e.g. reuseBelow 800, suppressAbove 2500, maxPenalty 6000");

        var interval = Duration(Get(m, "interval"), "interval") ?? d.Interval;
        var fast = Duration(Get(m, "fastInterval"), "fastInterval") ?? d.FastInterval;
        if (interval <= TimeSpan.Zero && Get(m, "interval") is { } iv)
            Error(InventoryCodes.TimerInvalid, iv.At, "interval must be longer than 0s", "e.g. 1s");
        if (fast <= TimeSpan.Zero && Get(m, "fastInterval") is { } fv)
            Error(InventoryCodes.TimerInvalid, fv.At, "fastInterval must be longer than 0s", "e.g. 200ms");
        else if (fast > interval && interval > TimeSpan.Zero)
            Error(InventoryCodes.TimerInvalid, (Get(m, "fastInterval") ?? Get(m, "interval"))!.At,
                $"fastInterval {DurationText.Format(fast)} is longer than interval {DurationText.Format(interval)}",
                "fastInterval is the re-check rate while a change is pending; make it shorter than interval");
        var handshake = Duration(Get(m, "handshakeMaxAge"), "handshakeMaxAge") ?? d.HandshakeMaxAge;
        if (handshake < MinHandshakeMaxAge)
            Error(InventoryCodes.TimerInvalid, Get(m, "handshakeMaxAge")!.At,
                $"handshakeMaxAge {DurationText.Format(handshake)} is below the WireGuard rekey cycle (a handshake is renewed every ~120 s, keys expire after 180 s)",
                "use 180s (REJECT_AFTER_TIME) or at least 135s");

        return new HealthPolicy(
            name,
            interval,
            fast,
            Int(Get(m, "rise"), "rise", 1, 1000) ?? d.Rise,
            Int(Get(m, "fall"), "fall", 1, 1000) ?? d.Fall,
            Int(Get(m, "minHealthyInterfaces"), "minHealthyInterfaces", 1, 1000) ?? d.MinHealthyInterfaces,
            handshake,
            Duration(Get(m, "rxStallAfter"), "rxStallAfter") ?? d.RxStallAfter,
            bfd,
            new HoldDown(
                Duration(Get(hold, "advertise"), "advertise") ?? d.HoldDown.Advertise,
                Duration(Get(hold, "withdraw"), "withdraw") ?? d.HoldDown.Withdraw),
            dampening,
            new HealthRequire(Int(Get(req, "ospfFullNeighbors"), "ospfFullNeighbors", 0, 1000) ?? d.Require.OspfFullNeighbors, established),
            key.At);
    }

    private List<Node> ReadNodes(Dictionary<string, YNode> root, YNode rootNode, InventoryDefaults defaults)
    {
        var nodes = new List<Node>();
        var node = Get(root, "nodes");
        if (node is null)
        {
            Error(InventoryCodes.MissingField, rootNode.At, "the inventory has no 'nodes'", "add a 'nodes:' list; see docs/inventory.md");
            return nodes;
        }
        var items = Seq(node, "nodes");
        if (items is null)
        {
            _declaredNodes = null;
            return nodes;
        }
        if (items.Count == 0)
            Error(InventoryCodes.MissingField, node.At, "'nodes' is empty", "list at least two nodes");
        foreach (var item in items)
        {
            int before = _diagnostics.Count;
            var n = ReadNode(item, defaults);
            // A node with any error stays out of the semantic checks, which would only repeat it.
            if (n is not null && _diagnostics.Count == before) nodes.Add(n);
        }
        return nodes;
    }

    private Node? ReadNode(YNode item, InventoryDefaults defaults)
    {
        // Name the node in structural errors when its name is readable.
        string? early = item.Kind == YKind.Mapping ? item.Pairs.FirstOrDefault(p => p.Key.Value == "name" && p.Value.Kind == YKind.Scalar && !p.Value.IsNull).Value?.Value : null;
        var m = Map(item, early is null ? "a node" : $"node '{early}'", NodeKeys);
        if (m is null) return null;
        string? name = Required(m, item, "name", "a node") is { } nn ? Str(nn, "name") : null;
        string who = name is null ? "this node" : $"node '{name}'";
        if (name is not null) _declaredNodes?.Add(name);
        if (name is not null && !NodeNameRegex().IsMatch(name))
            Error(InventoryCodes.InvalidName, m["name"].At, $"node name '{name}' is invalid", "use 1-32 lowercase letters, digits and '-', starting and ending with a letter or digit");

        int? id = Required(m, item, "id", who) is { } idNode ? Int(idNode, "id", 1, 4095) : null;
        string? shortName = Str(Get(m, "short"), "short");
        if (shortName is not null && !ShortRegex().IsMatch(shortName))
        {
            Error(InventoryCodes.InvalidName, m["short"].At, $"short '{shortName}' is invalid", "use 1-5 lowercase letters or digits; it becomes part of interface names (wg-<short>-<peer short>)");
            shortName = null;
        }

        var role = NodeRole.Spoke;
        if (Str(Get(m, "role"), "role") is { } r)
        {
            switch (r)
            {
                case "hub": role = NodeRole.Hub; break;
                case "spoke": role = NodeRole.Spoke; break;
                case "edge": role = NodeRole.Edge; break;
                default:
                    Error(InventoryCodes.InvalidValue, m["role"].At, $"role must be hub, spoke or edge, got '{r}'", Suggest(r, ["hub", "spoke", "edge"]));
                    break;
            }
        }

        IPAddress? v4 = null, v6 = null;
        if (Required(m, item, "overlay", who) is { } ov && Map(ov, "overlay", OverlayKeys) is { } om)
        {
            if (Required(om, ov, "v4", $"the overlay of {who}") is { } v4n) v4 = Address(v4n, "overlay.v4", AddressFamily.InterNetwork);
            v6 = Address(Get(om, "v6"), "overlay.v6", AddressFamily.InterNetworkV6);
        }

        var subnets = new List<AnnouncedSubnet>();
        if (Seq(Get(m, "subnets"), "subnets") is { } sn)
            foreach (var s in sn)
                if (Prefix(s, "subnets") is { } p)
                {
                    if (subnets.Any(x => x.Prefix == p))
                        Error(InventoryCodes.DuplicateValue, s.At, $"{who} lists subnet {p} twice", "remove one of them");
                    else subnets.Add(new AnnouncedSubnet(p, s.At));
                }

        UnderlayEndpoint? endpoint = Endpoint(Get(m, "endpoint"));
        bool nat = Bool(Get(m, "nat"), "nat") ?? false;
        if (nat && Get(m, "endpoint") is { } epNode && !epNode.IsNull)
            Error(InventoryCodes.Conflict, epNode.At, $"{who} has an endpoint and nat: true", "a node behind NAT cannot be reached at a fixed endpoint; remove one of the two");

        WireGuardKey key = default;
        bool keyOk = false;
        if (Required(m, item, "publicKey", who) is { } kn && Str(kn, "publicKey") is { } kt)
        {
            if (WireGuardKey.TryParse(kt, out key, out var keyError)) keyOk = true;
            else Error(InventoryCodes.InvalidKey, kn.At, $"publicKey: {keyError}", "paste the output of 'wg pubkey' (the public key, never the private one)");
        }

        long? asn = Long(Get(m, "asn"), "asn", 1, uint.MaxValue);
        var upstreams = new List<BgpUpstream>();
        var upNode = Get(m, "upstreams");
        if (Seq(upNode, "upstreams") is { } ups)
        {
            foreach (var u in ups)
            {
                var um = Map(u, "an upstream", UpstreamKeys);
                if (um is null) continue;
                var nb = Required(um, u, "neighbor", "an upstream") is { } nbn ? Address(nbn, "neighbor", null) : null;
                var ra = Required(um, u, "remoteAsn", "an upstream") is { } ran ? Long(ran, "remoteAsn", 1, uint.MaxValue) : null;
                if (nb is not null && upstreams.Any(x => x.Neighbor.Equals(nb)))
                    Error(InventoryCodes.DuplicateValue, um["neighbor"].At, $"{who} lists upstream {nb} twice", "remove one of them");
                else if (nb is not null && ra is not null) upstreams.Add(new BgpUpstream(nb, ra.Value, u.At));
            }
            if (ups.Count > 0 && asn is null && Get(m, "asn") is null)
                Error(InventoryCodes.MissingField, upNode!.At, $"{who} has BGP upstreams but no 'asn'", "add asn: <this node's AS number>");
        }

        // The endpoint's port is the base as peers see it; without an explicit listenPort it is also the local base.
        int listenPort = Int(Get(m, "listenPort"), "listenPort", 1, 65535) ?? endpoint?.Port ?? defaults.ListenPort;
        string keyFile = Path(Get(m, "keyFile"), "keyFile") ?? defaults.KeyFile;

        if (name is null || id is null || v4 is null || !keyOk) return null;
        return new Node(
            name, id.Value, shortName ?? $"n{id.Value}", Str(Get(m, "site"), "site"), role, v4, v6,
            [.. subnets.OrderBy(s => s.Prefix)], endpoint, nat, key, keyFile, listenPort, asn,
            [.. upstreams.OrderBy(u => IpPrefix.Host(u.Neighbor))], item.At);
    }

    private UnderlayEndpoint? Endpoint(YNode? node)
    {
        string? text = Str(node, "endpoint");
        if (text is null) return null;
        const string hint = "write host:port, e.g. 198.51.100.10:51820, [2001:db8::1]:51820 or vpn.example.net:51820";
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}' is not host:port", hint); return null; }
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var a6) || a6.AddressFamily != AddressFamily.InterNetworkV6)
            { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': '{host}' is not an IPv6 address", hint); return null; }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':') != colon) { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}' is not host:port", hint); return null; }
            host = text[..colon];
            portText = text[(colon + 1)..];
            bool looksNumeric = host.All(c => char.IsAsciiDigit(c) || c == '.');
            if (looksNumeric ? !(IPAddress.TryParse(host, out _) && host.Count(c => c == '.') == 3) : !HostNameRegex().IsMatch(host))
            { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': '{host}' is not an IP address or host name", hint); return null; }
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': port '{portText}' must be 1..65535", hint); return null; }
        return new UnderlayEndpoint(host, port);
    }

    private Topology? ReadTopology(Dictionary<string, YNode> root, YNode rootNode, InventoryDefaults defaults)
    {
        var node = Get(root, "topology");
        if (node is null)
        {
            Error(InventoryCodes.MissingField, rootNode.At, "the inventory has no 'topology'", "add topology: { type: fullMesh } or a hubAndSpoke block");
            return null;
        }
        var m = Map(node, "topology", TopologyKeys);
        if (m is null) return null;
        TopologyKind? kind = null;
        if (Required(m, node, "type", "topology") is { } tn && Str(tn, "type") is { } t)
        {
            if (t == "fullMesh") kind = TopologyKind.FullMesh;
            else if (t == "hubAndSpoke") kind = TopologyKind.HubAndSpoke;
            else Error(InventoryCodes.InvalidValue, tn.At, $"topology type must be fullMesh or hubAndSpoke, got '{t}'", Suggest(t, ["fullMesh", "hubAndSpoke"]));
        }

        HubRef? Hub(string key, int defaultCost)
        {
            var hn = Get(m, key);
            var hm = Map(hn, key, HubKeys);
            if (hm is null) return null;
            string? name = Required(hm, hn!, "node", $"the {key} hub") is { } nn ? Str(nn, "node") : null;
            int cost = Int(Get(hm, "cost"), "cost", 1, 65535) ?? defaultCost;
            return name is null ? null : new HubRef(name, cost, hm["node"].At);
        }

        var primary = Hub("primary", 10);
        var secondary = Hub("secondary", 100);
        int hubLinkCost = Int(Get(m, "hubLinkCost"), "hubLinkCost", 1, 65535) ?? primary?.Cost ?? defaults.OspfCost;

        var shortcuts = new List<Shortcut>();
        if (Seq(Get(m, "shortcuts"), "shortcuts") is { } scs)
        {
            foreach (var sc in scs)
            {
                var sm = Map(sc, "a shortcut", ShortcutKeys);
                if (sm is null) continue;
                int cost = Int(Get(sm, "cost"), "cost", 1, 65535) ?? defaults.OspfCost;
                if (Required(sm, sc, "between", "a shortcut") is not { } bn || Seq(bn, "between") is not { } ends) continue;
                if (ends.Count != 2)
                {
                    Error(InventoryCodes.InvalidValue, bn.At, $"a shortcut joins exactly two nodes, this one lists {ends.Count}", "write between: [spoke-a, spoke-b]");
                    continue;
                }
                string? a = Str(ends[0], "between"), b = Str(ends[1], "between");
                if (a is not null && b is not null) shortcuts.Add(new Shortcut(a, b, cost, sc.At));
            }
        }

        if (kind is null) return null;
        if (kind == TopologyKind.FullMesh)
        {
            foreach (var key in new[] { "primary", "secondary", "hubLinkCost", "shortcuts" })
                if (Get(m, key) is { } extra)
                    Error(InventoryCodes.TopologyInvalid, KeyLoc(node, key) ?? extra.At, $"'{key}' has no meaning in a fullMesh topology", "every node already has a tunnel to every other; remove it or use type: hubAndSpoke");
        }
        else if (primary is null && Get(m, "primary") is null && !Misspelt(node, "primary"))
            Error(InventoryCodes.MissingField, node.At, "a hubAndSpoke topology needs a 'primary' hub", "add primary: { node: <hub name>, cost: 10 }");
        return new Topology(kind.Value, primary, secondary, hubLinkCost, shortcuts, node.At);
    }

    private List<Vip> ReadVips(Dictionary<string, YNode> root)
    {
        var vips = new List<Vip>();
        if (Seq(Get(root, "vips"), "vips") is not { } items) return vips;
        foreach (var item in items)
        {
            string? early = item.Kind == YKind.Mapping ? item.Pairs.FirstOrDefault(p => p.Key.Value == "name" && p.Value.Kind == YKind.Scalar && !p.Value.IsNull).Value?.Value : null;
            var m = Map(item, early is null ? "a VIP" : $"VIP '{early}'", VipKeys);
            if (m is null) continue;
            string? name = Required(m, item, "name", "a VIP") is { } nn ? Str(nn, "name") : null;
            string who = name is null ? "this VIP" : $"VIP '{name}'";
            if (name is not null && !VipNameRegex().IsMatch(name))
                Error(InventoryCodes.InvalidName, m["name"].At, $"VIP name '{name}' is invalid", "use 1-11 lowercase letters, digits and '-': the lease interface is named ovl-<name> (15 characters at most)");
            IpPrefix? prefix = null;
            if (Required(m, item, "prefix", who) is { } pn && Prefix(pn, "prefix") is { } p)
            {
                if (!p.IsHost)
                    Error(InventoryCodes.VipNotHost, pn.At, $"VIP prefix {p} must be a single address (/{p.MaxLength})", $"an anycast VIP is one address, e.g. {p.Address}/{p.MaxLength}");
                else prefix = p;
            }
            var members = new List<string>();
            if (Required(m, item, "members", who) is { } mn && Seq(mn, "members") is { } ms)
            {
                if (ms.Count == 0) Error(InventoryCodes.MissingField, mn.At, $"{who} has no members", "list the nodes that may hold it");
                foreach (var x in ms)
                    if (Str(x, "members") is { } s)
                    {
                        if (members.Contains(s)) Error(InventoryCodes.DuplicateValue, x.At, $"{who} lists member '{s}' twice", "remove one of them");
                        else members.Add(s);
                    }
            }
            string policy = Str(Get(m, "policy"), "policy") ?? "default";
            if (name is not null && prefix is not null)
                vips.Add(new Vip(name, prefix.Value, members, policy, item.At));
            _vipRefs.Add((name ?? "?", policy, item));
        }
        return vips;
    }

    // Every VIP entry (even one with errors) with its YAML, so member and policy references are checked where they are written.
    private readonly List<(string Name, string Policy, YNode Item)> _vipRefs = [];

    // ---- meaning ---------------------------------------------------------------------------------

    private Dictionary<string, Node> CheckNodes(List<Node> nodes)
    {
        var byName = new Dictionary<string, Node>(StringComparer.Ordinal);
        var byId = new Dictionary<int, Node>();
        var byShort = new Dictionary<string, Node>(StringComparer.Ordinal);
        var byV4 = new Dictionary<IPAddress, Node>();
        var byV6 = new Dictionary<IPAddress, Node>();
        var byEndpoint = new Dictionary<UnderlayEndpoint, Node>();
        foreach (var n in nodes)
        {
            if (!byName.TryAdd(n.Name, n))
            {
                Error(InventoryCodes.DuplicateName, n.Location, $"node name '{n.Name}' is used twice", $"the first '{n.Name}' is at line {byName[n.Name].Location.Line}; node names must be unique");
                continue;
            }
            if (!byId.TryAdd(n.Id, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has id {n.Id}, already used by '{byId[n.Id].Name}'", "ids must be unique and should never be reused: addresses and ports derive from them");
            if (!byShort.TryAdd(n.Short, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has short name '{n.Short}', already used by '{byShort[n.Short].Name}'", "give one of them a different 'short'");
            if (n.OverlayV4 is { } a4 && !byV4.TryAdd(a4, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has overlay address {a4}, already used by '{byV4[a4].Name}'", "overlay addresses are router ids and must be unique");
            if (n.Endpoint is { } ep && !byEndpoint.TryAdd(ep, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has endpoint {ep}, already used by '{byEndpoint[ep].Name}'", "two nodes behind one address need different ports");
            if (n.OverlayV6 is { } a6 && !byV6.TryAdd(a6, n))
                Error(InventoryCodes.DuplicateValue, n.Location, $"node '{n.Name}' has overlay address {a6}, already used by '{byV6[a6].Name}'", "overlay addresses must be unique");
        }
        return byName;
    }

    private void CheckVips(List<Vip> vips, Dictionary<string, Node> byName, Dictionary<string, HealthPolicy> policies)
    {
        var names = new Dictionary<string, Vip>(StringComparer.Ordinal);
        var prefixes = new Dictionary<IpPrefix, Vip>();
        foreach (var (vipName, policy, item) in _vipRefs)
        {
            var m = item.Pairs.DistinctBy(p => p.Key.Value).ToDictionary(p => p.Key.Value, p => p.Value, StringComparer.Ordinal);
            if (m.TryGetValue("members", out var mn) && mn.Kind == YKind.Sequence)
                foreach (var x in mn.Items.Where(x => x.Kind == YKind.Scalar && !x.IsNull && !byName.ContainsKey(x.Value) && !IsDeclared(x.Value)))
                    Error(InventoryCodes.UnknownNode, x.At, $"VIP '{vipName}' names member '{x.Value}', which is not a node", Suggest(x.Value, byName.Keys));
            if (!policies.ContainsKey(policy))
                Error(InventoryCodes.UnknownPolicy, m.TryGetValue("policy", out var pn) ? pn.At : item.At, $"VIP '{vipName}' uses policy '{policy}', which is not defined", Suggest(policy, policies.Keys) ?? "define it under 'policies:'");
        }
        foreach (var vip in vips)
        {
            if (!names.TryAdd(vip.Name, vip))
                Error(InventoryCodes.DuplicateName, vip.Location, $"VIP name '{vip.Name}' is used twice", $"the first '{vip.Name}' is at line {names[vip.Name].Location.Line}");
            if (!prefixes.TryAdd(vip.Prefix, vip))
                Error(InventoryCodes.DuplicateValue, vip.Location, $"VIP '{vip.Name}' has prefix {vip.Prefix}, already used by VIP '{prefixes[vip.Prefix].Name}'", "one anycast address is one VIP; list every holder under its members");
        }
    }

    private List<Tunnel> CheckTopologyAndPlanTunnels(Topology topology, List<Node> nodes, Dictionary<string, Node> byName, InventoryDefaults defaults)
    {
        var pairs = new List<(Node A, Node B, TunnelKind Kind, int Cost, SourceLocation At)>();
        var unique = nodes.Where(n => byName[n.Name] == n).ToList();

        if (topology.Kind == TopologyKind.FullMesh)
        {
            for (int i = 0; i < unique.Count; i++)
                for (int j = i + 1; j < unique.Count; j++)
                    pairs.Add((unique[i], unique[j], TunnelKind.Mesh, defaults.OspfCost, Later(unique[i].Location, unique[j].Location)));
        }
        else
        {
            Node? Resolve(HubRef? hub, string which)
            {
                if (hub is null) return null;
                if (!byName.TryGetValue(hub.Node, out var n))
                {
                    if (IsDeclared(hub.Node)) return null;
                    Error(InventoryCodes.UnknownNode, hub.Location, $"{which} hub '{hub.Node}' is not a node", Suggest(hub.Node, byName.Keys));
                    return null;
                }
                if (n.Role != NodeRole.Hub)
                    Error(InventoryCodes.TopologyInvalid, hub.Location, $"{which} hub '{hub.Node}' has role {n.Role.ToString().ToLowerInvariant()}", $"set role: hub on node '{hub.Node}'");
                return n;
            }
            var primary = Resolve(topology.Primary, "primary");
            var secondary = Resolve(topology.Secondary, "secondary");
            if (primary is not null && secondary == primary)
            {
                Error(InventoryCodes.TopologyInvalid, topology.Secondary!.Location, $"'{primary.Name}' is both the primary and the secondary hub", "name a different node as secondary, or remove the secondary");
                secondary = null;
            }
            // Only when the hubs themselves resolved: otherwise the hub reference is the error to fix.
            bool hubsResolved = primary is not null && (topology.Secondary is null || secondary is not null);
            foreach (var n in unique.Where(n => hubsResolved && n.Role == NodeRole.Hub && n != primary && n != secondary))
                Error(InventoryCodes.TopologyInvalid, n.Location, $"node '{n.Name}' has role hub but is neither the primary nor the secondary hub", "make it the primary or secondary hub in 'topology', or change its role to spoke");
            var hubs = new[] { (primary, topology.Primary), (secondary, topology.Secondary) };
            foreach (var (hub, reference) in hubs)
            {
                if (hub is null) continue;
                foreach (var n in unique.Where(n => n.Role != NodeRole.Hub))
                    pairs.Add((hub, n, TunnelKind.HubSpoke, reference!.Cost, n.Location));
            }
            if (primary is not null && secondary is not null)
                pairs.Add((primary, secondary, TunnelKind.HubHub, topology.HubLinkCost, topology.Secondary!.Location));

            var seen = new Dictionary<(string, string), Shortcut>();
            foreach (var sc in topology.Shortcuts)
            {
                bool ok = true;
                foreach (var end in new[] { sc.A, sc.B }.Distinct())
                    if (!byName.ContainsKey(end))
                    {
                        ok = false;
                        if (IsDeclared(end)) continue;
                        Error(InventoryCodes.UnknownNode, sc.Location, $"shortcut names '{end}', which is not a node", Suggest(end, byName.Keys));
                    }
                if (sc.A == sc.B)
                {
                    Error(InventoryCodes.ShortcutSelf, sc.Location, $"shortcut from '{sc.A}' to itself", "a shortcut joins two different spokes");
                    continue;
                }
                if (!ok) continue;
                var (a, b) = (byName[sc.A], byName[sc.B]);
                if (a.Role == NodeRole.Hub || b.Role == NodeRole.Hub)
                {
                    string hub = a.Role == NodeRole.Hub ? a.Name : b.Name;
                    Error(InventoryCodes.TopologyInvalid, sc.Location, $"shortcut between '{sc.A}' and '{sc.B}' touches hub '{hub}', which already has a tunnel to every spoke", "shortcuts join two spokes; remove this one");
                    continue;
                }
                var key = string.CompareOrdinal(sc.A, sc.B) < 0 ? (sc.A, sc.B) : (sc.B, sc.A);
                if (seen.TryGetValue(key, out var first))
                {
                    bool reversed = first.A != sc.A;
                    Error(InventoryCodes.ShortcutCycle, sc.Location,
                        reversed
                            ? $"shortcut {sc.A} -> {sc.B} closes a cycle with {first.A} -> {first.B} at line {first.Location.Line}"
                            : $"shortcut {sc.A} -> {sc.B} is listed twice",
                        $"one tunnel joins both directions; keep only the shortcut at line {first.Location.Line}");
                    continue;
                }
                seen[key] = sc;
                pairs.Add((a, b, TunnelKind.Shortcut, sc.Cost, sc.Location));
            }
        }

        var tunnels = new List<Tunnel>();
        UInt128 capacity = UInt128.One << (31 - defaults.LinkPool.Length);
        var tooBig = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (x, y, kind, cost, at) in pairs)
        {
            var (a, b) = x.Id < y.Id ? (x, y) : (y, x);
            if (a.Id == b.Id) continue; // duplicate ids are reported already
            if (a.Endpoint is null && b.Endpoint is null)
                Error(InventoryCodes.Unreachable, at, $"neither '{a.Name}' nor '{b.Name}' has an endpoint, so no side can start their tunnel",
                    kind == TunnelKind.HubSpoke || kind == TunnelKind.HubHub ? $"give hub '{(x.Role == NodeRole.Hub ? x.Name : y.Name)}' an endpoint" : "give one of them an endpoint, or let them talk through a hub");
            foreach (var (self, peer) in new[] { (a, b), (b, a) })
                if (Math.Max(self.ListenPort, self.Endpoint?.Port ?? 0) + peer.Id > 65535 && tooBig.Add(self.Name + "/port"))
                    Error(InventoryCodes.OutOfRange, self.Location, $"node '{self.Name}' would use port {Math.Max(self.ListenPort, self.Endpoint?.Port ?? 0) + peer.Id} toward '{peer.Name}' (base port + peer id {peer.Id})", "lower listenPort or the endpoint port: each tunnel uses the base port + the peer's id");
            ulong index = LinkIndex(a.Id, b.Id);
            if (index >= capacity)
            {
                if (tooBig.Add(b.Name))
                    Error(InventoryCodes.PoolExhausted, b.Location, $"node id {b.Id} ('{b.Name}') is too large for link pool {defaults.LinkPool}, which holds {capacity} /31 links", "use a larger defaults.linkPool or smaller node ids");
                continue;
            }
            UInt128 bits = defaults.LinkPool.Bits + 2 * (UInt128)index;
            tunnels.Add(new Tunnel(a.Name, b.Name, kind, cost, IpPrefix.Create(IpPrefix.ToAddress(bits, false), 31),
                IpPrefix.ToAddress(bits, false), IpPrefix.ToAddress(bits + 1, false), a.BehindNat || b.BehindNat));
        }
        tunnels.Sort((p, q) =>
        {
            int c = byName[p.A].Id.CompareTo(byName[q.A].Id);
            return c != 0 ? c : byName[p.B].Id.CompareTo(byName[q.B].Id);
        });
        return tunnels;
    }

    /// <summary>
    /// A VIP's health is decided by its holder's tunnels (overlayd.yaml lists them all), so the policy
    /// must be satisfiable there; overlayd would refuse the rendered file otherwise.
    /// </summary>
    private void CheckVipHealth(List<Vip> vips, Dictionary<string, HealthPolicy> policies, List<Tunnel> tunnels, Dictionary<string, Node> byName, InventoryDefaults defaults)
    {
        foreach (var vip in vips)
        {
            if (!policies.TryGetValue(vip.Policy, out var policy)) continue;
            foreach (var member in vip.Members.Where(byName.ContainsKey))
            {
                var own = tunnels.Where(t => t.Involves(member)).ToList();
                if (own.Count == 0)
                    Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' member '{member}' has no tunnels, so nothing can decide its health", "a VIP holder needs at least one tunnel");
                else if (policy.MinHealthyInterfaces > own.Count)
                    Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' uses policy '{policy.Name}', which needs {policy.MinHealthyInterfaces} healthy interfaces, but member '{member}' has {own.Count}", "lower minHealthyInterfaces or give the member more tunnels");
                else if (own.Any(t => t.Keepalive) && policy.RxStallAfter <= 2 * defaults.Keepalive)
                    Error(InventoryCodes.PolicyUnsatisfiable, vip.Location, $"VIP '{vip.Name}' uses policy '{policy.Name}' (rxStallAfter {DurationText.Format(policy.RxStallAfter)}), but member '{member}' has NAT tunnels sending a keepalive only every {DurationText.Format(defaults.Keepalive)}", "make rxStallAfter longer than two keepalive intervals: one lost keepalive must not withdraw a VIP");
            }
        }
    }

    /// <summary>
    /// The /31 of the tunnel between ids a &lt; b: pairs are numbered (1,2)=0, (1,3)=1, (2,3)=2, (1,4)=3 …
    /// so a new node with a new, larger id never moves an existing tunnel's addresses.
    /// </summary>
    internal static ulong LinkIndex(int a, int b) => (ulong)(b - 1) * (ulong)(b - 2) / 2 + (ulong)(a - 1);

    private static SourceLocation Later(SourceLocation x, SourceLocation y) => y.Line > x.Line || (y.Line == x.Line && y.Column > x.Column) ? y : x;

    // ---- structure helpers -----------------------------------------------------------------------

    /// <summary>Checks that node is a mapping with only known keys; reports wrong type, unknown and duplicate keys.</summary>
    private Dictionary<string, YNode>? Map(YNode? node, string what, string[] allowed)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Mapping)
        {
            WrongType(node, what, "a mapping (key: value lines)");
            return null;
        }
        var result = new Dictionary<string, YNode>(StringComparer.Ordinal);
        var keys = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (key, value) in node.Pairs)
        {
            if (key.Kind != YKind.Scalar)
            {
                WrongType(key, $"a key in {what}", "a plain name");
                continue;
            }
            if (keys.TryGetValue(key.Value, out var first))
            {
                Error(InventoryCodes.DuplicateKey, key.At, $"key '{key.Value}' appears twice in {what}", $"the first is at line {first.At.Line}; remove one");
                continue;
            }
            keys[key.Value] = key;
            if (Array.IndexOf(allowed, key.Value) < 0)
            {
                string? near = Nearest(key.Value, allowed);
                // A misspelt required key is one error, not also a missing field.
                if (near is not null) _nearMisses.Add((node, near));
                Error(InventoryCodes.UnknownKey, key.At, $"unknown key '{key.Value}' in {what}",
                    near is not null ? $"did you mean '{near}'?" : $"allowed keys: {string.Join(", ", allowed)}");
                continue;
            }
            result[key.Value] = value;
        }
        _keyNodes[node] = keys;
        return result;
    }

    private readonly HashSet<(YNode Mapping, string Key)> _nearMisses = [];

    private bool Misspelt(YNode mapping, string key) => _nearMisses.Contains((mapping, key));

    // Key nodes per mapping, for errors that point at a key rather than its value.
    private readonly Dictionary<YNode, Dictionary<string, YNode>> _keyNodes = new(ReferenceEqualityComparer.Instance);

    private SourceLocation? KeyLoc(YNode mapping, string key) =>
        _keyNodes.TryGetValue(mapping, out var keys) && keys.TryGetValue(key, out var k) ? k.At : null;

    private static YNode? Get(Dictionary<string, YNode>? map, string key) =>
        map is not null && map.TryGetValue(key, out var v) && !v.IsNull ? v : null;

    private static SourceLocation Loc(Dictionary<string, YNode>? map) =>
        map?.Values.FirstOrDefault()?.At ?? SourceLocation.None;

    private YNode? Required(Dictionary<string, YNode> map, YNode owner, string key, string who)
    {
        var v = Get(map, key);
        if (v is null && !Misspelt(owner, key))
            Error(InventoryCodes.MissingField, KeyLoc(owner, key) ?? owner.At, $"{who} is missing required field '{key}'", RequiredHint(key));
        return v;
    }

    private static string RequiredHint(string key) => key switch
    {
        "name" => "add name: <unique name>",
        "id" => "add id: <unique number 1..4095>; never reuse an id",
        "publicKey" => "add publicKey: <output of 'wg pubkey'>",
        "overlay" => "add overlay: { v4: <router id address> }",
        "v4" => "add v4: <this node's overlay IPv4 address>",
        "prefix" => "add prefix: <address>/32",
        "members" => "add members: [<node>, ...]",
        "type" => "add type: fullMesh or type: hubAndSpoke",
        "neighbor" => "add neighbor: <upstream router address>",
        "remoteAsn" => "add remoteAsn: <upstream AS number>",
        "node" => "add node: <hub node name>",
        "between" => "add between: [spoke-a, spoke-b]",
        _ => $"add {key}: ...",
    };

    private List<YNode>? Seq(YNode? node, string field)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Sequence)
        {
            WrongType(node, field, "a list");
            return null;
        }
        return node.Items;
    }

    private void WrongType(YNode node, string field, string expected)
    {
        string hint = expected switch
        {
            _ when field == "the inventory" => "an inventory is a mapping with the keys gate, nodes, topology and optionally defaults, frr, daemon, policies, vips",
            "a list" => $"write {field}: [a, b] or one '- item' per line",
            "a string" => "write a single value, quoted if it contains special characters",
            "an integer" => "write a whole number without quotes or units",
            "true or false" => "write true or false (yes/no/on/off are not accepted)",
            _ when expected.StartsWith("a mapping", StringComparison.Ordinal) => "indent 'key: value' lines under it",
            _ => $"expected {expected}",
        };
        Error(InventoryCodes.WrongType, node.At, $"{field} must be {expected}, got {node.Describe()}", hint);
    }

    private string? Str(YNode? node, string field)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Scalar) { WrongType(node, field, "a string"); return null; }
        return node.Value;
    }

    private string? Path(YNode? node, string field)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        if (!s.StartsWith('/') || s.Contains('\n') || s.Contains('\0'))
        {
            string example = field switch
            {
                "keyFile" => InventoryDefaults.Standard.KeyFile,
                "vtyDir" => FrrSettings.Standard.VtyDir,
                "socket" => DaemonSettings.Standard.ApiSocket,
                _ => DaemonSettings.Standard.DrainFile,
            };
            Error(InventoryCodes.InvalidValue, node!.At, $"{field} '{s}' must be an absolute path", $"e.g. {example}");
            return null;
        }
        return s;
    }

    private int? Int(YNode? node, string field, int min, int max) => (int?)Long(node, field, min, max);

    private long? Long(YNode? node, string field, long min, long max)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind != YKind.Scalar || !long.TryParse(node.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
        {
            WrongType(node, field, "an integer");
            return null;
        }
        if (v < min || v > max)
        {
            Error(InventoryCodes.OutOfRange, node.At, $"{field} {v} is out of range {min}..{max}", null);
            return null;
        }
        return v;
    }

    private bool? Bool(YNode? node, string field)
    {
        if (node is null || node.IsNull) return null;
        if (node.Kind == YKind.Scalar && node.Plain && node.Value is "true" or "false")
            return node.Value == "true";
        WrongType(node, field, "true or false");
        return null;
    }

    private TimeSpan? Duration(YNode? node, string field)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        if (DurationText.TryParse(s, out var v, out var error)) return v;
        Error(InventoryCodes.InvalidDuration, node!.At, $"{field}: {error}", "durations need a unit: ms, s, m or h");
        return null;
    }

    private IpPrefix? Prefix(YNode? node, string field)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        if (!IpPrefix.TryParse(s, strict: false, out _, out var error))
        {
            Error(InventoryCodes.InvalidPrefix, node!.At, $"{field}: {error}", null);
            return null;
        }
        if (!IpPrefix.TryParse(s, strict: true, out var p, out error))
        {
            Error(InventoryCodes.HostBitsSet, node!.At, $"{field}: {error}", null);
            return null;
        }
        return p;
    }

    private IPAddress? Address(YNode? node, string field, AddressFamily? family)
    {
        string? s = Str(node, field);
        if (s is null) return null;
        string kind = family switch { AddressFamily.InterNetwork => "an IPv4 address", AddressFamily.InterNetworkV6 => "an IPv6 address", _ => "an IP address" };
        if (!IPAddress.TryParse(s, out var a) || s.Contains('/') || s.Contains('%') || (a.AddressFamily == AddressFamily.InterNetwork && s.Count(c => c == '.') != 3))
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{s}' is not {kind}", s.Contains('/') ? $"write the address without a prefix length: {s[..s.IndexOf('/')]}" : null);
            return null;
        }
        if (family is { } f && a.AddressFamily != f)
        {
            Error(InventoryCodes.InvalidAddress, node!.At, $"{field} '{s}' is not {kind}", family == AddressFamily.InterNetwork ? "put IPv6 addresses under v6" : "put IPv4 addresses under v4");
            return null;
        }
        return a;
    }

    /// <summary>"did you mean 'x'?" for the nearest candidate within a small edit distance.</summary>
    internal static string? Suggest(string given, IEnumerable<string> candidates) =>
        Nearest(given, candidates) is { } best ? $"did you mean '{best}'?" : null;

    internal static string? Nearest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates.OrderBy(c => c, StringComparer.Ordinal))
        {
            int d = string.Equals(c, given, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(given.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) { best = c; bestDistance = d; }
        }
        int limit = Math.Max(2, given.Length / 3);
        return best is not null && bestDistance <= limit ? best : null;
    }

    private static int Distance(string s, string t)
    {
        var prev = new int[t.Length + 1];
        var cur = new int[t.Length + 1];
        for (int j = 0; j <= t.Length; j++) prev[j] = j;
        for (int i = 1; i <= s.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= t.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[t.Length];
    }
}
