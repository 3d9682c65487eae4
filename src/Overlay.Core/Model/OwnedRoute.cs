using Overlay.Core.Net;

namespace Overlay.Core.Model;

/// <summary>
/// A kernel route overlayd owns (rtnetlink, protocol "overlay"), by device name: one record for what overlayd.yaml asks
/// for (<c>routes:</c>), what the daemon wants and what it reads back from the kernel, so none is re-mapped. The netlink
/// adapter resolves the name to the interface index Overlay.Linux's KernelRoute carries.
/// </summary>
public sealed record OwnedRoute(IpPrefix Prefix, string Dev, int Metric);
