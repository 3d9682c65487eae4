using System.Text;

namespace Overlay.Lab.Scenarios;

/// <summary>
/// The client as a managed node: overlayd in the client's namespace, with the session watchdog on its tunnel to the
/// anycast endpoint (docs/anycast.md, "Clients that run overlayd"). Without it the client is a stock WireGuard client.
/// </summary>
public sealed partial class AnycastLab
{
    private OverlaydApi? _clientApi;

    /// <summary>The client's live overlayd.yaml: a copy of render's file (with or without the watchdog, see <see cref="SetClientWatchdogAsync"/>).</summary>
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
    /// Switches the running client overlayd's watchdog on or off by rewriting its overlayd.yaml and reloading it
    /// (SIGHUP), and waits until overlayd says so: "watchdog armed" (on) or "watchdog stopped" (off). With it off, the
    /// client is a stock WireGuard client (overlayd touches WireGuard only through the watchdog).
    /// </summary>
    public async Task SetClientWatchdogAsync(bool on, CancellationToken ct = default)
    {
        var p = ClientOverlayd is { HasExited: false } running ? running : throw new InvalidOperationException("the client's overlayd is not running");
        string text = ClientOverlaydConfig(on);
        if (File.Exists(ClientOverlaydConfigPath) && File.ReadAllText(ClientOverlaydConfigPath) == text) return; // already so
        long seq = (await ClientApi.EventsAsync(0, ct).ConfigureAwait(false)).LastOrDefault()?.Seq ?? 0;
        File.WriteAllText(ClientOverlaydConfigPath, text, Encoding.UTF8);
        p.Signal(LabProcess.SIGHUP);
        string expect = on ? "watchdog armed" : "watchdog stopped";
        await Poll.UntilAsync($"the client's overlayd reports '{expect}'", async c =>
        {
            if (p.HasExited) throw new LabProcessExitedException(p, p.OutputPath);
            return (await ClientApi.EventsAsync(seq, c).ConfigureAwait(false)).Any(e => e.What == expect);
        }, ConvergeTimeout, TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The client's overlayd.yaml as render wrote it from the lab's inventory: its one tunnel, to the anycast endpoint,
    /// with the session watchdog (<c>anycastEndpoint.watchdog: true</c>: echo to the sites' tunnel address every 100 ms,
    /// reset after 3 misses), or without it (the same inventory with <c>watchdog: false</c>). No VIPs on the client:
    /// overlayd runs only the watchdog there.
    /// </summary>
    public string ClientOverlaydConfig(bool watchdog = true) =>
        File.ReadAllText(RenderedDeployment.OverlaydPath(watchdog ? RenderedNodeDirectory(Topology.Client) : RenderedClientWithoutWatchdog));
}
