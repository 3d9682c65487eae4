using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using Overlay.Core.Model;

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

    /// <summary>Deepest nesting accepted; the file needs 5 levels. Bounded before the (recursive) tree is built.</summary>
    public const int MaxDepth = 64;

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
        var stream = new YamlStream();
        try
        {
            // YamlStream builds its tree recursively: a hostile depth would overflow the stack, which nothing can catch.
            if (TooDeep(text) is { } deep)
            {
                errors.At(ConfigCodes.Syntax, (int)deep.Line, (int)deep.Column, "", $"the YAML is nested more than {MaxDepth} levels deep here", "overlayd.yaml needs only a few levels; look for unbalanced '[' or '{'");
                return new(null, errors.ToSortedList());
            }
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            // The parser stops at the first syntax error; nothing after it can be trusted.
            var msg = ex.InnerException?.Message ?? ex.Message;
            int colon = msg.IndexOf("): ", StringComparison.Ordinal);
            if (msg.StartsWith('(') && colon > 0) msg = msg[(colon + 3)..];
            errors.At(ConfigCodes.Syntax, (int)ex.Start.Line, (int)ex.Start.Column, "", msg, "fix the YAML syntax at this position (indentation, quoting, duplicate keys)");
            return new(null, errors.ToSortedList());
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner fails this way, without a position, on some malformed flow collections and tags
            // (found by tests/Overlay.Fuzz.Tests).
            errors.At(ConfigCodes.Syntax, 1, 1, "", "the YAML could not be read: " + ex.Message.Split('\n')[0],
                "fix the YAML syntax (unclosed '[' or '{', a tag such as '!x' that is not a URI)");
            return new(null, errors.ToSortedList());
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var node = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
            errors.Add(ConfigCodes.Syntax, node, "", "the file is not a YAML mapping", "start with 'node: NAME' and the sections of docs/overlayd-config.md");
            return new(null, errors.ToSortedList());
        }
        if (stream.Documents.Count > 1)
            errors.Add(ConfigCodes.Syntax, stream.Documents[1].RootNode, "", "more than one YAML document", "keep a single document per file (remove the '---' separator)");

        var config = new Parser(errors).Root(root);
        if (config is not null) Validate(config, root, errors);
        return errors.Count == 0 ? new(config, []) : new(null, errors.ToSortedList());
    }

    /// <summary>Where the nesting first exceeds <see cref="MaxDepth"/>, read from parser events (no recursion); null when it never does.</summary>
    private static Mark? TooDeep(string text)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    if (++depth > MaxDepth) return parser.Current!.Start;
                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- structure

    private sealed class Parser(DiagnosticList errors)
    {
        public NodeConfig? Root(YamlMappingNode rootNode)
        {
            var root = new Section(rootNode, "", errors);
            string? node = root.RequiredString("node", "set 'node:' to this node's inventory name, e.g. node: dc1-edge1");
            if (node is not null && node.Trim().Length == 0)
                errors.Add(ConfigCodes.MissingField, root.Node("node"), "node", "the node name is empty", "set 'node:' to this node's inventory name");
            else if (node is not null) CheckLabel(root.Node("node")!, "node", node, "node name");
            string? site = root.OptionalString("site");
            if (site is not null) CheckLabel(root.Node("site")!, "site", site, "site");
            var api = Api(root.Mapping("api"));
            var metrics = Metrics(root.Mapping("metrics"));
            var frr = Frr(root.Mapping("frr"));
            var interfaces = root.List("interfaces", (n, p) => Interface(n, p));
            var policies = Policies(root.Mapping("policies"));
            var vips = root.List("vips", (n, p) => Vip(n, p));
            var routes = root.List("routes", (n, p) => Route(n, p));
            var drain = Drain(root.Mapping("drain"));
            string? inventory = root.OptionalString("inventory");
            if (inventory is not null) CheckPath(root.Node("inventory")!, "inventory", inventory, "/etc/overlay/inventory.yaml");
            bool transit = root.Bool("transit") ?? false;
            root.ReportUnknown();
            if (node is null || api is null || frr is null || drain is null) return null;
            return new NodeConfig(node, site, api, metrics, frr, interfaces, policies, vips, routes, drain, inventory) { Transit = transit };
        }

        private ApiConfig? Api(Section? s)
        {
            if (s is null) return new ApiConfig(ApiConfig.DefaultSocket, ApiConfig.DefaultMode, null);
            string socket = s.OptionalString("socket") ?? ApiConfig.DefaultSocket;
            if (s.Node("socket") is { } socketNode) CheckPath(socketNode, s.PathOf("socket"), socket, ApiConfig.DefaultSocket);
            int mode = ApiConfig.DefaultMode;
            if (s.Node("mode") is { } modeNode)
            {
                var text = s.Scalar(modeNode, "mode");
                if (text is not null && !(text.Length is 3 or 4 && text.All(c => c is >= '0' and <= '7')))
                    errors.Add(ConfigCodes.InvalidValue, modeNode, s.PathOf("mode"), $"'{text}' is not an octal file mode", "write it quoted in octal, e.g. mode: \"0660\"");
                else if (text is not null)
                {
                    mode = Convert.ToInt32(text, 8);
                    if ((mode & 0b000_000_111) != 0)
                        errors.Add(ConfigCodes.Unsafe, modeNode, s.PathOf("mode"), $"mode {text} lets every local user reconfigure routing", "drop the 'other' bits, e.g. \"0660\" with a group");
                }
            }
            string? group = s.OptionalString("group");
            if (group is not null && !ValueGrammar.IsGroupName(group))
                errors.Add(ConfigCodes.InvalidName, s.Node("group"), s.PathOf("group"), $"'{ValueGrammar.Printable(group)}' is not a group name", "use 1-32 lowercase letters, digits, '_' and '-', starting with a letter or '_', e.g. group: overlay");
            s.ReportUnknown();
            return new ApiConfig(socket, mode, group);
        }

        private MetricsConfig? Metrics(Section? s)
        {
            if (s is null) return null;
            var listenNode = s.Node("listen");
            string? listen = s.RequiredString("listen", "set 'listen: 127.0.0.1:9474' or remove the metrics section");
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

        private FrrConfig? Frr(Section? s)
        {
            var defaults = new FrrConfig("", "/var/run/frr", new FrrGrpcConfig("127.0.0.1", 50051, 50052, 50053));
            if (s is null) return defaults;
            string pathspace = s.OptionalString("pathspace") ?? "";
            if (pathspace.Contains('/'))
                errors.Add(ConfigCodes.InvalidName, s.Node("pathspace"), s.PathOf("pathspace"), $"'{ValueGrammar.Printable(pathspace)}' contains '/'", "write the bare FRR -N name, e.g. pathspace: edge1");
            else if (!ValueGrammar.IsPathspace(pathspace))
                errors.Add(ConfigCodes.InvalidName, s.Node("pathspace"), s.PathOf("pathspace"), $"'{ValueGrammar.Printable(pathspace)}' is not an FRR -N name", "use 1-32 letters, digits, '_' and '-', e.g. pathspace: edge1");
            string vtyDir = s.OptionalString("vtyDir") ?? defaults.VtyDir;
            if (s.Node("vtyDir") is { } vtyNode) CheckPath(vtyNode, s.PathOf("vtyDir"), vtyDir, "/var/run/frr");
            var grpc = defaults.Grpc;
            if (s.Mapping("grpc") is { } g)
            {
                string host = g.OptionalString("host") ?? grpc.Host;
                if (g.Node("host") is { } hostNode)
                {
                    // The client dials this address; a name or a mangled number could send FRR's commands elsewhere.
                    if (!IpAddressText.TryParse(host, out var hostAddress, out var why))
                        errors.Add(ConfigCodes.InvalidAddress, hostNode, g.PathOf("host"), $"'{ValueGrammar.Printable(host)}' is not an IP address ({why})", "write FRR's gRPC address, e.g. host: 127.0.0.1");
                    else if (IpAddressText.SpecialKind(hostAddress) is "unspecified" or "multicast" or "broadcast")
                        errors.Add(ConfigCodes.InvalidAddress, hostNode, g.PathOf("host"), $"{host} is a {IpAddressText.SpecialKind(hostAddress)} address, not one FRR listens on", "write host: 127.0.0.1");
                }
                grpc = new FrrGrpcConfig(
                    host,
                    g.Port("zebra") ?? grpc.Zebra,
                    g.Port("staticd") ?? grpc.Staticd,
                    g.Port("bfdd") ?? grpc.Bfdd);
                g.ReportUnknown();
            }
            s.ReportUnknown();
            return new FrrConfig(pathspace, vtyDir, grpc);
        }

        private WgInterfaceConfig? Interface(YamlNode node, string path)
        {
            if (Section.Of(node, path, errors, "each interface is a mapping with name, peer, peerPublicKey, …") is not { } s) return null;
            string? name = s.RequiredString("name", "give the WireGuard interface a name, e.g. name: wg-e1-up1");
            if (name is not null) CheckIfName(s.Node("name")!, s.PathOf("name"), name);
            string? peer = s.RequiredString("peer", "name the inventory node at the other end, e.g. peer: upstream1");
            if (peer is not null) CheckLabel(s.Node("peer")!, s.PathOf("peer"), peer, "peer name");
            WireGuardKey key = default;
            string? keyText = s.RequiredString("peerPublicKey", "set the peer's public key (44 characters of base64, 'wg pubkey')");
            bool keyOk = keyText is not null && WireGuardKey.TryParse(keyText, out key, out _);
            if (keyText is not null && !keyOk)
                errors.Add(ConfigCodes.InvalidValue, s.Node("peerPublicKey"), s.PathOf("peerPublicKey"), "not a WireGuard public key",
                    "paste the peer's public key as printed by 'wg pubkey' (44 characters of base64 ending in '=')");
            else if (keyOk && key.IsLowOrder)
            {
                errors.Add(ConfigCodes.InvalidValue, s.Node("peerPublicKey"), s.PathOf("peerPublicKey"), $"the key is {WireGuardKey.LowOrderMessage}", "paste the peer's public key as printed by 'wg pubkey'");
                keyOk = false;
            }
            int listenPort = s.Port("listenPort", allowZero: true) ?? 0;
            var keepalive = s.Duration("keepalive", allowZero: true) ?? TimeSpan.Zero;
            if (keepalive > TimeSpan.FromSeconds(65535))
                errors.Add(ConfigCodes.OutOfRange, s.Node("keepalive"), s.PathOf("keepalive"), "keepalive is longer than WireGuard allows (65535 s)", "use e.g. keepalive: 25s");
            var local = s.RequiredPrefix("localAddress", strict: false, "set this end's overlay address with its length, e.g. 10.255.1.1/31");
            if (local is { } l && IpAddressText.SpecialKind(l.Address) is { } localKind)
            {
                errors.Add(ConfigCodes.InvalidAddress, s.Node("localAddress"), s.PathOf("localAddress"), $"{l.Address} is a {localKind} address and cannot be an interface address", "use the link's unicast address, e.g. 10.255.1.1/31");
                local = null;
            }
            var peerAddr = s.RequiredAddress("peerAddress", "set the far end's overlay address, e.g. 10.255.1.2");
            if (peerAddr is not null && IpAddressText.SpecialKind(peerAddr) is { } peerKind)
            {
                errors.Add(ConfigCodes.InvalidAddress, s.Node("peerAddress"), s.PathOf("peerAddress"), $"{peerAddr} is a {peerKind} address and cannot be the far end of a link", "use the far end's unicast address, e.g. 10.255.1.2");
                peerAddr = null;
            }
            bool bfd = s.Bool("bfd") ?? false;
            var gate = s.List("gate", (n, p) => s.PrefixValue(n, p, strict: true)).Select(x => x!.Value).ToList();
            if (s.Node("gate") is null)
                errors.Add(ConfigCodes.MissingField, s.Self, s.PathOf("gate"), "no gate (AllowedIPs) is set", "list the prefixes the peer may send from, e.g. gate: [10.0.0.0/8, 224.0.0.5/32]");
            var watchdog = s.Mapping("watchdog") is { } w ? Watchdog(w) : null;
            s.ReportUnknown();
            if (name is null || peer is null || !keyOk || local is null || peerAddr is null) return null;
            // The prefix keeps only the network; the interface address is the one written before the '/'.
            string localText = ((YamlScalarNode)s.Node("localAddress")!).Value!.Trim();
            IpAddressText.TryParse(localText.AsSpan(0, localText.IndexOf('/')), out var localAddress);
            return new WgInterfaceConfig(name, peer, key, listenPort, keepalive, new TunnelAddress(localAddress, local.Value.Length), peerAddr, bfd, gate) { Watchdog = watchdog };
        }

        /// <summary>The session watchdog of an interface whose peer is an anycast endpoint (docs/overlayd-config.md).</summary>
        private SessionWatchdogConfig Watchdog(Section w)
        {
            var d = SessionWatchdogConfig.Standard;
            var interval = w.Duration("interval") ?? d.Interval;
            int misses = w.Int("misses", min: 1, "misses counts unanswered probe intervals before a reset; use 1 or more, e.g. 3") ?? d.Misses;
            var backoff = w.Duration("backoff") ?? d.Backoff;
            var maxBackoff = w.Duration("maxBackoff") ?? d.MaxBackoff;
            // Below 10 ms the probes are scheduling noise; above 10 s the watchdog is slower than WireGuard's own 15 s.
            if (interval < TimeSpan.FromMilliseconds(10) || interval > TimeSpan.FromSeconds(10))
                errors.Add(ConfigCodes.OutOfRange, w.Node("interval"), w.PathOf("interval"), $"interval {DurationText.Format(interval)} is outside 10ms..10s",
                    "probe every 100ms (the default) or a few hundred ms on slow links");
            if (misses > 100)
                errors.Add(ConfigCodes.OutOfRange, w.Node("misses"), w.PathOf("misses"), $"misses {misses} is above 100", "use a few, e.g. 3 (misses × interval is the detection time)");
            if (backoff < interval)
                errors.Add(ConfigCodes.Conflict, w.Node("backoff") ?? w.Self, w.PathOf("backoff"), $"backoff {DurationText.Format(backoff)} is shorter than interval {DurationText.Format(interval)}",
                    "make backoff at least one interval (default 250ms): a reset needs a handshake round trip to show");
            if (maxBackoff < backoff || maxBackoff > TimeSpan.FromHours(1))
                errors.Add(ConfigCodes.OutOfRange, w.Node("maxBackoff") ?? w.Self, w.PathOf("maxBackoff"), $"maxBackoff {DurationText.Format(maxBackoff)} is not within backoff..1h",
                    "use e.g. maxBackoff: 30s (the longest wait between resets while the far end is down)");
            w.ReportUnknown();
            return new SessionWatchdogConfig(interval, misses, backoff, maxBackoff);
        }

        private Dictionary<string, HealthPolicy> Policies(Section? s)
        {
            var result = new Dictionary<string, HealthPolicy>(StringComparer.Ordinal);
            if (s is null) return result;
            foreach (var (keyNode, value) in s.Entries())
            {
                var name = keyNode.Value ?? "";
                s.MarkKnown(name);
                if (!ValueGrammar.IsLabel(name))
                {
                    errors.Add(ConfigCodes.InvalidName, keyNode, s.PathOf(ValueGrammar.Printable(name)), $"'{ValueGrammar.Printable(name)}' is not a policy name", "use 1-63 letters, digits, '.', '_' and '-'");
                    continue;
                }
                if (Policy(name, value, s.PathOf(name)) is { } p) result[name] = p;
            }
            return result;
        }

        private HealthPolicy? Policy(string name, YamlNode node, string path)
        {
            if (Section.Of(node, path, errors, "a policy is a mapping of settings (interval, rise, fall, …)") is not { } s) return null;
            var d = HealthPolicy.Default(name);
            var interval = s.Duration("interval") ?? d.Interval;
            var fast = s.Duration("fastInterval") ?? d.FastInterval;
            if (fast > interval)
                errors.Add(ConfigCodes.Conflict, s.Node("fastInterval") ?? s.Self, s.PathOf("fastInterval"),
                    $"fastInterval {DurationText.Format(fast)} is longer than interval {DurationText.Format(interval)}",
                    "make fastInterval shorter than interval: it is the re-check rate while a change is pending");
            int rise = s.Int("rise", min: 1, "rise counts consecutive healthy evaluations; use 1 or more") ?? d.Rise;
            int fall = s.Int("fall", min: 1, "fall counts consecutive unhealthy evaluations; use 1 or more") ?? d.Fall;
            int minHealthy = s.Int("minHealthyInterfaces", min: 1, "at least one interface must be healthy; use 1 or more") ?? d.MinHealthyInterfaces;
            var handshake = s.Duration("handshakeMaxAge") ?? d.HandshakeMaxAge;
            if (handshake < MinHandshakeMaxAge)
                errors.Add(ConfigCodes.OutOfRange, s.Node("handshakeMaxAge")!, s.PathOf("handshakeMaxAge"),
                    $"{DurationText.Format(handshake)} is below the WireGuard rekey cycle (a handshake is renewed every ~120 s, keys expire after 180 s)",
                    "use 180s (REJECT_AFTER_TIME) or at least 135s");
            var rxStall = s.Duration("rxStallAfter") ?? d.RxStallAfter;
            var bfd = d.Bfd;
            if (s.Node("bfd") is { } bfdNode && s.Scalar(bfdNode, "bfd") is { } bfdText)
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
            if (s.Mapping("holdDown") is { } h)
            {
                hold = new HoldDown(h.Duration("advertise", allowZero: true) ?? hold.Advertise, h.Duration("withdraw", allowZero: true) ?? hold.Withdraw);
                h.ReportUnknown();
            }
            Dampening? damp = null;
            if (s.Mapping("dampening") is { } dm)
            {
                var std = Dampening.Standard;
                var halfLife = dm.Duration("halfLife") ?? std.HalfLife;
                double perFlap = dm.Number("penaltyPerFlap", min: 1) ?? std.PenaltyPerFlap;
                double suppress = dm.Number("suppressAbove", min: 1) ?? std.SuppressAbove;
                double reuse = dm.Number("reuseBelow", min: 1) ?? std.ReuseBelow;
                double max = dm.Number("maxPenalty", min: 1) ?? std.MaxPenalty;
                if (reuse >= suppress)
                    errors.Add(ConfigCodes.Conflict, dm.Node("reuseBelow") ?? dm.Self, dm.PathOf("reuseBelow"), $"reuseBelow {reuse} is not below suppressAbove {suppress}",
                        "make reuseBelow smaller than suppressAbove, e.g. 800 and 2500");
                if (max <= suppress)
                    errors.Add(ConfigCodes.Conflict, dm.Node("maxPenalty") ?? dm.Self, dm.PathOf("maxPenalty"), $"maxPenalty {max} is not above suppressAbove {suppress}: a VIP could never be suppressed",
                        "make maxPenalty larger than suppressAbove, e.g. 6000");
                dm.ReportUnknown();
                damp = new Dampening(halfLife, perFlap, suppress, reuse, max);
            }
            var require = RoutingRequirements.None;
            if (s.Mapping("require") is { } rq)
            {
                int ospf = rq.Int("ospfFullNeighbors", min: 0, "use 0 (no gate) or more") ?? 0;
                var bgp = rq.List("bgpEstablished", (n, p) => rq.AddressValue(n, p, "a BGP neighbor")).ToList();
                rq.ReportUnknown();
                require = new RoutingRequirements(ospf, bgp);
            }
            s.ReportUnknown();
            return new HealthPolicy(name, interval, fast, rise, fall, minHealthy, handshake, rxStall, bfd, hold, damp, require);
        }

        private VipConfig? Vip(YamlNode node, string path)
        {
            if (Section.Of(node, path, errors, "each VIP is a mapping with name, prefix, policy, lease, interfaces") is not { } s) return null;
            string? name = s.RequiredString("name", "give the VIP a name, e.g. name: web");
            if (name is not null) CheckLabel(s.Node("name")!, s.PathOf("name"), name, "VIP name");
            var prefix = s.RequiredPrefix("prefix", strict: true, "set the VIP as a host prefix, e.g. prefix: 203.0.113.10/32");
            if (prefix is { IsHost: false } p)
                errors.Add(ConfigCodes.InvalidPrefix, s.Node("prefix")!, s.PathOf("prefix"), $"{p} is not a host prefix; a VIP is one address",
                    $"write {p.Address}/{p.MaxLength}");
            string policy = s.OptionalString("policy") ?? "default";
            string? lease = s.RequiredString("lease", "name the TUN interface overlayd holds for this VIP, e.g. lease: ovl-web");
            if (lease is not null) CheckIfName(s.Node("lease")!, s.PathOf("lease"), lease);
            var ifaces = s.List("interfaces", (n, p) => s.Scalar(n, p)).ToList();
            for (int j = 0; j < ifaces.Count; j++)
                if (!ValueGrammar.IsInterfaceName(ifaces[j]!))
                    errors.Add(ConfigCodes.InvalidName, (s.Node("interfaces") as YamlSequenceNode)?.Children.ElementAtOrDefault(j), $"{s.PathOf("interfaces")}[{j}]",
                        $"'{ValueGrammar.Printable(ifaces[j]!)}' is not an interface name", "name one of the interfaces listed under interfaces:");
            if (s.Node("interfaces") is null || ifaces.Count == 0)
                errors.Add(ConfigCodes.MissingField, s.Node("interfaces") ?? s.Self, s.PathOf("interfaces"), "no interfaces decide this VIP's health",
                    "list the WireGuard interfaces whose health decides it, e.g. interfaces: [wg-e1-up1]");
            s.ReportUnknown();
            if (name is null || prefix is null || lease is null) return null;
            return new VipConfig(name, prefix.Value, policy, lease, ifaces);
        }

        private OwnedRoute? Route(YamlNode node, string path)
        {
            if (Section.Of(node, path, errors, "each route is a mapping with prefix, dev, metric") is not { } s) return null;
            var prefix = s.RequiredPrefix("prefix", strict: true, "set the destination, e.g. prefix: 10.20.0.0/16");
            string? dev = s.RequiredString("dev", "name the WireGuard interface the route points into, e.g. dev: wg-e1-up1");
            if (dev is not null) CheckIfName(s.Node("dev")!, s.PathOf("dev"), dev);
            int metric = s.Int("metric", min: 0, "use a metric of 0 or more") ?? 0;
            s.ReportUnknown();
            if (prefix is null || dev is null) return null;
            return new OwnedRoute(prefix.Value, dev, metric);
        }

        private DrainConfig? Drain(Section? s)
        {
            if (s is null) return DrainConfig.Default;
            string? file = s.OptionalString("file");
            if (file is not null) CheckPath(s.Node("file")!, s.PathOf("file"), file, "/etc/overlay/drain");
            var timeout = s.Duration("shutdownTimeout") ?? DrainConfig.Default.ShutdownTimeout;
            s.ReportUnknown();
            return new DrainConfig(file, timeout);
        }

        private void CheckIfName(YamlNode node, string path, string name)
        {
            if (name.Length == 0 || name.Length > MaxInterfaceNameLength)
                errors.Add(ConfigCodes.InvalidName, node, path, $"interface name '{ValueGrammar.Printable(name, 40)}' has {name.Length} characters; Linux allows 1 to {MaxInterfaceNameLength}",
                    "shorten it, e.g. wg-e1-up1");
            else if (!ValueGrammar.IsInterfaceName(name))
                errors.Add(ConfigCodes.InvalidName, node, path, $"'{ValueGrammar.Printable(name)}' is not a valid interface name", "use letters, digits, '-', '_' and '.' only, starting with a letter, digit or '_'");
        }

        // Names end up in logs, metrics labels and the control API: held to a grammar nothing downstream can misread.
        private void CheckLabel(YamlNode node, string path, string value, string what)
        {
            if (!ValueGrammar.IsLabel(value))
                errors.Add(ConfigCodes.InvalidName, node, path, $"'{ValueGrammar.Printable(value)}' is not a valid {what}", "use 1-63 letters, digits, '.', '_' and '-', starting with a letter or digit");
        }

        private void CheckPath(YamlNode node, string path, string value, string example)
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
    private sealed class Semantics(NodeConfig config, YamlMappingNode root, DiagnosticList errors)
    {
        public NodeConfig Config { get; } = config;
        public DiagnosticList Errors { get; } = errors;
        public YamlSequenceNode? InterfaceNodes { get; } = Items(root, "interfaces");
        public YamlSequenceNode? VipNodes { get; } = Items(root, "vips");
        public YamlSequenceNode? RouteNodes { get; } = Items(root, "routes");

        /// <summary>Each interface name at its first index.</summary>
        public Dictionary<string, int> InterfaceNames { get; } = config.Interfaces.Select((iface, i) => (iface.Name, i))
            .DistinctBy(x => x.Name, StringComparer.Ordinal).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

        public HashSet<string> DeclaredInterfaces { get; } = (Items(root, "interfaces")?.Children ?? []).OfType<YamlMappingNode>()
            .Select(m => m.Children.TryGetValue(new YamlScalarNode("name"), out var v) ? (v as YamlScalarNode)?.Value : null)
            .OfType<string>().ToHashSet(StringComparer.Ordinal);

        public HashSet<string> DeclaredPolicies { get; } = root.Children.TryGetValue(new YamlScalarNode("policies"), out var pn) && pn is YamlMappingNode pm
            ? pm.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);

        /// <summary>"use one of: …" or "define it under interfaces:" for a reference to an interface that is not there.</summary>
        public string InterfaceFix() =>
            InterfaceNames.Count == 0 ? "define it under interfaces:" : $"use one of: {string.Join(", ", InterfaceNames.Keys.Order())}";
    }

    /// <summary>One rule per concern, each appending to the one error list (every error at once, as YARP's ConfigValidator does).</summary>
    private static readonly Action<Semantics>[] Rules = [InterfaceRules, VipRules, RouteRules];

    private static void Validate(NodeConfig c, YamlMappingNode root, DiagnosticList errors)
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
                var node = Item(Field(vipNodes, i, "interfaces") as YamlSequenceNode, j);
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

    private static YamlSequenceNode? Items(YamlMappingNode root, string key) =>
        root.Children.TryGetValue(new YamlScalarNode(key), out var n) ? n as YamlSequenceNode : null;

    private static YamlNode? Item(YamlSequenceNode? seq, int i) => seq is not null && i < seq.Children.Count ? seq.Children[i] : null;

    private static YamlNode? Field(YamlSequenceNode? seq, int i, string key) =>
        Item(seq, i) is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : Item(seq, i);

    // ---------------------------------------------------------------- helpers

    /// <summary>A mapping being read: remembers which keys were asked for, so the rest can be reported as unknown.</summary>
    private sealed class Section
    {
        private readonly YamlMappingNode _node;
        private readonly string _path;
        private readonly DiagnosticList _errors;
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);

        public Section(YamlMappingNode node, string path, DiagnosticList errors) { _node = node; _path = path; _errors = errors; }

        public YamlNode Self => _node;

        public static Section? Of(YamlNode node, string path, DiagnosticList errors, string fix)
        {
            if (node is YamlMappingNode m) return new Section(m, path, errors);
            errors.Add(ConfigCodes.WrongType, node, path, "expected a mapping", fix);
            return null;
        }

        public string PathOf(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

        public void MarkKnown(string key) => _known.Add(key);

        public IEnumerable<(YamlScalarNode Key, YamlNode Value)> Entries()
        {
            foreach (var (k, v) in _node.Children)
            {
                if (k is YamlScalarNode sk) yield return (sk, v);
                else _errors.Add(ConfigCodes.UnknownKey, k, _path, "keys must be plain names", "write key: value");
            }
        }

        public YamlNode? Node(string key)
        {
            _known.Add(key);
            return _node.Children.TryGetValue(new YamlScalarNode(key), out var v) && !IsNull(v) ? v : null;
        }

        private static bool IsNull(YamlNode v) =>
            v is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" };

        public void ReportUnknown()
        {
            foreach (var (k, _) in Entries())
            {
                var name = k.Value ?? "";
                if (_known.Contains(name)) continue;
                var close = NearMiss.Nearest(name, _known);
                _errors.Add(ConfigCodes.UnknownKey, k, PathOf(name), $"unknown key '{name}'",
                    close is not null ? $"did you mean '{close}'?" : $"remove it; valid keys here: {string.Join(", ", _known.Order())}");
            }
        }

        public Section? Mapping(string key)
        {
            var n = Node(key);
            if (n is null) return null;
            return Of(n, PathOf(key), _errors, $"write '{key}:' followed by indented settings");
        }

        public List<T> List<T>(string key, Func<YamlNode, string, T?> item)
        {
            var result = new List<T>();
            var n = Node(key);
            if (n is null) return result;
            if (n is not YamlSequenceNode seq)
            {
                _errors.Add(ConfigCodes.WrongType, n, PathOf(key), "expected a list", $"write '{key}:' followed by '- ' items, or [a, b]");
                return result;
            }
            for (int i = 0; i < seq.Children.Count; i++)
                if (item(seq.Children[i], $"{PathOf(key)}[{i}]") is { } v) result.Add(v);
            return result;
        }

        public string? Scalar(YamlNode node, string path)
        {
            if (node is YamlScalarNode s) return s.Value ?? "";
            _errors.Add(ConfigCodes.WrongType, node, path.Contains('.') || path.Contains('[') ? path : PathOf(path), "expected a single value", "write a plain value, not a list or mapping (quote values that start with '[' or '{', e.g. \"[::1]:9474\")");
            return null;
        }

        public string? OptionalString(string key) => Node(key) is { } n ? Scalar(n, PathOf(key)) : null;

        public string? RequiredString(string key, string fix)
        {
            var n = Node(key);
            if (n is null) { _errors.Add(ConfigCodes.MissingField, _node, PathOf(key), $"'{key}' is required", fix); return null; }
            return Scalar(n, PathOf(key));
        }

        public TimeSpan? Duration(string key, bool allowZero = false)
        {
            if (Node(key) is not { } n || Scalar(n, PathOf(key)) is not { } text) return null;
            if (!DurationText.TryParse(text, out var d, out var error))
            {
                _errors.Add(ConfigCodes.InvalidValue, n, PathOf(key), error!, "write a number with a unit: 150ms, 3s, 2m");
                return null;
            }
            if (d == TimeSpan.Zero && !allowZero)
            {
                _errors.Add(ConfigCodes.OutOfRange, n, PathOf(key), "must be longer than 0", "write a positive duration, e.g. 1s");
                return null;
            }
            return d;
        }

        public int? Int(string key, int min, string fix)
        {
            if (Node(key) is not { } n || Scalar(n, PathOf(key)) is not { } text) return null;
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            {
                _errors.Add(ConfigCodes.InvalidValue, n, PathOf(key), $"'{text}' is not a whole number", fix);
                return null;
            }
            if (v < min) { _errors.Add(ConfigCodes.OutOfRange, n, PathOf(key), $"{v} is below the minimum {min}", fix); return null; }
            return v;
        }

        public double? Number(string key, double min)
        {
            if (Node(key) is not { } n || Scalar(n, PathOf(key)) is not { } text) return null;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                _errors.Add(ConfigCodes.InvalidValue, n, PathOf(key), $"'{text}' is not a number", "write a plain number, e.g. 1000");
                return null;
            }
            if (v < min) { _errors.Add(ConfigCodes.OutOfRange, n, PathOf(key), $"{v} is below the minimum {min}", $"use {min} or more"); return null; }
            return v;
        }

        public int? Port(string key, bool allowZero = false)
        {
            if (Node(key) is not { } n || Scalar(n, PathOf(key)) is not { } text) return null;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v > 65535 || (v == 0 && !allowZero))
            {
                _errors.Add(ConfigCodes.OutOfRange, n, PathOf(key), $"'{text}' is not a port number", allowZero ? "use 0..65535" : "use 1..65535");
                return null;
            }
            return v;
        }

        public bool? Bool(string key)
        {
            if (Node(key) is not { } n || Scalar(n, PathOf(key)) is not { } text) return null;
            switch (text)
            {
                case "true": return true;
                case "false": return false;
                default:
                    _errors.Add(ConfigCodes.InvalidValue, n, PathOf(key), $"'{text}' is not true or false", $"write {key}: true or {key}: false");
                    return null;
            }
        }

        public IpPrefix? RequiredPrefix(string key, bool strict, string fix)
        {
            var n = Node(key);
            if (n is null) { _errors.Add(ConfigCodes.MissingField, _node, PathOf(key), $"'{key}' is required", fix); return null; }
            return PrefixValue(n, PathOf(key), strict, requireLength: true);
        }

        public IpPrefix? PrefixValue(YamlNode n, string path, bool strict, bool requireLength = true)
        {
            if (Scalar(n, path) is not { } text) return null;
            if (!IpPrefix.TryParse(text, strict, out var p, out var error))
            {
                _errors.Add(ConfigCodes.InvalidPrefix, n, path, error!, "write a CIDR prefix, e.g. 10.0.0.0/8 or 2001:db8::/32");
                return null;
            }
            if (requireLength && !text.Contains('/'))
            {
                _errors.Add(ConfigCodes.InvalidPrefix, n, path, $"'{text}' has no prefix length", $"write {text}/{p.MaxLength} for one address or the subnet length");
                return null;
            }
            return p;
        }

        public IPAddress? RequiredAddress(string key, string fix)
        {
            var n = Node(key);
            if (n is null) { _errors.Add(ConfigCodes.MissingField, _node, PathOf(key), $"'{key}' is required", fix); return null; }
            return AddressValue(n, PathOf(key));
        }

        /// <param name="hostRole">What the address is, when unspecified, loopback, multicast and broadcast addresses cannot be it.</param>
        public IPAddress? AddressValue(YamlNode n, string path, string? hostRole = null)
        {
            if (Scalar(n, path) is not { } text) return null;
            if (!IpAddressText.TryParse(text, out var a, out var why))
            {
                _errors.Add(ConfigCodes.InvalidAddress, n, path, why!.Contains("leading zero", StringComparison.Ordinal) ? $"'{ValueGrammar.Printable(text)}': {why}" : $"'{ValueGrammar.Printable(text)}' is not an IP address",
                    "write a bare address, e.g. 10.255.1.2 (no /length)");
                return null;
            }
            if (hostRole is not null && IpAddressText.SpecialKind(a) is { } kind)
            {
                _errors.Add(ConfigCodes.InvalidAddress, n, path, $"{a} is a {kind} address and cannot be {hostRole}", "use a unicast address");
                return null;
            }
            return a;
        }
    }
}

/// <summary>The overlayd.yaml reader's way into <see cref="DiagnosticList"/>: an error at a YAML node, with its setting's path and the fix.</summary>
internal static class NodeConfigDiagnostics
{
    public static void Add(this DiagnosticList errors, string code, YamlNode? node, string path, string message, string fix) =>
        errors.At(code, node is null ? 1 : (int)node.Start.Line, node is null ? 1 : (int)node.Start.Column, path, message, fix);

    public static void At(this DiagnosticList errors, string code, int line, int column, string path, string message, string fix) =>
        errors.Error(code, new SourceLocation(errors.File, Math.Max(line, 1), Math.Max(column, 1)), message, fix, path);
}
