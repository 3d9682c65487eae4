using System.Text;

namespace Overlay.Lab.Scenarios;

/// <summary>
/// The client as a managed node: overlayd in the client's namespace, with the session watchdog on its tunnel to the
/// anycast endpoint (docs/anycast.md, "Clients that run overlayd"). Without it the client is a stock WireGuard client.
/// </summary>
public sealed partial class AnycastLab
{
    private OverlaydApi? _clientApi;

    public string ClientOverlaydConfigPath => Path.Combine(Lab.NodeDirectory(Topology.Client), "overlayd.yaml");
    public string ClientOverlaydSocketPath => Path.Combine(Lab.NodeDirectory(Topology.Client), "overlayd.sock");

    /// <summary>The client's overlayd, when started.</summary>
    public LabProcess? ClientOverlayd => Lab.Processes().LastOrDefault(p => p.Node == Topology.Client && p.Name == "overlayd");

    /// <summary>True while the client's overlayd (and so its watchdog) runs.</summary>
    public bool ClientWatchdogRunning => ClientOverlayd is { HasExited: false };

    public OverlaydApi ClientApi => _clientApi ??= new OverlaydApi(ClientOverlaydSocketPath);

    /// <summary>
    /// Starts overlayd on the client with the watchdog on its anycast tunnel and waits until the watchdog is armed (its
    /// first echo through the tunnel was answered). Returns the clock time it was armed.
    /// </summary>
    public async Task<TimeSpan> StartClientOverlaydAsync(CancellationToken ct = default)
    {
        if (ClientWatchdogRunning) throw new InvalidOperationException("the client's overlayd is already running");
        File.WriteAllText(ClientOverlaydConfigPath, ClientOverlaydConfig(), Encoding.UTF8);
        File.Delete(ClientOverlaydSocketPath);
        var p = Lab.StartProcess(Topology.Client, OverlaydBinary.Spec(ClientOverlaydConfigPath, _overlaydDll));
        await Poll.UntilAsync("the client's overlayd armed its session watchdog", async c =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
            if (!File.Exists(ClientOverlaydSocketPath)) return false;
            try { return (await ClientApi.EventsAsync(0, c).ConfigureAwait(false)).Any(e => e.What == "watchdog armed"); }
            catch (HttpRequestException) { return false; }
        }, ConvergeTimeout, TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
        return Now;
    }

    /// <summary>Stops the client's overlayd (SIGTERM): from then on the client behaves as a stock WireGuard client.</summary>
    public async Task StopClientOverlaydAsync()
    {
        if (ClientOverlayd is { HasExited: false } p) await p.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    /// <summary>
    /// The client's overlayd.yaml (docs/overlayd-config.md): its one tunnel, to the anycast endpoint, with the session
    /// watchdog at its defaults (echo to the sites' tunnel address every 100 ms, reset after 3 misses). No VIPs and no
    /// FRR on the client: overlayd runs only the watchdog there.
    /// </summary>
    public string ClientOverlaydConfig()
    {
        var t = Topology;
        return $"""
            node: {t.Client.Name}
            api:
              socket: {ClientOverlaydSocketPath}
              mode: "0660"
            metrics:
              listen: 127.0.0.1:9474
            interfaces:
              - name: {t.ClientInterface}
                peer: anycast-web
                peerPublicKey: "{_publicKeys["anycast"]}"
                listenPort: {AnycastTopology.ClientPort}
                keepalive: 0s
                localAddress: {AnycastTopology.ClientTunnelAddress}
                peerAddress: {AnycastTopology.SiteTunnelAddress.Address}
                bfd: false
                gate: [{AnycastTopology.SiteTunnelAddress.Address}/32]
                watchdog:
                  interval: 100ms
                  misses: 3
                  backoff: 250ms
                  maxBackoff: 30s
            drain:
              file: {Path.Combine(Lab.NodeDirectory(t.Client), "drain")}
              shutdownTimeout: 1s

            """;
    }
}
