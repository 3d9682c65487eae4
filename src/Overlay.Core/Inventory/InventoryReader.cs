using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Yaml;
using Overlay.Core.Net;
using static Overlay.Core.Diagnostics.NearMiss;

namespace Overlay.Core.Inventories;

/// <summary>
/// Turns inventory YAML into the validated model. Structure (keys, types, value syntax) and meaning
/// (references, uniqueness, topology, addressing) are checked in one pass each; every problem is
/// collected so the operator fixes the whole file in one round.
/// </summary>
internal sealed partial class InventoryReader(string file)
{
    private readonly DiagnosticList _diagnostics = new();

    // Names of every node entry, even those with errors: references to a broken node are not
    // reported again (its own errors say what to fix). Null when 'nodes' itself is unreadable.
    private HashSet<string>? _declaredNodes = new(StringComparer.Ordinal);

    private bool IsDeclared(string name) => _declaredNodes is null || _declaredNodes.Contains(name);

    private static readonly string[] RootKeys = ["defaults", "frr", "daemon", "gate", "policies", "nodes", "topology", "vips", "sites"];
    private static readonly string[] DefaultsKeys = ["listenPort", "keepalive", "keyFile", "linkPool", "ospf", "bfd", "natUdpTimeout", "rpFilter", "bgp"];
    private static readonly string[] OspfKeys = ["cost", "hello", "dead", "throttle"];
    private static readonly string[] ThrottleKeys = ["spfDelay", "spfHold", "spfMaxHold", "lsaAll", "lsaMinArrival"];
    private static readonly string[] BfdKeys = ["minRx", "minTx", "multiplier"];
    private static readonly string[] FrrKeys = ["pathspace", "vtyDir", "grpc"];
    private static readonly string[] GrpcKeys = ["host", "zebra", "staticd", "bfdd"];
    private static readonly string[] DaemonKeys = ["socket", "mode", "group", "metrics", "drainFile", "shutdownTimeout", "inventory"];
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
    private static readonly string[] VipKeys = ["name", "prefix", "members", "policy", "wireguard"];


    public InventoryParseResult Read(string text)
    {
        var root = Load(text);
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
        int beforeNodes = _errorCount;
        var nodes = ReadNodes(map, root, defaults);
        int nodeErrors = _errorCount - beforeNodes;
        int beforeTopology = _errorCount;
        var topology = ReadTopology(map, root, defaults);
        int topologyErrors = _errorCount - beforeTopology;
        var vips = ReadVips(map);

        int beforeCheckNodes = _errorCount;
        var byName = CheckNodes(nodes);
        nodeErrors += _errorCount - beforeCheckNodes;
        CheckVips(vips, byName, policies);
        int beforePlan = _errorCount;
        var tunnels = topology is null ? [] : CheckTopologyAndPlanTunnels(topology, nodes, byName, defaults);
        // With a broken topology, a node left out (its own errors say why) or a default that could not be read, the
        // tunnel plan is incomplete or built on a stand-in, and VIP health checks would only echo that on other nodes.
        bool planComplete = topology is not null && topologyErrors == 0 && nodeErrors == 0 && !_defaultsBroken && _errorCount == beforePlan;
        if (topology is not null && topologyErrors == 0)
            CheckVipWireGuard(vips, byName, tunnels);
        if (planComplete)
            CheckVipHealth(vips, policies, tunnels, byName, defaults);
        CheckAnycastEndpoints(nodes, vips, tunnels, planComplete);

        if (_diagnostics.ErrorCount > 0 || topology is null)
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

    /// <summary>The first document's root; null, with the reason as a diagnostic (none for an empty file), when there is none.</summary>
    private YNode? Load(string text)
    {
        var document = YamlTree.Load(text, file);
        if (document.Error is { } e)
        {
            switch (e.Failure)
            {
                case YamlLoadFailure.TooDeep:
                    Error(InventoryCodes.LimitExceeded, e.At, $"the YAML is nested more than {YamlTree.MaxDepth} levels deep here",
                        "an inventory needs only a few levels; look for unbalanced '[' or '{'");
                    break;
                case YamlLoadFailure.Syntax:
                    Error(InventoryCodes.Syntax, e.At, "YAML syntax error: " + e.Message, "check indentation, colons and quotes on this line");
                    break;
                case YamlLoadFailure.ScannerFailed when e.UnclosedFlow is { } flow:
                    Error(InventoryCodes.Syntax, flow.At, $"YAML syntax error: the '{flow.Open}' opened here is never closed", $"add the closing '{(flow.Open == '[' ? ']' : '}')}'");
                    break;
                case YamlLoadFailure.ScannerFailed:
                    Error(InventoryCodes.Syntax, e.At, "YAML syntax error after this point", "check indentation, brackets and quotes from here on");
                    break;
                default:
                    Error(InventoryCodes.Syntax, e.At, "YAML syntax error after this point: " + e.Message, "an inventory needs no YAML tags ('!'); remove or quote the value");
                    break;
            }
            return null;
        }
        if (document.SecondDocument is { } second)
        {
            Error(InventoryCodes.Syntax, second, "a second YAML document in the inventory", "keep the whole inventory in one document; remove the '---' line");
            return null;
        }
        return document.Root;
    }

    private InventoryParseResult Fail() => new(null, Sorted());

    private List<Diagnostic> Sorted() => _diagnostics.ToSortedList();

    private int _errorCount => _diagnostics.ErrorCount;

    private void Error(string code, SourceLocation at, string message, string? hint = null) => _diagnostics.Error(code, at, message, hint);

    // ---- sections ------------------------------------------------------------------------------

    // Set when a default that the tunnel plan or the VIP health checks use could not be read: those checks would
    // then judge a stand-in value and report errors that are not there.
    private bool _defaultsBroken;

    /// <summary>IPv4 space that cannot hold a tunnel's interface addresses.</summary>
    private static readonly (IpPrefix Prefix, string What)[] ReservedPools =
    [
        (IpPrefix.Parse("0.0.0.0/8"), "unspecified, 'this network'"),
        (IpPrefix.Parse("127.0.0.0/8"), "loopback"),
        (IpPrefix.Parse("224.0.0.0/4"), "multicast"),
        (IpPrefix.Parse("240.0.0.0/4"), "reserved and broadcast"),
    ];

    private InventoryDefaults ReadDefaults(YMap root)
    {
        var d = InventoryDefaults.Standard;
        var m = Map(Get(root, "defaults"), "defaults", DefaultsKeys);
        if (m is null) return d;
        var ospf = Map(Get(m, "ospf"), "defaults.ospf", OspfKeys);
        var bfd = Map(Get(m, "bfd"), "defaults.bfd", BfdKeys);

        var parsedPool = Prefix(Get(m, "linkPool"), "linkPool");
        if (parsedPool is null && Get(m, "linkPool") is not null) _defaultsBroken = true;
        var pool = parsedPool ?? d.LinkPool;
        if (pool.IsIPv6 || pool.Length > 31)
        {
            Error(InventoryCodes.InvalidValue, Get(m, "linkPool")!.At, $"linkPool {pool} must be an IPv4 prefix of /31 or shorter", "e.g. 10.255.0.0/16: each tunnel takes one /31 from it");
            pool = d.LinkPool;
            _defaultsBroken = true;
        }
        else if (ReservedPools.FirstOrDefault(r => r.Prefix.Overlaps(pool)) is { Prefix.Length: > 0 } reserved)
        {
            // Its addresses become tunnel interface addresses and OSPF/BFD peers.
            Error(InventoryCodes.InvalidValue, Get(m, "linkPool")!.At, $"linkPool {pool} overlaps {reserved.Prefix} ({reserved.What}), which cannot hold interface addresses", "use private unicast space, e.g. 10.255.0.0/16");
            pool = d.LinkPool;
            _defaultsBroken = true;
        }

        int beforeTimers = _errorCount;
        var hello = Duration(Get(ospf, "hello"), "hello") ?? d.OspfHello;
        var dead = Duration(Get(ospf, "dead"), "dead") ?? d.OspfDead;
        WholeSeconds(Get(ospf, "hello"), "hello", hello);
        WholeSeconds(Get(ospf, "dead"), "dead", dead);
        // Compared only when both read cleanly: a default standing in for a broken value would make a second, false error.
        if (dead <= hello && ospf is not null && _errorCount == beforeTimers)
            Error(InventoryCodes.TimerInvalid, (Get(ospf, "dead") ?? Get(ospf, "hello"))?.At ?? Loc(ospf),
                $"OSPF dead interval {DurationText.Format(dead)} must be longer than the hello interval {DurationText.Format(hello)}",
                "dead is usually 3 to 4 times hello");

        var minRx = Duration(Get(bfd, "minRx"), "minRx") ?? d.BfdMinRx;
        var minTx = Duration(Get(bfd, "minTx"), "minTx") ?? d.BfdMinTx;
        BfdTimer(Get(bfd, "minRx"), "minRx", minRx);
        BfdTimer(Get(bfd, "minTx"), "minTx", minTx);

        int beforeKeepalive = _errorCount;
        var keepalive = Duration(Get(m, "keepalive"), "keepalive") ?? d.Keepalive;
        if (_errorCount != beforeKeepalive) _defaultsBroken = true;
        if (keepalive > TimeSpan.FromSeconds(65535) || keepalive.Milliseconds != 0)
        {
            _defaultsBroken = true;
            Error(InventoryCodes.TimerInvalid, Get(m, "keepalive")!.At, $"keepalive {DurationText.Format(keepalive)} must be whole seconds between 0s and 65535s", "WireGuard's PersistentKeepalive counts seconds; 25s is customary");
        }

        _defaultNat = NatTimeout(Get(m, "natUdpTimeout"), "natUdpTimeout", NatTimeoutSource.Defaults);
        var throttle = ReadThrottle(ospf, d.OspfThrottle);
        var rpFilter = d.RpFilter;
        if (Str(Get(m, "rpFilter"), "rpFilter") is { } rp)
        {
            if (rp == "loose") rpFilter = RpFilterMode.Loose;
            else if (rp == "strict") rpFilter = RpFilterMode.Strict;
            else if (rp == "off") rpFilter = RpFilterMode.Off;
            else Error(InventoryCodes.InvalidValue, Get(m, "rpFilter")!.At, $"rpFilter must be 'loose', 'strict' or 'off', got '{rp}'",
                Suggest(rp, ["loose", "strict", "off"]) ?? "loose: a reply may come back over another tunnel than the route leaves by");
        }

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
        { KeepaliveGiven = Get(m, "keepalive") is { IsNull: false }, NatUdpTimeout = _defaultNat, OspfThrottle = throttle, RpFilter = rpFilter, Bgp = ReadBgpTimers(m) };
    }

    /// <summary>defaults.ospf.throttle: whole milliseconds within FRR's ranges, hold not above max.</summary>
    private OspfThrottle ReadThrottle(YMap? ospf, OspfThrottle d)
    {
        var m = Map(Get(ospf, "throttle"), "defaults.ospf.throttle", ThrottleKeys);
        if (m is null) return d;
        TimeSpan Ms(string field, TimeSpan fallback, TimeSpan max)
        {
            var node = Get(m, field);
            var v = Duration(node, field);
            if (node is null || v is null) return fallback;
            if (v.Value.Ticks % TimeSpan.TicksPerMillisecond != 0 || v.Value < TimeSpan.Zero || v.Value > max)
            {
                Error(InventoryCodes.TimerInvalid, node.At, $"OSPF throttle {field} {DurationText.Format(v.Value)} must be whole milliseconds between 0ms and {DurationText.Format(max)}",
                    "FRR takes these timers in milliseconds; 0ms reacts at once");
                return fallback;
            }
            return v.Value;
        }
        var tenMinutes = TimeSpan.FromMinutes(10);
        var result = new OspfThrottle(
            Ms("spfDelay", d.SpfDelay, tenMinutes), Ms("spfHold", d.SpfHold, tenMinutes), Ms("spfMaxHold", d.SpfMaxHold, tenMinutes),
            Ms("lsaAll", d.LsaAll, TimeSpan.FromSeconds(5)), Ms("lsaMinArrival", d.LsaMinArrival, tenMinutes));
        if (result.SpfHold > result.SpfMaxHold)
        {
            Error(InventoryCodes.TimerInvalid, (Get(m, "spfHold") ?? Get(m, "spfMaxHold"))!.At,
                $"OSPF throttle spfHold {DurationText.Format(result.SpfHold)} must not exceed spfMaxHold {DurationText.Format(result.SpfMaxHold)}",
                "the hold time doubles up to the maximum, e.g. spfHold: 50ms, spfMaxHold: 500ms");
            return d;
        }
        return result;
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

    private FrrSettings ReadFrr(YMap root)
    {
        var d = FrrSettings.Standard;
        var m = Map(Get(root, "frr"), "frr", FrrKeys);
        if (m is null) return d;
        var g = Map(Get(m, "grpc"), "frr.grpc", GrpcKeys);
        var host = Address(Get(g, "host"), "host", null);
        if (host is not null && IpAddressText.SpecialKind(host) is "unspecified" or "multicast" or "broadcast")
        {
            Error(InventoryCodes.InvalidAddress, Get(g, "host")!.At, $"grpc host {host} is a {IpAddressText.SpecialKind(host)} address, not one FRR listens on", "use 127.0.0.1: FRR's gRPC port must stay inside the node");
            host = null;
        }
        string? pathspace = Str(Get(m, "pathspace"), "pathspace");
        if (pathspace is not null && pathspace.Contains('/'))
        {
            Error(InventoryCodes.InvalidValue, Get(m, "pathspace")!.At, $"pathspace '{pathspace}' contains '/'", "write the bare FRR -N name, e.g. pathspace: edge1");
            pathspace = null;
        }
        else if (pathspace is not null && !ValueGrammar.IsPathspace(pathspace))
        {
            Error(InventoryCodes.InvalidValue, Get(m, "pathspace")!.At, $"pathspace '{pathspace}' is not an FRR -N name", "use 1-32 letters, digits, '_' and '-', e.g. pathspace: edge1");
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

    private DaemonSettings ReadDaemon(YMap root)
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
        if (metrics is not null)
        {
            // Parsed as overlayd parses it, and written back in canonical form.
            if (LoopbackEndpoint(metrics) is { } canonical) metrics = canonical;
            else
            {
                Error(InventoryCodes.InvalidValue, Get(m, "metrics")!.At, $"metrics '{metrics}' must be a loopback address and port", "e.g. 127.0.0.1:9474; metrics are never served beyond the node");
                metrics = null;
            }
        }
        string? group = Str(Get(m, "group"), "group");
        if (group is not null && !ValueGrammar.IsGroupName(group))
        {
            Error(InventoryCodes.InvalidValue, Get(m, "group")!.At, $"group '{group}' is not a group name", "use 1-32 lowercase letters, digits, '_' and '-', starting with a letter or '_', e.g. group: overlay");
            group = null;
        }
        return new DaemonSettings(
            Path(Get(m, "socket"), "socket") ?? d.ApiSocket,
            mode ?? d.ApiMode,
            group,
            metrics ?? d.MetricsListen,
            Path(Get(m, "drainFile"), "drainFile") ?? d.DrainFile,
            Duration(Get(m, "shutdownTimeout"), "shutdownTimeout") ?? d.ShutdownTimeout)
        { Inventory = Path(Get(m, "inventory"), "inventory") ?? d.Inventory };
    }

    [GeneratedRegex("^0?[0-7]{3}$")]
    private static partial Regex ModeRegex();

    /// <summary>"ADDRESS:PORT" or "[V6]:PORT" with a loopback address, in canonical form; null otherwise.</summary>
    private static string? LoopbackEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0) return null;
        var host = text.AsSpan(0, colon);
        bool bracketed = host.StartsWith("[") && host.EndsWith("]");
        if (bracketed) host = host[1..^1];
        if (!IpAddressText.TryParse(host, out var address) || bracketed != (address.AddressFamily == AddressFamily.InterNetworkV6) ||
            !IPAddress.IsLoopback(address) || address.IsIPv4MappedToIPv6)
            return null;
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535 || text[(colon + 1)..].StartsWith('0'))
            return null;
        return new IPEndPoint(address, port).ToString();
    }

    // Where the gate's value starts, for lint findings about the gate as a whole.
    private SourceLocation _gateLocation = SourceLocation.None;

    private List<IpPrefix> ReadGate(YMap root, YNode rootNode)
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

    private Dictionary<string, HealthPolicy> ReadPolicies(YMap root)
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
                int before = _errorCount;
                if (!ValueGrammar.IsPolicyName(key.Value))
                    Error(InventoryCodes.InvalidName, key.At, $"policy name '{key.Value}' is invalid", "use letters, digits and '-'");
                result[key.Value] = ReadPolicy(key.Value, key, value);
                if (_errorCount != before) _brokenPolicies.Add(key.Value);
            }
        }
        // A built-in "default" exists unless the inventory defines its own.
        if (!result.ContainsKey("default")) result["default"] = InventoryDefaultPolicy("default");
        return result;
    }

    // Policies with errors of their own: VIP health is not judged against their stand-in values.
    private readonly HashSet<string> _brokenPolicies = new(StringComparer.Ordinal);

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
        // dampening: false switches it off (a VIP that must come back at once after every repair, e.g. a lab that
        // flaps it on purpose); true or a mapping keeps it, with the mapping's settings.
        var dampNode = Get(m, "dampening");
        bool? dampOn = dampNode is { Kind: YKind.Scalar, IsNull: false } ? Bool(dampNode, "dampening") : null;
        var damp = dampOn is null && dampNode is { Kind: YKind.Scalar, IsNull: false } ? null : dampOn is null ? Map(dampNode, "dampening", DampeningKeys) : null;
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
                if (Address(a, "bgpEstablished", null, "a BGP neighbor") is { } ip) established.Add(ip);

        var std = Dampening.Standard;
        int beforeDampening = _errorCount;
        var dampening = new Dampening(
            Duration(Get(damp, "halfLife"), "halfLife") ?? std.HalfLife,
            Int(Get(damp, "penaltyPerFlap"), "penaltyPerFlap", 1, 1_000_000) ?? std.PenaltyPerFlap,
            Int(Get(damp, "suppressAbove"), "suppressAbove", 1, 1_000_000) ?? std.SuppressAbove,
            Int(Get(damp, "reuseBelow"), "reuseBelow", 1, 1_000_000) ?? std.ReuseBelow,
            Int(Get(damp, "maxPenalty"), "maxPenalty", 1, 1_000_000) ?? std.MaxPenalty);
        if (damp is not null && _errorCount == beforeDampening && !(dampening.ReuseBelow < dampening.SuppressAbove && dampening.SuppressAbove <= dampening.MaxPenalty))
            Error(InventoryCodes.InvalidValue, Get(m, "dampening")!.At,
                $"dampening needs reuseBelow < suppressAbove <= maxPenalty, got {dampening.ReuseBelow}, {dampening.SuppressAbove}, {dampening.MaxPenalty}",
                "e.g. reuseBelow 800, suppressAbove 2500, maxPenalty 6000");

        int beforeIntervals = _errorCount;
        var interval = Duration(Get(m, "interval"), "interval") ?? d.Interval;
        var fast = Duration(Get(m, "fastInterval"), "fastInterval") ?? d.FastInterval;
        bool intervalsRead = _errorCount == beforeIntervals;
        if (interval <= TimeSpan.Zero && Get(m, "interval") is { } iv)
            Error(InventoryCodes.TimerInvalid, iv.At, "interval must be longer than 0s", "e.g. 1s");
        if (fast <= TimeSpan.Zero && Get(m, "fastInterval") is { } fv)
            Error(InventoryCodes.TimerInvalid, fv.At, "fastInterval must be longer than 0s", "e.g. 200ms");
        else if (fast > interval && interval > TimeSpan.Zero && intervalsRead)
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
            dampOn == false ? null : dampening,
            new RoutingRequirements(Int(Get(req, "ospfFullNeighbors"), "ospfFullNeighbors", 0, 1000) ?? d.Require.OspfFullNeighbors, established));
    }

    private List<Node> ReadNodes(YMap root, YNode rootNode, InventoryDefaults defaults)
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
            int before = _errorCount;
            var n = ReadNode(item, defaults);
            // A node with any error stays out of the semantic checks, which would only repeat it.
            if (n is not null && _errorCount == before) nodes.Add(n);
        }
        return nodes;
    }

    private Node? ReadNode(YNode item, InventoryDefaults defaults)
    {
        // Name the node in structural errors when its name is readable.
        var m = Map(item, EarlyName(item) is { } early ? $"node '{early}'" : "a node", NodeKeys);
        if (m is null) return null;
        string? name = Required(m, "name", "a node") is { } nn ? Str(nn, "name") : null;
        string who = name is null ? "this node" : $"node '{name}'";
        if (name is not null) _declaredNodes?.Add(name);
        if (name is not null && !ValueGrammar.IsNodeName(name))
            Error(InventoryCodes.InvalidName, m["name"].At, $"node name '{name}' is invalid", "use 1-32 lowercase letters, digits and '-', starting and ending with a letter or digit");

        int? id = Required(m, "id", who) is { } idNode ? Int(idNode, "id", 1, 4095) : null;
        string? shortName = Str(Get(m, "short"), "short");
        if (shortName is not null && !ValueGrammar.IsShort(shortName))
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
        if (Required(m, "overlay", who) is { } ov && Map(ov, "overlay", OverlayKeys) is { } om)
        {
            if (Required(om, "v4", $"the overlay of {who}") is { } v4n) v4 = Address(v4n, "overlay.v4", AddressFamily.InterNetwork, "a router id or an interface address");
            v6 = Address(Get(om, "v6"), "overlay.v6", AddressFamily.InterNetworkV6, "an interface address");
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
        if (Required(m, "publicKey", who) is { } kn && Str(kn, "publicKey") is { } kt)
        {
            if (!WireGuardKey.TryParse(kt, out key, out var keyError))
                Error(InventoryCodes.InvalidKey, kn.At, $"publicKey: {keyError}", "paste the output of 'wg pubkey' (the public key, never the private one)");
            else if (key.IsLowOrder)
                Error(InventoryCodes.InvalidKey, kn.At, $"publicKey {kt} is {WireGuardKey.LowOrderMessage}", "paste the output of 'wg pubkey' on the node");
            else keyOk = true;
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
                var nb = Required(um, "neighbor", "an upstream") is { } nbn ? Address(nbn, "neighbor", null, "a BGP neighbor") : null;
                var ra = Required(um, "remoteAsn", "an upstream") is { } ran ? Long(ran, "remoteAsn", 1, uint.MaxValue) : null;
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
        if (site is not null && !ValueGrammar.IsLabel(site))
        {
            Error(InventoryCodes.InvalidName, m["site"].At, $"site '{site}' is invalid", "use 1-63 letters, digits, '.', '_' and '-', starting with a letter or digit");
            site = null;
        }
        var natTimeout = ResolveNat(m, who, nat, site);
        var anycast = ReadAnycastEndpoint(m, who);

        if (name is null || id is null || v4 is null || !keyOk) return null;
        return new Node(
            name, id.Value, shortName ?? $"n{id.Value}", site, role, v4, v6,
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
            if (!IpAddressText.TryParse(host, out var a6) || a6.AddressFamily != AddressFamily.InterNetworkV6)
            { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': '{host}' is not an IPv6 address", hint); return null; }
            if (IpAddressText.SpecialKind(a6) is { } special)
            { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': {host} is a {special} address; peers cannot reach this node there", hint); return null; }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':') != colon) { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}' is not host:port", hint); return null; }
            host = text[..colon];
            portText = text[(colon + 1)..];
            bool looksNumeric = host.Length > 0 && host.All(c => char.IsAsciiDigit(c) || c == '.');
            if (looksNumeric)
            {
                if (!IpAddressText.TryParse(host, out var a4, out var why))
                {
                    Error(InventoryCodes.InvalidEndpoint, node!.At, why!.Contains("leading zero", StringComparison.Ordinal)
                        ? $"endpoint '{text}': {why}" : $"endpoint '{text}': '{host}' is not an IP address or host name", hint);
                    return null;
                }
                if (IpAddressText.SpecialKind(a4) is { } special)
                { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': {host} is a {special} address; peers cannot reach this node there", hint); return null; }
            }
            else if (!ValueGrammar.IsHostName(host, out var why))
            {
                Error(InventoryCodes.InvalidEndpoint, node!.At, host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-')
                    ? $"endpoint '{text}': host name '{host}' {why}" : $"endpoint '{text}': '{host}' is not an IP address or host name", hint);
                return null;
            }
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535 || portText.Length > 5)
        { Error(InventoryCodes.InvalidEndpoint, node!.At, $"endpoint '{text}': port '{portText}' must be 1..65535", hint); return null; }
        return new UnderlayEndpoint(host, port);
    }

    private Topology? ReadTopology(YMap root, YNode rootNode, InventoryDefaults defaults)
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
        if (Required(m, "type", "topology") is { } tn && Str(tn, "type") is { } t)
        {
            if (t == "fullMesh") kind = TopologyKind.FullMesh;
            else if (t == "hubAndSpoke") kind = TopologyKind.HubAndSpoke;
            else if (t == "none") kind = TopologyKind.None;
            else Error(InventoryCodes.InvalidValue, tn.At, $"topology type must be fullMesh, hubAndSpoke or none, got '{t}'", Suggest(t, ["fullMesh", "hubAndSpoke", "none"]));
        }

        HubRef? Hub(string key, int defaultCost)
        {
            var hn = Get(m, key);
            var hm = Map(hn, key, HubKeys);
            if (hm is null) return null;
            string? name = Required(hm, "node", $"the {key} hub") is { } nn ? Str(nn, "node") : null;
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
                if (Required(sm, "between", "a shortcut") is not { } bn || Seq(bn, "between") is not { } ends) continue;
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
        if (kind is TopologyKind.FullMesh or TopologyKind.None)
        {
            string type = kind == TopologyKind.FullMesh ? "fullMesh" : "none";
            string why = kind == TopologyKind.FullMesh ? "every node already has a tunnel to every other" : "type none gives no tunnels between nodes";
            foreach (var key in new[] { "primary", "secondary", "hubLinkCost", "shortcuts" })
                if (Get(m, key) is { } extra)
                    Error(InventoryCodes.TopologyInvalid, m.KeyAt(key)?.At ?? extra.At, $"'{key}' has no meaning in a {type} topology", $"{why}; remove it or use type: hubAndSpoke");
        }
        else if (primary is null && Get(m, "primary") is null && !m.IsMisspelt("primary"))
            Error(InventoryCodes.MissingField, node.At, "a hubAndSpoke topology needs a 'primary' hub", "add primary: { node: <hub name>, cost: 10 }");
        return new Topology(kind.Value, primary, secondary, hubLinkCost, shortcuts, node.At);
    }

    private List<Vip> ReadVips(YMap root)
    {
        var vips = new List<Vip>();
        if (Seq(Get(root, "vips"), "vips") is not { } items) return vips;
        foreach (var item in items.Where(i => !EmptyEntry(i, "vips")))
        {
            var m = Map(item, EarlyName(item) is { } early ? $"VIP '{early}'" : "a VIP", VipKeys);
            if (m is null) continue;
            string? name = Required(m, "name", "a VIP") is { } nn ? Str(nn, "name") : null;
            string who = name is null ? "this VIP" : $"VIP '{name}'";
            if (name is not null && !ValueGrammar.IsVipName(name))
                Error(InventoryCodes.InvalidName, m["name"].At, $"VIP name '{name}' is invalid", "use 1-11 lowercase letters, digits and '-': the lease interface is named ovl-<name> (15 characters at most)");
            IpPrefix? prefix = null;
            if (Required(m, "prefix", who) is { } pn && Prefix(pn, "prefix") is { } p)
            {
                if (!p.IsHost)
                    Error(InventoryCodes.VipNotHost, pn.At, $"VIP prefix {p} must be a single address (/{p.MaxLength})", $"an anycast VIP is one address, e.g. {p.Address}/{p.MaxLength}");
                else if (IpAddressText.SpecialKind(p.Address) is { } special)
                    Error(InventoryCodes.InvalidAddress, pn.At, $"VIP {p} is a {special} address and cannot be advertised as a service address", "use a unicast address clients can reach");
                else prefix = p;
            }
            var members = new List<string>();
            if (Required(m, "members", who) is { } mn && Seq(mn, "members") is { } ms)
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
            var wireguard = ReadVipWireGuard(m, who);
            if (wireguard is null && Get(m, "wireguard") is { IsNull: false } && name is not null) _brokenWireGuardVips.Add(name);
            if (wireguard is not null && prefix is { IsIPv6: true })
                Error(InventoryCodes.InvalidValue, m["wireguard"].At, $"{who} is IPv6; an anycast WireGuard endpoint is rendered for IPv4 VIPs only", "serve it on an IPv4 VIP");
            if (name is not null && prefix is not null)
                vips.Add(new Vip(name, prefix.Value, members, policy, item.At) { WireGuard = wireguard });
            _vipRefs.Add((name ?? "?", policy, item));
        }
        return vips;
    }

    // Every VIP entry (even one with errors) with its YAML, so member and policy references are checked where they are written.
    private readonly List<(string Name, string Policy, YNode Item)> _vipRefs = [];

    // VIPs whose wireguard block has errors of its own: their clients are not judged against a missing block.
    private readonly HashSet<string> _brokenWireGuardVips = new(StringComparer.Ordinal);
}
