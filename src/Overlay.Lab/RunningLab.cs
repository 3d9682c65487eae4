using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Overlay.Frr.Northbound;
using Overlay.Linux.Namespaces;

namespace Overlay.Lab;

/// <summary>A TCP endpoint reachable only from inside a node's network namespace.</summary>
public sealed record NodeEndpoint(string Namespace, string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port} in netns {Namespace}";
}

/// <summary>
/// A running <see cref="LabTopology"/>: namespaces, veth links, wireguard-go tunnels and FRR daemons.
/// Dispose tears everything down (processes, namespaces, FRR pathspace folders, UAPI sockets, run
/// directory); it is idempotent and never throws for things that are already gone.
/// </summary>
public sealed partial class RunningLab : IAsyncDisposable, IDisposable
{
    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(30);
    private const string WireGuardGo = "/usr/bin/wireguard-go";

    private readonly ILogger _log;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Dictionary<LabNode, LabRouter> _routers = [];
    private readonly Dictionary<(LabNode, string), LabProcess> _processes = [];
    private readonly List<LabProcess> _retired = [];
    private readonly Lock _lock = new();
    private int _disposed;
    private bool _ownsRun;

    private RunningLab(LabTopology topology, ILogger logger, ILoggerFactory? loggerFactory)
    {
        Topology = topology;
        _log = logger;
        _loggerFactory = loggerFactory;
        RunDirectory = LabNames.RunDirectory(topology.RunId);
    }

    public LabTopology Topology { get; }
    public string RunId => Topology.RunId;

    /// <summary>/tmp/olab-RUNID: configs, keys (0600), FRR logs and process output, per node.</summary>
    public string RunDirectory { get; }

    /// <summary>Timings of the bring-up steps, in order (for logs and benchmarks).</summary>
    public IReadOnlyList<(string Step, TimeSpan Took)> StartupTimings => _timings;
    private readonly List<(string, TimeSpan)> _timings = [];

    /// <summary>
    /// Creates everything the topology declares and waits until it is usable: every FRR daemon answers on
    /// its vty and answers GetCapabilities over gRPC, and every tunnel has handshaken and carries pings both ways.
    /// On failure everything created so far is removed before the exception propagates.
    /// </summary>
    /// <param name="loggerFactory">Given to Overlay.Frr's clients (see <see cref="Router"/>).</param>
    public static async Task<RunningLab> StartAsync(LabTopology topology, ILogger? logger = null, ILoggerFactory? loggerFactory = null,
        CancellationToken ct = default)
    {
        LabPreflight.EnsureUsable(topology);
        var lab = new RunningLab(topology, logger ?? NullLogger.Instance, loggerFactory);
        try
        {
            await lab.BringUpAsync(ct).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BringUpAsync(CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        // The owner file comes first: from now on a crash leaves a run the sweeper recognises as orphaned.
        // Another run's id must never be taken over: teardown removes everything carrying it.
        if (Directory.Exists(RunDirectory) || LabSweeper.FindRunIds().Contains(RunId))
            throw new LabException($"lab run id {RunId} is already in use on this machine ({RunDirectory}); declare a new LabTopology");
        LabSweeper.CreateOwnedRunDirectory(RunDirectory);
        _ownsRun = true;
        LogStarting(_log, RunId, Topology.Nodes.Count, Topology.Links.Count, Topology.Tunnels.Count);

        await TimedAsync("namespaces", async () =>
        {
            foreach (var node in Topology.Nodes)
            {
                Directory.CreateDirectory(NodeDirectory(node));
                await Ip("netns", "add", node.Namespace).ConfigureAwait(false);
                await InNode(node, node.LabForwarding ? "ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1" : "ip link set lo up", ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);

        await TimedAsync("links", async () =>
        {
            foreach (var link in Topology.Links)
            {
                await Ip("link", "add", link.InterfaceA, "netns", link.A.Namespace, "type", "veth",
                         "peer", "name", link.InterfaceB, "netns", link.B.Namespace).ConfigureAwait(false);
                foreach (var (node, ifname, addr) in new[] { (link.A, link.InterfaceA, link.AddressA), (link.B, link.InterfaceB, link.AddressB) })
                    await InNode(node, $"ip addr add {addr} dev {ifname} && ip link set {ifname} up", ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);

        if (Topology.Nats.Count > 0)
            await TimedAsync("nat", () => ConfigureNatsAsync(ct)).ConfigureAwait(false);

        await TimedAsync("wireguard-go", async () =>
        {
            foreach (var t in Topology.Tunnels)
            {
                foreach (var side in new[] { t.A, t.B }) await GenerateKeyAsync(t, side, ct).ConfigureAwait(false);
                foreach (var side in new[] { t.A, t.B }) await StartWireGuardAsync(t, side, ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);

        await TimedAsync("frr", async () =>
        {
            await Task.WhenAll(Topology.Nodes.Where(n => n.FrrDaemons.Count > 0).Select(n => StartFrrAsync(n, ct))).ConfigureAwait(false);
        }).ConfigureAwait(false);

        await TimedAsync("tunnels handshaken", async () =>
        {
            foreach (var t in Topology.Tunnels) await WaitForTunnelAsync(t, DefaultReadyTimeout, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);

        LogStarted(_log, RunId, total.Elapsed.TotalMilliseconds);
    }

    private async Task TimedAsync(string step, Func<Task> work)
    {
        var sw = Stopwatch.StartNew();
        await work().ConfigureAwait(false);
        _timings.Add((step, sw.Elapsed));
        LogStep(_log, RunId, step, sw.Elapsed.TotalMilliseconds);
    }

    // ---------------------------------------------------------------- accessors

    public LabNode Node(string name) => Topology.Nodes.FirstOrDefault(n => n.Name == name)
        ?? throw new ArgumentException($"lab {RunId} has no node '{name}'", nameof(name));

    public string NodeDirectory(LabNode node) => Path.Combine(RunDirectory, node.Name);

    /// <summary>/var/run/frr/PATHSPACE/DAEMON.vty</summary>
    public string VtySocketPath(LabNode node, FrrDaemon daemon) => Path.Combine(FrrStateDirectory(node), daemon.ToDaemonName() + ".vty");

    /// <summary>Overlay.Frr's clients (northbound gRPC, vty, show parsers) for a node's FRR; owned by the lab.</summary>
    public LabRouter Router(LabNode node)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (node.FrrDaemons.Count == 0) throw new ArgumentException($"node {node.Name} runs no FRR daemons", nameof(node));
        lock (_lock)
        {
            if (!_routers.TryGetValue(node, out var router)) _routers[node] = router = new LabRouter(node, _loggerFactory);
            return router;
        }
    }

    /// <summary>The daemon's northbound gRPC endpoint; reachable only from inside the node (see <see cref="ConnectTcpAsync"/>).</summary>
    public NodeEndpoint GrpcEndpoint(LabNode node, FrrDaemon daemon) => new(node.Namespace, "127.0.0.1", daemon.GrpcPort());

    public string FrrLogPath(LabNode node, FrrDaemon daemon) => Path.Combine(NodeDirectory(node), daemon.ToDaemonName() + ".log");

    /// <summary>The running FRR daemon process of a node.</summary>
    public LabProcess Daemon(LabNode node, FrrDaemon daemon) => Process(node, daemon.ToDaemonName());

    /// <summary>The wireguard-go process serving one side of a tunnel.</summary>
    public LabProcess WireGuardProcess(LabTunnel tunnel, LabNode side) => Process(side, tunnel.InterfaceOf(side));

    /// <summary>A process started in a node, by the name it was started under.</summary>
    public LabProcess Process(LabNode node, string name)
    {
        lock (_lock)
            return _processes.TryGetValue((node, name), out var p) ? p
                : throw new ArgumentException($"no process '{name}' on node {node.Name}", nameof(name));
    }

    public IReadOnlyList<LabProcess> Processes()
    {
        lock (_lock) return [.. _processes.Values];
    }

    // ---------------------------------------------------------------- commands and sockets

    /// <summary>Runs a shell command inside the node's namespace ("ip netns exec NS sh -c COMMAND").</summary>
    public Task<ExecResult> ExecAsync(LabNode node, string command, TimeSpan? timeout = null, CancellationToken ct = default) =>
        Command.InNamespaceAsync(node.Namespace, command, timeout, ct);

    public ExecResult Exec(LabNode node, string command, TimeSpan? timeout = null) =>
        ExecAsync(node, command, timeout).GetAwaiter().GetResult();

    /// <summary>vtysh against one daemon of the node's FRR (vtysh -N PATHSPACE -d DAEMON -c COMMAND).</summary>
    public Task<ExecResult> VtyshAsync(LabNode node, FrrDaemon daemon, string command, CancellationToken ct = default) =>
        Command.RunAsync("vtysh", ["-N", node.FrrPathspace, "-d", daemon.ToDaemonName(), "-c", command], TimeSpan.FromSeconds(15), null, ct);

    /// <summary>vtysh against all daemons of the node (like a shell on the router).</summary>
    public Task<ExecResult> VtyshAsync(LabNode node, string command, CancellationToken ct = default) =>
        Command.RunAsync("vtysh", ["-N", node.FrrPathspace, "-c", command], TimeSpan.FromSeconds(15), null, ct);

    /// <summary>A socket created inside the node's namespace; connect/bind it from any thread.</summary>
    public Socket CreateSocket(LabNode node, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        using var ns = NetNamespace.Open(node.Namespace);
        return ns.CreateSocket(family, type, protocol);
    }

    /// <summary>A TCP connection made from inside the node's namespace (e.g. to a daemon's gRPC port).</summary>
    public Task<Socket> ConnectTcpAsync(NodeEndpoint endpoint, CancellationToken ct = default) =>
        ConnectTcpAsync(endpoint.Namespace, endpoint.Host, endpoint.Port, ct);

    public static async Task<Socket> ConnectTcpAsync(string namespaceName, string host, int port, CancellationToken ct = default)
    {
        var address = IPAddress.Parse(host);
        Socket socket;
        using (var ns = NetNamespace.Open(namespaceName))
            socket = await ns.RunAsync(() => new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)).ConfigureAwait(false);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(new IPEndPoint(address, port), ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // ---------------------------------------------------------------- processes

    /// <summary>Starts an arbitrary long-running process in a node (e.g. overlayd); output goes to the node's directory.</summary>
    public LabProcess StartProcess(LabNode node, LabProcessSpec spec)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        lock (_lock)
        {
            if (_processes.TryGetValue((node, spec.Name), out var old) && !old.HasExited)
                throw new InvalidOperationException($"{old} is still running");
            if (old is not null) _retired.Add(old);
            var p = LabProcess.Start(node, spec, Path.Combine(NodeDirectory(node), spec.Name + ".out"));
            _processes[(node, spec.Name)] = p;
            LogProcessStarted(_log, spec.Name, node.Name, p.Pid);
            return p;
        }
    }

    /// <summary>Stops a process: SIGTERM, then SIGKILL after <paramref name="grace"/> (default 5 s).</summary>
    public async Task StopProcessAsync(LabProcess process, TimeSpan? grace = null) =>
        await process.StopAsync(grace ?? TimeSpan.FromSeconds(5)).ConfigureAwait(false);

    /// <summary>
    /// Starts a process again with the same spec after it exited (kill it first). FRR daemons and
    /// wireguard-go are waited for and reconfigured (a new wireguard-go knows nothing of its keys and peer).
    /// </summary>
    public async Task<LabProcess> RestartAsync(LabProcess process, CancellationToken ct = default)
    {
        if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
            throw new InvalidOperationException($"{process} is still running: kill or stop it before restarting");
        var node = process.Node;
        var tunnel = Topology.Tunnels.FirstOrDefault(t => (t.A == node || t.B == node) && t.InterfaceOf(node) == process.Name);
        if (tunnel is not null)
        {
            await StartWireGuardAsync(tunnel, node, ct).ConfigureAwait(false);
            return WireGuardProcess(tunnel, node);
        }
        if (Enum.TryParse<FrrDaemon>(process.Name, ignoreCase: true, out var daemon) && node.FrrDaemons.ContainsKey(daemon))
        {
            var p = StartProcess(node, process.Spec);
            await WaitForDaemonAsync(node, daemon, DefaultReadyTimeout, ct).ConfigureAwait(false);
            return p;
        }
        return StartProcess(node, process.Spec);
    }

    // ---------------------------------------------------------------- links

    /// <summary>Sets one side (or, with <paramref name="side"/> null, both sides) of a veth link down or up.</summary>
    public async Task SetLinkStateAsync(LabLink link, bool up, LabNode? side = null, CancellationToken ct = default)
    {
        foreach (var node in side is null ? new[] { link.A, link.B } : [side])
            await InNode(node, $"ip link set {link.InterfaceOf(node)} {(up ? "up" : "down")}", ct).ConfigureAwait(false);
        LogLinkState(_log, link.A.Name, link.B.Name, up ? "up" : "down");
    }

    /// <summary>Sets a tunnel interface down or up on one side.</summary>
    public Task SetTunnelInterfaceStateAsync(LabTunnel tunnel, LabNode side, bool up, CancellationToken ct = default) =>
        InNode(side, $"ip link set {tunnel.InterfaceOf(side)} {(up ? "up" : "down")}", ct);

    // ---------------------------------------------------------------- readiness

    /// <summary>Waits until the vty answers "show version" and the daemon answers GetCapabilities over gRPC.</summary>
    public async Task<TimeSpan> WaitForDaemonAsync(LabNode node, FrrDaemon daemon, TimeSpan timeout, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var p = Daemon(node, daemon);
        await Poll.UntilAsync($"{daemon.ToDaemonName()} of {node.Name} answers on its vty", async c =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, $"{FrrLogPath(node, daemon)} and {p.OutputPath}");
            return File.Exists(VtySocketPath(node, daemon)) && (await VtyshAsync(node, daemon, "show version", c).ConfigureAwait(false)).Succeeded;
        }, timeout, ct: ct).ConfigureAwait(false);
        var client = Router(node).Northbound.For(daemon);
        await Poll.UntilAsync($"{daemon.ToDaemonName()} of {node.Name} answers GetCapabilities over gRPC", async c =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, $"{FrrLogPath(node, daemon)} and {p.OutputPath}");
            return (await client.GetCapabilitiesAsync(c).ConfigureAwait(false)).Modules.Count > 0;
        }, timeout - sw.Elapsed, ct: ct).ConfigureAwait(false);
        return sw.Elapsed;
    }

    /// <summary>Seconds since the epoch of the last handshake seen on one side (0 = never).</summary>
    public async Task<long> LatestHandshakeAsync(LabTunnel tunnel, LabNode side, CancellationToken ct = default)
    {
        var r = (await ExecAsync(side, $"wg show {tunnel.InterfaceOf(side)} latest-handshakes", ct: ct).ConfigureAwait(false)).EnsureSuccess();
        var fields = r.StdOut.Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], CultureInfo.InvariantCulture, out long t) ? t : 0;
    }

    /// <summary>The kernel's route for a prefix in the node's main table ("" when there is none).</summary>
    public async Task<string> KernelRouteAsync(LabNode node, string prefix, CancellationToken ct = default) =>
        (await ExecAsync(node, $"ip route show exact {prefix}", ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();

    /// <summary>One ping (1 s wait) from a node; true when answered.</summary>
    public async Task<bool> PingAsync(LabNode from, IPAddress to, CancellationToken ct = default) =>
        (await ExecAsync(from, $"ping -n -q -c 1 -W 1 {to}", TimeSpan.FromSeconds(5), ct).ConfigureAwait(false)).Succeeded;

    /// <summary>
    /// Pings across the tunnel in both directions (which also triggers the handshake) until both are
    /// answered and both sides saw a handshake. Both directions matter after a restart: the side that
    /// kept its session keeps sending with keys the restarted side no longer has, and only re-handshakes
    /// after about 15 s; the restarted side's first packet handshakes at once.
    /// </summary>
    public async Task<TimeSpan> WaitForTunnelAsync(LabTunnel tunnel, TimeSpan timeout, CancellationToken ct = default)
    {
        var took = await Poll.UntilAsync($"ping across tunnel {tunnel.InterfaceA}-{tunnel.InterfaceB}", async c =>
            {
                var there = PingAsync(tunnel.A, tunnel.AddressB.Address, c);
                var back = PingAsync(tunnel.B, tunnel.AddressA.Address, c);
                return await there.ConfigureAwait(false) & await back.ConfigureAwait(false);
            }, timeout, ct: ct).ConfigureAwait(false);
        await Poll.UntilAsync($"handshake on both sides of {tunnel.InterfaceA}-{tunnel.InterfaceB}",
            async c => await LatestHandshakeAsync(tunnel, tunnel.A, c).ConfigureAwait(false) > 0
                    && await LatestHandshakeAsync(tunnel, tunnel.B, c).ConfigureAwait(false) > 0,
            timeout - took, ct: ct).ConfigureAwait(false);
        return took;
    }

    // ---------------------------------------------------------------- bring-up pieces

    private string KeyPath(LabTunnel t, LabNode side) => Path.Combine(RunDirectory, t.InterfaceOf(side) + ".key");

    private async Task GenerateKeyAsync(LabTunnel t, LabNode side, CancellationToken ct)
    {
        var priv = (await Command.RunAsync("wg", ["genkey"], ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();
        // The private key only ever goes to a 0600 file that "wg set ... private-key FILE" reads.
        File.WriteAllText(KeyPath(t, side), "", Encoding.ASCII);
        File.SetUnixFileMode(KeyPath(t, side), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(KeyPath(t, side), priv + "\n", Encoding.ASCII);
        var pub = (await Command.RunAsync("wg", ["pubkey"], stdin: priv + "\n", ct: ct).ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();
        if (side == t.A) t.PublicKeyA = pub; else t.PublicKeyB = pub;
    }

    private async Task StartWireGuardAsync(LabTunnel t, LabNode side, CancellationToken ct)
    {
        string ifname = t.InterfaceOf(side);
        string socket = WireGuardGoSocket.PathOf(ifname);
        WireGuardGoSocket.RemoveStale(ifname);
        StartProcess(side, new LabProcessSpec(ifname, WireGuardGo, ["-f", ifname])
        {
            Environment = new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1", ["LOG_LEVEL"] = "error" },
        });
        var p = WireGuardProcess(t, side);
        await Poll.UntilAsync($"wireguard-go {ifname} listens on {socket}", () =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
            return WireGuardGoSocket.IsListening(ifname);
        }, DefaultReadyTimeout, ct: ct).ConfigureAwait(false);

        var o = t.Options;
        bool isA = side == t.A;
        var peer = t.PeerOf(side);
        var args = new List<string>
        {
            "wg", "set", ifname, "private-key", KeyPath(t, side), "listen-port", (isA ? o.ListenPortA : o.ListenPortB).ToString(CultureInfo.InvariantCulture),
            "peer", (isA ? t.PublicKeyB : t.PublicKeyA)!, "allowed-ips", string.Join(',', isA ? o.AllowedIpsA : o.AllowedIpsB),
        };
        if (isA ? o.EndpointOnA : o.EndpointOnB)
            args.AddRange(["endpoint", $"{t.EndpointAddressFor(side) ?? throw new LabException($"{ifname} has no endpoint address for {peer.Name}")}:{(isA ? o.ListenPortB : o.ListenPortA)}"]);
        if (o.PersistentKeepalive is { } ka)
            args.AddRange(["persistent-keepalive", ((int)ka.TotalSeconds).ToString(CultureInfo.InvariantCulture)]);
        await InNode(side, Command.Quote(args), ct).ConfigureAwait(false);
        await InNode(side, $"ip addr add {(isA ? t.AddressA : t.AddressB)} dev {ifname} && ip link set {ifname} up", ct).ConfigureAwait(false);
    }

    private string FrrStateDirectory(LabNode node) => Path.Combine(LabNames.FrrStateDirectory, node.FrrPathspace);

    private async Task StartFrrAsync(LabNode node, CancellationToken ct)
    {
        string state = FrrStateDirectory(node);
        Directory.CreateDirectory(state);
        await Chown(state, ct).ConfigureAwait(false);
        await Chown(NodeDirectory(node), ct).ConfigureAwait(false);
        // zebra first: the others connect to its zserv socket at start.
        foreach (var daemon in node.FrrDaemons.Keys.Order())
        {
            string conf = Path.Combine(NodeDirectory(node), daemon.ToDaemonName() + ".conf");
            File.WriteAllText(conf, node.FrrDaemons[daemon]);
            await Chown(conf, ct).ConfigureAwait(false);
            StartProcess(node, new LabProcessSpec(daemon.ToDaemonName(), daemon.BinaryPath(),
            [
                "-N", node.FrrPathspace, "-f", conf, "-i", Path.Combine(state, daemon.ToDaemonName() + ".pid"),
                "-M", $"grpc:{daemon.GrpcPort()}", "--log", "file:" + FrrLogPath(node, daemon), "-u", "frr", "-g", "frr",
            ]));
            if (daemon == FrrDaemon.Zebra) await WaitForDaemonAsync(node, daemon, DefaultReadyTimeout, ct).ConfigureAwait(false);
        }
        await Task.WhenAll(node.FrrDaemons.Keys.Where(d => d != FrrDaemon.Zebra)
            .Select(d => WaitForDaemonAsync(node, d, DefaultReadyTimeout, ct))).ConfigureAwait(false);
    }

    private static async Task Chown(string path, CancellationToken ct) =>
        (await Command.RunAsync("chown", ["frr:frr", path], ct: ct).ConfigureAwait(false)).EnsureSuccess();

    private static async Task Ip(params string[] args) => (await Command.RunAsync("ip", args).ConfigureAwait(false)).EnsureSuccess();

    private async Task InNode(LabNode node, string command, CancellationToken ct) =>
        (await ExecAsync(node, command, ct: ct).ConfigureAwait(false)).EnsureSuccess();

    // ---------------------------------------------------------------- teardown

    /// <summary>What the last teardown removed and could not remove.</summary>
    public SweepReport? TeardownReport { get; private set; }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var sw = Stopwatch.StartNew();
        List<LabProcess> all;
        lock (_lock)
        {
            all = [.. _processes.Values, .. _retired];
            foreach (var r in _routers.Values) r.Dispose();
            _routers.Clear();
        }
        foreach (var p in all)
        {
            try { p.Dispose(); }
            catch (Exception e) when (e is IOException or InvalidOperationException) { LogTeardownProblem(_log, RunId, $"{p}: {e.Message}"); }
        }
        var removed = new List<string>();
        var failures = new List<string>();
        if (_ownsRun) LabSweeper.RemoveRun(RunId, removed, failures);
        TeardownReport = new SweepReport([RunId], removed, failures);
        foreach (var f in failures) LogTeardownProblem(_log, RunId, f);
        LogStopped(_log, RunId, sw.Elapsed.TotalMilliseconds);
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Lab {RunId}: starting {Nodes} nodes, {Links} links, {Tunnels} tunnels")]
    private static partial void LogStarting(ILogger logger, string runId, int nodes, int links, int tunnels);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Lab {RunId}: {Step} ready in {Ms:0} ms")]
    private static partial void LogStep(ILogger logger, string runId, string step, double ms);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Information, Message = "Lab {RunId}: up in {Ms:0} ms")]
    private static partial void LogStarted(ILogger logger, string runId, double ms);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Debug, Message = "Started {Name} on {Node} (pid {Pid})")]
    private static partial void LogProcessStarted(ILogger logger, string name, string node, int pid);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Information, Message = "Link {A}-{B} set {State}")]
    private static partial void LogLinkState(ILogger logger, string a, string b, string state);

    [LoggerMessage(EventId = 9106, Level = LogLevel.Warning, Message = "Lab {RunId} teardown: {Problem}")]
    private static partial void LogTeardownProblem(ILogger logger, string runId, string problem);

    [LoggerMessage(EventId = 9107, Level = LogLevel.Information, Message = "Lab {RunId}: torn down in {Ms:0} ms")]
    private static partial void LogStopped(ILogger logger, string runId, double ms);
}
