using System.Net;
using Overlay.Core.Net;
using Overlay.Linux.Namespaces;
using Overlay.Linux.Rtnetlink;
using Overlay.Linux.Tun;

namespace Overlay.Linux.Tests.Support;

/// <summary>
/// Entry point of the test assembly run as a child process (<c>dotnet Overlay.Linux.Tests.dll hold-tun NS NAME</c>):
/// holds a <see cref="TunLease"/> with VIP 10.77.0.1/32 and a route 10.78.0.0/24 through it, prints
/// "ready INDEX" and waits to be killed. The test runner never calls Main.
/// </summary>
public static class TunHolderProgram
{
    public const string Mode = "hold-tun";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 3 || args[0] != Mode)
        {
            Console.Error.WriteLine($"usage: {Mode} NETNS TUN-NAME");
            return 2;
        }
        using var ns = NetNamespace.Open(args[1]);
        await using var lease = await TunLease.CreateAsync(ns, args[2]);
        await lease.AddAddressAsync(IPAddress.Parse("10.77.0.1"), 32);
        using var rtnl = RtnetlinkClient.Open(ns);
        await rtnl.Routes.AddAsync(new KernelRoute { Destination = IpPrefix.Parse("10.78.0.0/24"), OutputInterface = lease.Index, Scope = RouteScope.Link });
        Console.WriteLine($"ready {lease.Index}");
        Console.Out.Flush();
        await Task.Delay(Timeout.Infinite);
        return 0;
    }
}
