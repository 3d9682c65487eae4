using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Model;
using Overlay.Core.Yaml;

namespace Overlay.Core.Config;

/// <summary>
/// Reads overlayd.yaml. Walks the YAML node tree (which keeps line/column marks) instead of deserializing (no reflection:
/// overlayd may be NativeAOT), so that every problem is reported at once, each at its own location with a fix.
/// Unknown keys are errors: a typo must not silently disable a check.
/// </summary>
public static partial class NodeConfigYaml
{
    public const int MaxInterfaceNameLength = 15; // IFNAMSIZ - 1

    /// <summary>
    /// A handshake is renewed about every 120 s while traffic flows (REKEY_AFTER_TIME), and a renewal
    /// can take a few more seconds (REKEY_TIMEOUT 5 s plus jitter). A lower threshold would mark healthy
    /// peers down between rekeys.
    /// </summary>
    public static readonly TimeSpan MinHandshakeMaxAge = TimeSpan.FromSeconds(135);

    /// <summary>Deepest nesting accepted; the file needs 5 levels. Bounded while the (recursive) tree is built.</summary>
    public const int MaxDepth = YamlTree.MaxDepth;

    /// <summary>Loads the file's bytes: invalid UTF-8 is an error at its line and column, never a silent U+FFFD.</summary>
    public static NodeConfigLoadResult Read(ReadOnlySpan<byte> utf8, string fileName)
    {
        if (SourceText.TryDecode(utf8, out string text, out int line, out int column, out string? error)) return Read(text, fileName);
        var errors = new DiagnosticList(fileName);
        errors.At(ConfigCodes.Syntax, line, column, "", error!, "save the file as UTF-8 and retype the character at this position");
        return new(null, errors.ToSortedList());
    }

    public static NodeConfigLoadResult Read(string text, string fileName)
    {
        var errors = new DiagnosticList(fileName);
        // Every document is read, so a syntax error after a second '---' is reported too.
        var document = YamlTree.Load(text, fileName, readFollowingDocuments: true);
        if (document.Error is { } e)
        {
            // The parser stops at the first syntax error; nothing after it can be trusted.
            switch (e.Failure)
            {
                case YamlLoadFailure.TooDeep:
                    errors.Add(ConfigCodes.Syntax, e.At, "", $"the YAML is nested more than {MaxDepth} levels deep here", "overlayd.yaml needs only a few levels; look for unbalanced '[' or '{'");
                    break;
                case YamlLoadFailure.Syntax:
                    errors.Add(ConfigCodes.Syntax, e.At, "", e.Message, "fix the YAML syntax at this position (indentation, quoting, duplicate keys)");
                    break;
                default:
                    // YamlDotNet's scanner fails without a position on some malformed flow collections and tags (found by
                    // tests/Overlay.Fuzz.Tests).
                    errors.At(ConfigCodes.Syntax, 1, 1, "", "the YAML could not be read: " + e.RawMessage.Split('\n')[0],
                        "fix the YAML syntax (unclosed '[' or '{', a tag such as '!x' that is not a URI)");
                    break;
            }
            return new(null, errors.ToSortedList());
        }
        if (document.Root is not { Kind: YKind.Mapping } root)
        {
            errors.Add(ConfigCodes.Syntax, document.Root, "", "the file is not a YAML mapping", "start with 'node: NAME' and the sections of docs/overlayd-config.md");
            return new(null, errors.ToSortedList());
        }
        if (document.SecondRoot is { } second)
            errors.Add(ConfigCodes.Syntax, second, "", "more than one YAML document", "keep a single document per file (remove the '---' separator)");

        var config = new Parser(errors).Root(root);
        if (config is not null) Validate(config, root, errors);
        return errors.Count == 0 ? new(config, []) : new(null, errors.ToSortedList());
    }

    // ---------------------------------------------------------------- structure

    private sealed class Parser(DiagnosticList errors)
    {
        private readonly ConfigYaml yaml = new(errors);

        public NodeConfig? Root(YNode rootNode)
        {
            var root = yaml.MapOf(rootNode, "")!;
            string? node = root.RequiredScalar("node", "set 'node:' to this node's inventory name, e.g. node: dc1-edge1");
            if (node is not null && node.Trim().Length == 0)
                errors.Add(ConfigCodes.MissingField, root.Get("node"), "node", "the node name is empty", "set 'node:' to this node's inventory name");
            else if (node is not null) CheckLabel(root.Get("node")!, "node", node, "node name");
            string? site = root.Scalar("site");
            if (site is not null) CheckLabel(root.Get("site")!, "site", site, "site");
            var api = Api(root.Map("api"));
            var metrics = Metrics(root.Map("metrics"));
            var frr = Frr(root.Map("frr"));
            var interfaces = root.ListOf("interfaces", (n, p) => Interface(n, p));
            var policies = Policies(root.Map("policies"));
            var vips = root.ListOf("vips", (n, p) => Vip(n, p));
            var routes = root.ListOf("routes", (n, p) => Route(n, p));
            var drain = Drain(root.Map("drain"));
            string? inventory = root.Scalar("inventory");
            if (inventory is not null) CheckPath(root.Get("inventory")!, "inventory", inventory, "/etc/overlay/inventory.yaml");
            bool transit = yaml.Bool(root, "transit") ?? false;
            root.ReportUnknown();
            if (node is null || api is null || frr is null || drain is null) return null;
            return new NodeConfig(node, site, api, metrics, frr, interfaces, policies, vips, routes, drain, inventory) { Transit = transit };
        }

        private ApiConfig? Api(YMap? s)
        {
            if (s is null) return new ApiConfig(ApiConfig.DefaultSocket, ApiConfig.DefaultMode, null);
            string socket = s.Scalar("socket") ?? ApiConfig.DefaultSocket;
            if (s.Get("socket") is { } socketNode) CheckPath(socketNode, s.PathOf("socket"), socket, ApiConfig.DefaultSocket);
            int mode = ApiConfig.DefaultMode;
            if (s.Get("mode") is { } modeNode)
            {
                var text = yaml.ScalarOf(modeNode, s.PathOf("mode"));
                if (text is not null && !(text.Length is 3 or 4 && text.All(c => c is >= '0' and <= '7')))
                    errors.Add(ConfigCodes.InvalidValue, modeNode, s.PathOf("mode"), $"'{text}' is not an octal file mode", "write it quoted in octal, e.g. mode: \"0660\"");
                else if (text is not null)
                {
                    mode = Convert.ToInt32(text, 8);
                    if ((mode & 0b000_000_111) != 0)
                        errors.Add(ConfigCodes.Unsafe, modeNode, s.PathOf("mode"), $"mode {text} lets every local user reconfigure routing", "drop the 'other' bits, e.g. \"0660\" with a group");
                }
            }
            string? group = s.Scalar("group");
            if (group is not null && !ValueGrammar.IsGroupName(group))
                errors.Add(ConfigCodes.InvalidName, s.Get("group"), s.PathOf("group"), $"'{ValueGrammar.Printable(group)}' is not a group name", "use 1-32 lowercase letters, digits, '_' and '-', starting with a letter or '_', e.g. group: overlay");
            s.ReportUnknown();
            return new ApiConfig(socket, mode, group);
        }

        private MetricsConfig? Metrics(YMap? s)
        {
            if (s is null) return null;
            var listenNode = s.Get("listen");
            string? listen = s.RequiredScalar("listen", "set 'listen: 127.0.0.1:9474' or remove the metrics section");
            s.ReportUnknown();
            if (listen is null) return null;
            if (ParseEndpoint(listen) is not { } ep)
            {
                errors.Add(ConfigCodes.InvalidAddress, listenNode, s.PathOf("listen"), $"'{listen}' is not ADDRESS:PORT", "write e.g. 127.0.0.1:9474 or [::1]:9474");
                return null;
            }
            if (!IPAddress.IsLoopback(ep.Address))
            {
                errors.Add(ConfigCodes.Unsafe, listenNode, s.PathOf("listen"), $"{ep.Address} is not a loopback address; metrics are served to this host only",
                    "listen on 127.0.0.1 or [::1] and let a local agent or a proxy expose them");
                return null;
            }
            return new MetricsConfig(ep);
        }

        private FrrConfig? Frr(YMap? s)
        {
            var defaults = new FrrConfig("", "/var/run/frr", new FrrGrpcConfig("127.0.0.1", 50051, 50052, 50053));
            if (s is null) return defaults;
            string pathspace = s.Scalar("pathspace") ?? "";
            if (pathspace.Contains('/'))
                errors.Add(ConfigCodes.InvalidName, s.Get("pathspace"), s.PathOf("pathspace"), $"'{ValueGrammar.Printable(pathspace)}' contains '/'", "write the bare FRR -N name, e.g. pathspace: edge1");
            else if (!ValueGrammar.IsPathspace(pathspace))
                errors.Add(ConfigCodes.InvalidName, s.Get("pathspace"), s.PathOf("pathspace"), $"'{ValueGrammar.Printable(pathspace)}' is not an FRR -N name", "use 1-32 letters, digits, '_' and '-', e.g. pathspace: edge1");
            string vtyDir = s.Scalar("vtyDir") ?? defaults.VtyDir;
            if (s.Get("vtyDir") is { } vtyNode) CheckPath(vtyNode, s.PathOf("vtyDir"), vtyDir, "/var/run/frr");
            var grpc = defaults.Grpc;
            if (s.Map("grpc") is { } g)
            {
                string host = g.Scalar("host") ?? grpc.Host;
                if (g.Get("host") is { } hostNode)
                {
                    // The client dials this address; a name or a mangled number could send FRR's commands elsewhere.
                    if (!IpAddressText.TryParse(host, out var hostAddress, out var why))
                        errors.Add(ConfigCodes.InvalidAddress, hostNode, g.PathOf("host"), $"'{ValueGrammar.Printable(host)}' is not an IP address ({why})", "write FRR's gRPC address, e.g. host: 127.0.0.1");
                    else if (IpAddressText.SpecialKind(hostAddress) is "unspecified" or "multicast" or "broadcast")
                        errors.Add(ConfigCodes.InvalidAddress, hostNode, g.PathOf("host"), $"{host} is a {IpAddressText.SpecialKind(hostAddress)} address, not one FRR listens on", "write host: 127.0.0.1");
                }
                grpc = new FrrGrpcConfig(
                    host,
                    yaml.Port(g, "zebra") ?? grpc.Zebra,
                    yaml.Port(g, "staticd") ?? grpc.Staticd,
                    yaml.Port(g, "bfdd") ?? grpc.Bfdd);
                g.ReportUnknown();
            }
            s.ReportUnknown();
            return new FrrConfig(pathspace, vtyDir, grpc);
        }

        private WgInterfaceConfig? Interface(YNode node, string path)
        {
            if (yaml.MapOf(node, path, fix: "each interface is a mapping with name, peer, peerPublicKey, …") is not { } s) return null;
            string? name = s.RequiredScalar("name", "give the WireGuard interface a name, e.g. name: wg-e1-up1");
            if (name is not null) CheckIfName(s.Get("name")!, s.PathOf("name"), name);
            string? peer = s.RequiredScalar("peer", "name the inventory node at the other end, e.g. peer: upstream1");
            if (peer is not null) CheckLabel(s.Get("peer")!, s.PathOf("peer"), peer, "peer name");
            WireGuardKey key = default;
            string? keyText = s.RequiredScalar("peerPublicKey", "set the peer's public key (44 characters of base64, 'wg pubkey')");
            bool keyOk = keyText is not null && WireGuardKey.TryParse(keyText, out key, out _);
            if (keyText is not null && !keyOk)
                errors.Add(ConfigCodes.InvalidValue, s.Get("peerPublicKey"), s.PathOf("peerPublicKey"), "not a WireGuard public key",
                    "paste the peer's public key as printed by 'wg pubkey' (44 characters of base64 ending in '=')");
            else if (keyOk && key.IsLowOrder)
            {
                errors.Add(ConfigCodes.InvalidValue, s.Get("peerPublicKey"), s.PathOf("peerPublicKey"), $"the key is {WireGuardKey.LowOrderMessage}", "paste the peer's public key as printed by 'wg pubkey'");
                keyOk = false;
            }
            int listenPort = yaml.Port(s, "listenPort", allowZero: true) ?? 0;
            var keepalive = yaml.Duration(s, "keepalive", allowZero: true) ?? TimeSpan.Zero;
            if (keepalive > TimeSpan.FromSeconds(65535))
                errors.Add(ConfigCodes.OutOfRange, s.Get("keepalive"), s.PathOf("keepalive"), "keepalive is longer than WireGuard allows (65535 s)", "use e.g. keepalive: 25s");
            var local = yaml.RequiredPrefix(s, "localAddress", strict: false, "set this end's overlay address with its length, e.g. 10.255.1.1/31");
            if (local is { } l && IpAddressText.SpecialKind(l.Address) is { } localKind)
            {
                errors.Add(ConfigCodes.InvalidAddress, s.Get("localAddress"), s.PathOf("localAddress"), $"{l.Address} is a {localKind} address and cannot be an interface address", "use the link's unicast address, e.g. 10.255.1.1/31");
                local = null;
            }
            var peerAddr = yaml.RequiredAddress(s, "peerAddress", "set the far end's overlay address, e.g. 10.255.1.2");
            if (peerAddr is not null && IpAddressText.SpecialKind(peerAddr) is { } peerKind)
            {
                errors.Add(ConfigCodes.InvalidAddress, s.Get("peerAddress"), s.PathOf("peerAddress"), $"{peerAddr} is a {peerKind} address and cannot be the far end of a link", "use the far end's unicast address, e.g. 10.255.1.2");
                peerAddr = null;
            }
            bool bfd = yaml.Bool(s, "bfd") ?? false;
            var gate = s.ListOf("gate", (n, p) => yaml.PrefixValue(n, p, strict: true)).Select(x => x!.Value).ToList();
            if (s.Get("gate") is null)
                errors.Add(ConfigCodes.MissingField, s.Node, s.PathOf("gate"), "no gate (AllowedIPs) is set", "list the prefixes the peer may send from, e.g. gate: [10.0.0.0/8, 224.0.0.5/32]");
            var watchdog = s.Map("watchdog") is { } w ? Watchdog(w) : null;
            s.ReportUnknown();
            if (name is null || peer is null || !keyOk || local is null || peerAddr is null) return null;
            // The prefix keeps only the network; the interface address is the one written before the '/'.
            string localText = s.Get("localAddress")!.Value.Trim();
            IpAddressText.TryParse(localText.AsSpan(0, localText.IndexOf('/')), out var localAddress);
            return new WgInterfaceConfig(name, peer, key, listenPort, keepalive, new TunnelAddress(localAddress, local.Value.Length), peerAddr, bfd, gate) { Watchdog = watchdog };
        }

        /// <summary>The session watchdog of an interface whose peer is an anycast endpoint (docs/overlayd-config.md).</summary>
        private SessionWatchdogConfig Watchdog(YMap w)
        {
            var d = SessionWatchdogConfig.Standard;
            var interval = yaml.Duration(w, "interval") ?? d.Interval;
            int misses = yaml.Int(w, "misses", min: 1, "misses counts unanswered probe intervals before a reset; use 1 or more, e.g. 3") ?? d.Misses;
            var backoff = yaml.Duration(w, "backoff") ?? d.Backoff;
            var maxBackoff = yaml.Duration(w, "maxBackoff") ?? d.MaxBackoff;
            // Below 10 ms the probes are scheduling noise; above 10 s the watchdog is slower than WireGuard's own 15 s.
            if (interval < TimeSpan.FromMilliseconds(10) || interval > TimeSpan.FromSeconds(10))
                errors.Add(ConfigCodes.OutOfRange, w.Get("interval"), w.PathOf("interval"), $"interval {DurationText.Format(interval)} is outside 10ms..10s",
                    "probe every 100ms (the default) or a few hundred ms on slow links");
            if (misses > 100)
                errors.Add(ConfigCodes.OutOfRange, w.Get("misses"), w.PathOf("misses"), $"misses {misses} is above 100", "use a few, e.g. 3 (misses × interval is the detection time)");
            if (backoff < interval)
                errors.Add(ConfigCodes.Conflict, w.Get("backoff") ?? w.Node, w.PathOf("backoff"), $"backoff {DurationText.Format(backoff)} is shorter than interval {DurationText.Format(interval)}",
                    "make backoff at least one interval (default 250ms): a reset needs a handshake round trip to show");
            if (maxBackoff < backoff || maxBackoff > TimeSpan.FromHours(1))
                errors.Add(ConfigCodes.OutOfRange, w.Get("maxBackoff") ?? w.Node, w.PathOf("maxBackoff"), $"maxBackoff {DurationText.Format(maxBackoff)} is not within backoff..1h",
                    "use e.g. maxBackoff: 30s (the longest wait between resets while the far end is down)");
            w.ReportUnknown();
            return new SessionWatchdogConfig(interval, misses, backoff, maxBackoff);
        }

        private Dictionary<string, HealthPolicy> Policies(YMap? s)
        {
            var result = new Dictionary<string, HealthPolicy>(StringComparer.Ordinal);
            if (s is null) return result;
            foreach (var (keyNode, value) in s.Entries)
            {
                var name = keyNode.Value;
                s.Allow(name);
                if (!ValueGrammar.IsLabel(name))
                {
                    errors.Add(ConfigCodes.InvalidName, keyNode, s.PathOf(ValueGrammar.Printable(name)), $"'{ValueGrammar.Printable(name)}' is not a policy name", "use 1-63 letters, digits, '.', '_' and '-'");
                    continue;
                }
                if (Policy(name, value, s.PathOf(name)) is { } p) result[name] = p;
            }
            return result;
        }

        private HealthPolicy? Policy(string name, YNode node, string path)
        {
            if (yaml.MapOf(node, path, fix: "a policy is a mapping of settings (interval, rise, fall, …)") is not { } s) return null;
            var d = HealthPolicy.Default(name);
            var interval = yaml.Duration(s, "interval") ?? d.Interval;
            var fast = yaml.Duration(s, "fastInterval") ?? d.FastInterval;
            if (fast > interval)
                errors.Add(ConfigCodes.Conflict, s.Get("fastInterval") ?? s.Node, s.PathOf("fastInterval"),
                    $"fastInterval {DurationText.Format(fast)} is longer than interval {DurationText.Format(interval)}",
                    "make fastInterval shorter than interval: it is the re-check rate while a change is pending");
            int rise = yaml.Int(s, "rise", min: 1, "rise counts consecutive healthy evaluations; use 1 or more") ?? d.Rise;
            int fall = yaml.Int(s, "fall", min: 1, "fall counts consecutive unhealthy evaluations; use 1 or more") ?? d.Fall;
            int minHealthy = yaml.Int(s, "minHealthyInterfaces", min: 1, "at least one interface must be healthy; use 1 or more") ?? d.MinHealthyInterfaces;
            var handshake = yaml.Duration(s, "handshakeMaxAge") ?? d.HandshakeMaxAge;
            if (handshake < MinHandshakeMaxAge)
                errors.Add(ConfigCodes.OutOfRange, s.Get("handshakeMaxAge")!, s.PathOf("handshakeMaxAge"),
                    $"{DurationText.Format(handshake)} is below the WireGuard rekey cycle (a handshake is renewed every ~120 s, keys expire after 180 s)",
                    "use 180s (REJECT_AFTER_TIME) or at least 135s");
            var rxStall = yaml.Duration(s, "rxStallAfter") ?? d.RxStallAfter;
            var bfd = d.Bfd;
            if (s.Get("bfd") is { } bfdNode && yaml.ScalarOf(bfdNode, s.PathOf("bfd")) is { } bfdText)
            {
                switch (bfdText)
                {
                    case "required": bfd = BfdRequirement.Required; break;
                    case "ignored": bfd = BfdRequirement.Ignored; break;
                    default:
                        errors.Add(ConfigCodes.InvalidValue, bfdNode, s.PathOf("bfd"), $"'{bfdText}' is not a BFD requirement", "write bfd: required or bfd: ignored");
                        break;
                }
            }
            var hold = d.HoldDown;
            if (s.Map("holdDown") is { } h)
            {
                hold = new HoldDown(yaml.Duration(h, "advertise", allowZero: true) ?? hold.Advertise, yaml.Duration(h, "withdraw", allowZero: true) ?? hold.Withdraw);
                h.ReportUnknown();
            }
            Dampening? damp = null;
            if (s.Map("dampening") is { } dm)
            {
                var std = Dampening.Standard;
                var halfLife = yaml.Duration(dm, "halfLife") ?? std.HalfLife;
                double perFlap = yaml.Number(dm, "penaltyPerFlap", min: 1) ?? std.PenaltyPerFlap;
                double suppress = yaml.Number(dm, "suppressAbove", min: 1) ?? std.SuppressAbove;
                double reuse = yaml.Number(dm, "reuseBelow", min: 1) ?? std.ReuseBelow;
                double max = yaml.Number(dm, "maxPenalty", min: 1) ?? std.MaxPenalty;
                if (reuse >= suppress)
                    errors.Add(ConfigCodes.Conflict, dm.Get("reuseBelow") ?? dm.Node, dm.PathOf("reuseBelow"), $"reuseBelow {reuse} is not below suppressAbove {suppress}",
                        "make reuseBelow smaller than suppressAbove, e.g. 800 and 2500");
                if (max <= suppress)
                    errors.Add(ConfigCodes.Conflict, dm.Get("maxPenalty") ?? dm.Node, dm.PathOf("maxPenalty"), $"maxPenalty {max} is not above suppressAbove {suppress}: a VIP could never be suppressed",
                        "make maxPenalty larger than suppressAbove, e.g. 6000");
                dm.ReportUnknown();
                damp = new Dampening(halfLife, perFlap, suppress, reuse, max);
            }
            var require = RoutingRequirements.None;
            if (s.Map("require") is { } rq)
            {
                int ospf = yaml.Int(rq, "ospfFullNeighbors", min: 0, "use 0 (no gate) or more") ?? 0;
                var bgp = rq.ListOf("bgpEstablished", (n, p) => yaml.AddressValue(n, p, "a BGP neighbor")).ToList();
                rq.ReportUnknown();
                require = new RoutingRequirements(ospf, bgp);
            }
            s.ReportUnknown();
            return new HealthPolicy(name, interval, fast, rise, fall, minHealthy, handshake, rxStall, bfd, hold, damp, require);
        }

        private VipConfig? Vip(YNode node, string path)
        {
            if (yaml.MapOf(node, path, fix: "each VIP is a mapping with name, prefix, policy, lease, interfaces") is not { } s) return null;
            string? name = s.RequiredScalar("name", "give the VIP a name, e.g. name: web");
            if (name is not null) CheckLabel(s.Get("name")!, s.PathOf("name"), name, "VIP name");
            var prefix = yaml.RequiredPrefix(s, "prefix", strict: true, "set the VIP as a host prefix, e.g. prefix: 203.0.113.10/32");
            if (prefix is { IsHost: false } p)
                errors.Add(ConfigCodes.InvalidPrefix, s.Get("prefix")!, s.PathOf("prefix"), $"{p} is not a host prefix; a VIP is one address",
                    $"write {p.Address}/{p.MaxLength}");
            string policy = s.Scalar("policy") ?? "default";
            string? lease = s.RequiredScalar("lease", "name the TUN interface overlayd holds for this VIP, e.g. lease: ovl-web");
            if (lease is not null) CheckIfName(s.Get("lease")!, s.PathOf("lease"), lease);
            var ifaces = s.ListOf("interfaces", (n, p) => yaml.ScalarOf(n, p)).ToList();
            for (int j = 0; j < ifaces.Count; j++)
                if (!ValueGrammar.IsInterfaceName(ifaces[j]!))
                    errors.Add(ConfigCodes.InvalidName, s.Get("interfaces")?.Items.ElementAtOrDefault(j), $"{s.PathOf("interfaces")}[{j}]",
                        $"'{ValueGrammar.Printable(ifaces[j]!)}' is not an interface name", "name one of the interfaces listed under interfaces:");
            if (s.Get("interfaces") is null || ifaces.Count == 0)
                errors.Add(ConfigCodes.MissingField, s.Get("interfaces") ?? s.Node, s.PathOf("interfaces"), "no interfaces decide this VIP's health",
                    "list the WireGuard interfaces whose health decides it, e.g. interfaces: [wg-e1-up1]");
            s.ReportUnknown();
            if (name is null || prefix is null || lease is null) return null;
            return new VipConfig(name, prefix.Value, policy, lease, ifaces);
        }

        private OwnedRoute? Route(YNode node, string path)
        {
            if (yaml.MapOf(node, path, fix: "each route is a mapping with prefix, dev, metric") is not { } s) return null;
            var prefix = yaml.RequiredPrefix(s, "prefix", strict: true, "set the destination, e.g. prefix: 10.20.0.0/16");
            string? dev = s.RequiredScalar("dev", "name the WireGuard interface the route points into, e.g. dev: wg-e1-up1");
            if (dev is not null) CheckIfName(s.Get("dev")!, s.PathOf("dev"), dev);
            int metric = yaml.Int(s, "metric", min: 0, "use a metric of 0 or more") ?? 0;
            s.ReportUnknown();
            if (prefix is null || dev is null) return null;
            return new OwnedRoute(prefix.Value, dev, metric);
        }

        private DrainConfig? Drain(YMap? s)
        {
            if (s is null) return DrainConfig.Default;
            string? file = s.Scalar("file");
            if (file is not null) CheckPath(s.Get("file")!, s.PathOf("file"), file, "/etc/overlay/drain");
            var timeout = yaml.Duration(s, "shutdownTimeout") ?? DrainConfig.Default.ShutdownTimeout;
            s.ReportUnknown();
            return new DrainConfig(file, timeout);
        }

        private void CheckIfName(YNode node, string path, string name)
        {
            if (name.Length == 0 || name.Length > MaxInterfaceNameLength)
                errors.Add(ConfigCodes.InvalidName, node, path, $"interface name '{ValueGrammar.Printable(name, 40)}' has {name.Length} characters; Linux allows 1 to {MaxInterfaceNameLength}",
                    "shorten it, e.g. wg-e1-up1");
            else if (!ValueGrammar.IsInterfaceName(name))
                errors.Add(ConfigCodes.InvalidName, node, path, $"'{ValueGrammar.Printable(name)}' is not a valid interface name", "use letters, digits, '-', '_' and '.' only, starting with a letter, digit or '_'");
        }

        // Names end up in logs, metrics labels and the control API: held to a grammar nothing downstream can misread.
        private void CheckLabel(YNode node, string path, string value, string what)
        {
            if (!ValueGrammar.IsLabel(value))
                errors.Add(ConfigCodes.InvalidName, node, path, $"'{ValueGrammar.Printable(value)}' is not a valid {what}", "use 1-63 letters, digits, '.', '_' and '-', starting with a letter or digit");
        }

        private void CheckPath(YNode node, string path, string value, string example)
        {
            if (!ValueGrammar.IsAbsolutePath(value, out var why))
                errors.Add(ConfigCodes.InvalidPath, node, path, $"'{ValueGrammar.Printable(value)}' {why}", $"write an absolute path of letters, digits and . _ @ + - between single '/', e.g. {example}");
        }

        /// <summary>"ADDRESS:PORT" or "[V6]:PORT" through the strict address parser; null when malformed.</summary>
        private static IPEndPoint? ParseEndpoint(string text)
        {
            int colon = text.LastIndexOf(':');
            if (colon <= 0) return null;
            var host = text.AsSpan(0, colon);
            bool bracketed = host.StartsWith("[") && host.EndsWith("]");
            if (bracketed) host = host[1..^1];
            if (!IpAddressText.TryParse(host, out var address) || bracketed != (address.AddressFamily == AddressFamily.InterNetworkV6)) return null;
            var portText = text.AsSpan(colon + 1);
            if (portText.Length is 0 or > 5 || portText[0] == '0' || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535) return null;
            return new IPEndPoint(address, port);
        }
    }

    // ---------------------------------------------------------------- semantics

    /// <summary>
    /// What the rules across entries see: the config, where each entry was written, and the names written even where
    /// the entry was left out for errors of its own (references to them are not reported again: one broken entry must
    /// not cascade into errors elsewhere).
    /// </summary>
    private sealed class Semantics(NodeConfig config, YNode root, DiagnosticList errors)
    {
        public NodeConfig Config { get; } = config;
        public DiagnosticList Errors { get; } = errors;
        public YNode? InterfaceNodes { get; } = Items(root, "interfaces");
        public YNode? VipNodes { get; } = Items(root, "vips");
        public YNode? RouteNodes { get; } = Items(root, "routes");

        /// <summary>Each interface name at its first index.</summary>
        public Dictionary<string, int> InterfaceNames { get; } = config.Interfaces.Select((iface, i) => (iface.Name, i))
            .DistinctBy(x => x.Name, StringComparer.Ordinal).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

        public HashSet<string> DeclaredInterfaces { get; } = (Items(root, "interfaces")?.Items ?? [])
            .Select(m => m.Field("name") is { Kind: YKind.Scalar } v ? v.Value : null)
            .OfType<string>().ToHashSet(StringComparer.Ordinal);

        public HashSet<string> DeclaredPolicies { get; } = (root.Field("policies")?.Pairs ?? [])
            .Where(p => p.Key.Kind == YKind.Scalar).Select(p => p.Key.Value).ToHashSet(StringComparer.Ordinal);

        /// <summary>"use one of: …" or "define it under interfaces:" for a reference to an interface that is not there.</summary>
        public string InterfaceFix() =>
            InterfaceNames.Count == 0 ? "define it under interfaces:" : $"use one of: {string.Join(", ", InterfaceNames.Keys.Order())}";
    }

    /// <summary>One rule per concern, each appending to the one error list (every error at once, as YARP's ConfigValidator does).</summary>
    private static readonly Action<Semantics>[] Rules = [InterfaceRules, VipRules, RouteRules];

    private static void Validate(NodeConfig c, YNode root, DiagnosticList errors)
    {
        var semantics = new Semantics(c, root, errors);
        foreach (var rule in Rules) rule(semantics);
    }

    /// <summary>Interfaces: unique names; the far end on this end's link.</summary>
    private static void InterfaceRules(Semantics s)
    {
        var (c, errors, ifaceNodes) = (s.Config, s.Errors, s.InterfaceNodes);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < c.Interfaces.Count; i++)
        {
            var iface = c.Interfaces[i];
            if (!seen.Add(iface.Name))
                errors.Add(ConfigCodes.DuplicateValue, Field(ifaceNodes, i, "name"), $"interfaces[{i}].name", $"interface '{iface.Name}' is defined twice", "give each WireGuard interface a unique name");
            if (iface.LocalAddress.Network.Contains(iface.PeerAddress) is false)
                errors.Add(ConfigCodes.Conflict, Field(ifaceNodes, i, "peerAddress"), $"interfaces[{i}].peerAddress",
                    $"{iface.PeerAddress} is outside this link's subnet {iface.LocalAddress.Network}", "use the far end's address on the same point-to-point subnet");
        }
    }

    /// <summary>VIPs: unique names, prefixes and leases; the policy and interfaces they name exist and can judge them.</summary>
    private static void VipRules(Semantics s)
    {
        var (c, errors, vipNodes, ifaceNames) = (s.Config, s.Errors, s.VipNodes, s.InterfaceNames);
        var vipNames = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new HashSet<IpPrefix>();
        var leases = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < c.Vips.Count; i++)
        {
            var vip = c.Vips[i];
            string at = $"vips[{i}]";
            if (!vipNames.Add(vip.Name))
                errors.Add(ConfigCodes.DuplicateValue, Field(vipNodes, i, "name"), at + ".name", $"VIP '{vip.Name}' is defined twice", "give each VIP a unique name");
            if (!prefixes.Add(vip.Prefix))
                errors.Add(ConfigCodes.DuplicateValue, Field(vipNodes, i, "prefix"), at + ".prefix", $"{vip.Prefix} is used by two VIPs", "advertise each VIP prefix once");
            if (!leases.Add(vip.Lease))
                errors.Add(ConfigCodes.DuplicateValue, Field(vipNodes, i, "lease"), at + ".lease", $"lease '{vip.Lease}' is used by two VIPs", "give each VIP its own TUN lease name");
            if (ifaceNames.ContainsKey(vip.Lease))
                errors.Add(ConfigCodes.Conflict, Field(vipNodes, i, "lease"), at + ".lease", $"lease '{vip.Lease}' has the name of a WireGuard interface", "pick a distinct name, e.g. ovl-" + vip.Name);
            if (!c.Policies.TryGetValue(vip.Policy, out var policy) && !s.DeclaredPolicies.Contains(vip.Policy))
            {
                errors.Add(ConfigCodes.UnknownReference, Field(vipNodes, i, "policy") ?? Item(vipNodes, i), at + ".policy", $"policy '{vip.Policy}' is not defined",
                    c.Policies.Count == 0 ? $"add policies: {{{vip.Policy}: {{}}}}" : $"use one of: {string.Join(", ", c.Policies.Keys.Order())}");
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int j = 0; j < vip.Interfaces.Count; j++)
            {
                var name = vip.Interfaces[j];
                var node = Item(Field(vipNodes, i, "interfaces") is { Kind: YKind.Sequence } list ? list : null, j);
                if (!seen.Add(name))
                    errors.Add(ConfigCodes.DuplicateValue, node, $"{at}.interfaces[{j}]", $"interface '{name}' is listed twice", "list each interface once");
                if (!ifaceNames.ContainsKey(name))
                {
                    if (!s.DeclaredInterfaces.Contains(name))
                        errors.Add(ConfigCodes.UnknownReference, node, $"{at}.interfaces[{j}]", $"interface '{name}' is not defined under interfaces",
                        s.InterfaceFix());
                }
                else if (policy is not null && c.Interfaces[ifaceNames[name]] is { ExpectsRxProgress: true } wg && policy.RxStallAfter <= wg.Keepalive * 2)
                    errors.Add(ConfigCodes.Conflict, Field(vipNodes, i, "policy") ?? node, at + ".policy",
                        $"policy '{policy.Name}' declares rx stalled after {DurationText.Format(policy.RxStallAfter)}, but '{name}' only sends a keepalive every {DurationText.Format(wg.Keepalive)}",
                        "make rxStallAfter longer than two keepalive intervals (one lost keepalive must not withdraw a VIP)");
            }
            if (policy is not null && vip.Interfaces.Count > 0 && policy.MinHealthyInterfaces > vip.Interfaces.Count)
                errors.Add(ConfigCodes.Conflict, Field(vipNodes, i, "interfaces") ?? Item(vipNodes, i), at + ".interfaces",
                    $"policy '{policy.Name}' needs {policy.MinHealthyInterfaces} healthy interfaces but this VIP has {vip.Interfaces.Count}",
                    "list more interfaces or lower minHealthyInterfaces");
        }
    }

    /// <summary>Owned routes: into a defined interface, each prefix once.</summary>
    private static void RouteRules(Semantics s)
    {
        var (c, errors, routeNodes, ifaceNames) = (s.Config, s.Errors, s.RouteNodes, s.InterfaceNames);
        var routePrefixes = new HashSet<IpPrefix>();
        for (int i = 0; i < c.Routes.Count; i++)
        {
            var r = c.Routes[i];
            if (!ifaceNames.ContainsKey(r.Dev) && !s.DeclaredInterfaces.Contains(r.Dev))
                errors.Add(ConfigCodes.UnknownReference, Field(routeNodes, i, "dev"), $"routes[{i}].dev", $"interface '{r.Dev}' is not defined under interfaces",
                    s.InterfaceFix());
            if (!routePrefixes.Add(r.Prefix))
                errors.Add(ConfigCodes.DuplicateValue, Field(routeNodes, i, "prefix"), $"routes[{i}].prefix", $"{r.Prefix} is listed twice", "own each kernel route once");
        }
    }

    private static YNode? Items(YNode root, string key) => root.Field(key) is { Kind: YKind.Sequence } list ? list : null;

    private static YNode? Item(YNode? list, int i) => list is not null && i < list.Items.Count ? list.Items[i] : null;

    private static YNode? Field(YNode? list, int i, string key) => Item(list, i) is { } item ? item.Field(key) ?? item : null;

    // ---------------------------------------------------------------- helpers

    /// <summary>
    /// The shared YAML accessor worded for overlayd.yaml (CFG codes, every setting named by its YAML path), and the
    /// file's value grammars: durations, numbers, ports, prefixes and addresses.
    /// </summary>
    private sealed class ConfigYaml(DiagnosticList errors) : YamlAccess
    {
        public override void WrongType(YNode node, string name, YShape expected, string? key, string? fix)
        {
            switch (expected)
            {
                case YShape.Mapping:
                    errors.Add(ConfigCodes.WrongType, node, name, "expected a mapping", fix ?? $"write '{key}:' followed by indented settings");
                    break;
                case YShape.List:
                    errors.Add(ConfigCodes.WrongType, node, name, "expected a list", fix ?? $"write '{key}:' followed by '- ' items, or [a, b]");
                    break;
                default:
                    errors.Add(ConfigCodes.WrongType, node, name, "expected a single value", "write a plain value, not a list or mapping (quote values that start with '[' or '{', e.g. \"[::1]:9474\")");
                    break;
            }
        }

        public override void KeyNotScalar(YMap map, YNode key) =>
            errors.Add(ConfigCodes.UnknownKey, key, map.Name, "keys must be plain names", "write key: value");

        // Once a syntax error (YamlDotNet's representation model refuses the file); now located at the second key with its path.
        public override void DuplicateKey(YMap map, YNode key, YNode first) =>
            errors.Add(ConfigCodes.Syntax, key, map.PathOf(key.Value), $"'{key.Value}' is set twice", $"remove one; the first is at line {first.At.Line}");

        public override void UnknownKey(YMap map, YNode key, string? nearest) =>
            errors.Add(ConfigCodes.UnknownKey, key, map.PathOf(key.Value), $"unknown key '{key.Value}'",
                nearest is not null ? $"did you mean '{nearest}'?" : $"remove it; valid keys here: {string.Join(", ", map.KnownKeys.Order())}");

        /// <param name="context">The fix.</param>
        public override void MissingKey(YMap map, string key, string context) =>
            errors.Add(ConfigCodes.MissingField, map.Node, map.PathOf(key), $"'{key}' is required", context);

        public TimeSpan? Duration(YMap s, string key, bool allowZero = false)
        {
            if (s.Get(key) is not { } n || ScalarOf(n, s.PathOf(key)) is not { } text) return null;
            if (!DurationText.TryParse(text, out var d, out var error))
            {
                errors.Add(ConfigCodes.InvalidValue, n, s.PathOf(key), error!, "write a number with a unit: 150ms, 3s, 2m");
                return null;
            }
            if (d == TimeSpan.Zero && !allowZero)
            {
                errors.Add(ConfigCodes.OutOfRange, n, s.PathOf(key), "must be longer than 0", "write a positive duration, e.g. 1s");
                return null;
            }
            return d;
        }

        public int? Int(YMap s, string key, int min, string fix)
        {
            if (s.Get(key) is not { } n || ScalarOf(n, s.PathOf(key)) is not { } text) return null;
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            {
                errors.Add(ConfigCodes.InvalidValue, n, s.PathOf(key), $"'{text}' is not a whole number", fix);
                return null;
            }
            if (v < min) { errors.Add(ConfigCodes.OutOfRange, n, s.PathOf(key), $"{v} is below the minimum {min}", fix); return null; }
            return v;
        }

        public double? Number(YMap s, string key, double min)
        {
            if (s.Get(key) is not { } n || ScalarOf(n, s.PathOf(key)) is not { } text) return null;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                errors.Add(ConfigCodes.InvalidValue, n, s.PathOf(key), $"'{text}' is not a number", "write a plain number, e.g. 1000");
                return null;
            }
            if (v < min) { errors.Add(ConfigCodes.OutOfRange, n, s.PathOf(key), $"{v} is below the minimum {min}", $"use {min} or more"); return null; }
            return v;
        }

        public int? Port(YMap s, string key, bool allowZero = false)
        {
            if (s.Get(key) is not { } n || ScalarOf(n, s.PathOf(key)) is not { } text) return null;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v > 65535 || (v == 0 && !allowZero))
            {
                errors.Add(ConfigCodes.OutOfRange, n, s.PathOf(key), $"'{text}' is not a port number", allowZero ? "use 0..65535" : "use 1..65535");
                return null;
            }
            return v;
        }

        public bool? Bool(YMap s, string key)
        {
            if (s.Get(key) is not { } n || ScalarOf(n, s.PathOf(key)) is not { } text) return null;
            switch (text)
            {
                case "true": return true;
                case "false": return false;
                default:
                    errors.Add(ConfigCodes.InvalidValue, n, s.PathOf(key), $"'{text}' is not true or false", $"write {key}: true or {key}: false");
                    return null;
            }
        }

        public IpPrefix? RequiredPrefix(YMap s, string key, bool strict, string fix) =>
            s.Required(key, fix) is { } n ? PrefixValue(n, s.PathOf(key), strict, requireLength: true) : null;

        public IpPrefix? PrefixValue(YNode n, string path, bool strict, bool requireLength = true)
        {
            if (ScalarOf(n, path) is not { } text) return null;
            if (!IpPrefix.TryParse(text, strict, out var p, out var error))
            {
                errors.Add(ConfigCodes.InvalidPrefix, n, path, error!, "write a CIDR prefix, e.g. 10.0.0.0/8 or 2001:db8::/32");
                return null;
            }
            if (requireLength && !text.Contains('/'))
            {
                errors.Add(ConfigCodes.InvalidPrefix, n, path, $"'{text}' has no prefix length", $"write {text}/{p.MaxLength} for one address or the subnet length");
                return null;
            }
            return p;
        }

        public IPAddress? RequiredAddress(YMap s, string key, string fix) =>
            s.Required(key, fix) is { } n ? AddressValue(n, s.PathOf(key)) : null;

        /// <param name="hostRole">What the address is, when unspecified, loopback, multicast and broadcast addresses cannot be it.</param>
        public IPAddress? AddressValue(YNode n, string path, string? hostRole = null)
        {
            if (ScalarOf(n, path) is not { } text) return null;
            if (!IpAddressText.TryParse(text, out var a, out var why))
            {
                errors.Add(ConfigCodes.InvalidAddress, n, path, why!.Contains("leading zero", StringComparison.Ordinal) ? $"'{ValueGrammar.Printable(text)}': {why}" : $"'{ValueGrammar.Printable(text)}' is not an IP address",
                    "write a bare address, e.g. 10.255.1.2 (no /length)");
                return null;
            }
            if (hostRole is not null && IpAddressText.SpecialKind(a) is { } kind)
            {
                errors.Add(ConfigCodes.InvalidAddress, n, path, $"{a} is a {kind} address and cannot be {hostRole}", "use a unicast address");
                return null;
            }
            return a;
        }
    }
}

/// <summary>The overlayd.yaml reader's way into <see cref="DiagnosticList"/>: an error at a YAML node, with its setting's path and the fix.</summary>
internal static class NodeConfigDiagnostics
{
    public static void Add(this DiagnosticList errors, string code, YNode? node, string path, string message, string fix) =>
        errors.Add(code, node?.At ?? new SourceLocation(errors.File, 1, 1), path, message, fix);

    public static void Add(this DiagnosticList errors, string code, SourceLocation at, string path, string message, string fix) =>
        errors.At(code, at.Line, at.Column, path, message, fix);

    public static void At(this DiagnosticList errors, string code, int line, int column, string path, string message, string fix) =>
        errors.Error(code, new SourceLocation(errors.File, Math.Max(line, 1), Math.Max(column, 1)), message, fix, path);
}
