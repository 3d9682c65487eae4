using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Overlay.Core.Config;
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

    private static readonly string[] RootKeys = ["defaults", "frr", "daemon", "gate", "policies", "nodes", "topology", "vips", "sites"];
    private static readonly string[] DefaultsKeys = ["listenPort", "keepalive", "keyFile", "linkPool", "ospf", "bfd", "natUdpTimeout"];
    private static readonly string[] OspfKeys = ["cost", "hello", "dead"];
    private static readonly string[] BfdKeys = ["minRx", "minTx", "multiplier"];
    private static readonly string[] FrrKeys = ["pathspace", "vtyDir", "grpc"];
    private static readonly string[] GrpcKeys = ["host", "zebra", "staticd", "bfdd"];
    private static readonly string[] DaemonKeys = ["socket", "mode", "group", "metrics", "drainFile", "shutdownTimeout"];
    private static readonly string[] PolicyKeys = ["interval", "fastInterval", "rise", "fall", "minHealthyInterfaces", "handshakeMaxAge", "rxStallAfter", "bfd", "holdDown", "dampening", "require"];
    private static readonly string[] HoldDownKeys = ["advertise", "withdraw"];
    private static readonly string[] DampeningKeys = ["halfLife", "penaltyPerFlap", "suppressAbove", "reuseBelow", "maxPenalty"];
    private static readonly string[] RequireKeys = ["ospfFullNeighbors", "bgpEstablished"];
    private static readonly string[] NodeKeys = ["name", "id", "short", "site", "role", "overlay", "subnets", "endpoint", "nat", "publicKey", "keyFile", "listenPort", "asn", "upstreams", "natUdpTimeout", "anycastEndpoint"];
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
        ReadSites(map);
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
        bool planComplete = topology is not null && topologyErrors == 0 && _diagnostics.Count == beforePlan;
        if (planComplete)
            CheckVipHealth(vips, policies, tunnels, byName, defaults);
        CheckAnycastEndpoints(nodes, vips, tunnels, planComplete);

        if (_diagnostics.Any(d => d.Severity == Severity.Error) || topology is null)
            return Fail();

        var inventory = new Inventory(
            file,
            [.. nodes.OrderBy(n => n.Name, StringComparer.Ordinal)],
            // Checks ran in file order (so messages say which entry came first); the model is sorted.
            topology with { Shortcuts = [.. topology.Shortcuts.OrderBy(x => x.A, StringComparer.Ordinal).ThenBy(x => x.B, StringComparer.Ordinal)] },
            [.. vips.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => v with { Members = [.. v.Members.Order(StringComparer.Ordinal)] })],
            [.. policies.Values.OrderBy(p => p.Name, StringComparer.Ordinal)],
            gate,
            defaults,
            frr,
            daemon,
            tunnels)
        { GateLocation = _gateLocation };
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

        _defaultNat = NatTimeout(Get(m, "natUdpTimeout"), "natUdpTimeout", NatTimeoutSource.Defaults);
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
            Path(Get(m, "keyFile"), "keyFile") ?? d.KeyFile)
        { KeepaliveGiven = Get(m, "keepalive") is { IsNull: false }, NatUdpTimeout = _defaultNat };
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

    // Where the gate's value starts, for lint findings about the gate as a whole.
    private SourceLocation _gateLocation = SourceLocation.None;

    private List<IpPrefix> ReadGate(Dictionary<string, YNode> root, YNode rootNode)
    {
        var node = Get(root, "gate");
        if (node is null)
        {
            Error(InventoryCodes.MissingField, rootNode.At, "the inventory has no 'gate'", "add the AllowedIPs summary of every tunnel, e.g. gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]");
            return [];
        }
        _gateLocation = node.At;
        var items = Seq(node, "gate");
        if (items is null) return [];
        if (items.Count == 0)
            Error(InventoryCodes.MissingField, node.At, "gate is empty: no traffic could cross any tunnel", "list the overlay summary and the OSPF multicast groups, e.g. [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]");
        var gate = new SortedSet<IpPrefix>();
        foreach (var item in items.Where(i => !EmptyEntry(i, "gate")))
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
        if (!result.ContainsKey("default")) result["default"] = InventoryDefaultPolicy("default");
        return result;
    }

    /// <summary>overlayd's defaults, except that an inventory policy dampens flaps unless told otherwise.</summary>
    private static HealthPolicy InventoryDefaultPolicy(string name) => HealthPolicy.Default(name) with { Dampening = Dampening.Standard };

    /// <summary>overlayd refuses shorter ones: healthy peers would look dead between rekeys (REKEY_AFTER_TIME 120 s + REKEY_TIMEOUT).</summary>
    private static readonly TimeSpan MinHandshakeMaxAge = TimeSpan.FromSeconds(135);

    private HealthPolicy ReadPolicy(string name, YNode key, YNode value)
    {
        var d = InventoryDefaultPolicy(name);
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
            foreach (var a in addrs.Where(i => !EmptyEntry(i, "bgpEstablished")))
                if (Address(a, "bgpEstablished", null) is { } ip) established.Add(ip);

        var std = Dampening.Standard;
        var dampening = new Dampening(
            Duration(Get(damp, "halfLife"), "halfLife") ?? std.HalfLife,
            Int(Get(damp, "penaltyPerFlap"), "penaltyPerFlap", 1, 1_000_000) ?? std.PenaltyPerFlap,
            Int(Get(damp, "suppressAbove"), "suppressAbove", 1, 1_000_000) ?? std.SuppressAbove,
            Int(Get(damp, "reuseBelow"), "reuseBelow", 1, 1_000_000) ?? std.ReuseBelow,
            Int(Get(damp, "maxPenalty"), "maxPenalty", 1, 1_000_000) ?? std.MaxPenalty);
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
            new RoutingRequirements(Int(Get(req, "ospfFullNeighbors"), "ospfFullNeighbors", 0, 1000) ?? d.Require.OspfFullNeighbors, established));
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
        foreach (var item in items.Where(i => !EmptyEntry(i, "nodes")))
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
        var m = Map(item, EarlyName(item) is { } early ? $"node '{early}'" : "a node", NodeKeys);
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
            foreach (var s in sn.Where(i => !EmptyEntry(i, "subnets")))
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
            foreach (var u in ups.Where(i => !EmptyEntry(i, "upstreams")))
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
        string? site = Str(Get(m, "site"), "site");
        var natTimeout = ResolveNat(m, who, nat, site);
        var anycast = ReadAnycastEndpoint(m, who);

        if (name is null || id is null || v4 is null || !keyOk) return null;
        return new Node(
            name, id.Value, shortName ?? $"n{id.Value}", Str(Get(m, "site"), "site"), role, v4, v6,
            [.. subnets.OrderBy(s => s.Prefix)], endpoint, nat, key, keyFile, listenPort, asn,
            [.. upstreams.OrderBy(u => IpPrefix.Host(u.Neighbor))], item.At)
        { NatUdpTimeout = natTimeout, AnycastEndpoint = anycast };
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
            foreach (var sc in scs.Where(i => !EmptyEntry(i, "shortcuts")))
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
        foreach (var item in items.Where(i => !EmptyEntry(i, "vips")))
        {
            var m = Map(item, EarlyName(item) is { } early ? $"VIP '{early}'" : "a VIP", VipKeys);
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
                foreach (var x in ms.Where(i => !EmptyEntry(i, "members")))
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
}
