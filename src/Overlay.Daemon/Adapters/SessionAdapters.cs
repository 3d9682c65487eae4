using System.Net;
using Overlay.Core.Net;
using Overlay.Daemon.Ports;
using Overlay.Linux.Probing;
using Overlay.Linux.WireGuard;

namespace Overlay.Daemon.Adapters;

/// <summary>Session resets through the composite WireGuard client (kernel genetlink first, then userspace UAPI).</summary>
internal sealed class WireGuardPeerWriter(IWireGuardClient client) : IWireGuardPeerWriter
{
    public Task ResetSessionAsync(string interfaceName, WireGuardKey peer, CancellationToken cancellationToken) =>
        client.ResetPeerSessionAsync(interfaceName, peer, cancellationToken);
}

/// <summary>ICMP echo probes opened in the namespace overlayd runs in.</summary>
internal sealed class IcmpTunnelProber : ITunnelProber
{
    public ITunnelProbe Open(string interfaceName, IPAddress target) => new Probe(IcmpEchoProbe.Open(interfaceName, target));

    private sealed class Probe(IcmpEchoProbe probe) : ITunnelProbe
    {
        public void Send() => probe.Send();
        public int DrainReplies() => probe.DrainReplies();
        public void Dispose() => probe.Dispose();
    }
}
