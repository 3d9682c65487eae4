using Overlay.Frr.Northbound;
using Overlay.Lab;

namespace Overlay.Frr.Tests.Live;

/// <summary>Naming and declaration rules of the lab; pure, no root needed.</summary>
public sealed class LabTopologyTests
{
    [Fact]
    public void Every_name_carries_the_run_id_and_interface_names_fit_the_kernel_limit()
    {
        var topo = new LabTopology("0a1b2c");
        var nodes = Enumerable.Range(0, 12).Select(i => topo.AddNode($"node{i:00}x")).ToList();
        var links = Enumerable.Range(0, 11).Select(i => topo.AddLink(nodes[i], $"192.0.2.{4 * i + 1}/30", nodes[i + 1], $"192.0.2.{4 * i + 2}/30")).ToList();
        var tunnels = links.Select((l, i) => topo.AddTunnel(l, $"10.255.0.{2 * i}/31", $"10.255.0.{2 * i + 1}/31")).ToList();

        string[] interfaces = [.. links.SelectMany(l => new[] { l.InterfaceA, l.InterfaceB }), .. tunnels.SelectMany(t => new[] { t.InterfaceA, t.InterfaceB })];
        Assert.All(interfaces, n => Assert.InRange(n.Length, 1, 15));
        Assert.Equal(interfaces.Length, interfaces.Distinct().Count());
        Assert.All(interfaces, n => Assert.Equal("0a1b2c", LabNames.RunIdOf(n)));
        Assert.All(nodes, n => Assert.Equal("0a1b2c", LabNames.RunIdOf(n.Namespace)));
        Assert.Equal("olab-0a1b2c-node00x", nodes[0].Namespace);
        Assert.Equal(nodes[0].Namespace, nodes[0].FrrPathspace);
        Assert.Equal("0a1b2c", LabNames.RunIdOf(Path.GetFileName(LabNames.RunDirectory("0a1b2c"))));
        Assert.Equal("0a1b2c", LabNames.RunIdOf(tunnels[3].InterfaceB + ".sock"));
        Assert.Equal(["0a1b2c"], LabNames.RunIdsIn($"/usr/lib/frr/zebra -N {nodes[1].Namespace} -f /tmp/olab-0a1b2c/node01x/zebra.conf"));
    }

    [Theory]
    [InlineData("olab-0a1b2c-r1", "0a1b2c")]
    [InlineData("olab0a1b2cw3b", "0a1b2c")]
    [InlineData("olab0a1b2cv12a.sock", "0a1b2c")]
    [InlineData("olab-0a1b2c", "0a1b2c")]
    [InlineData("olab-0a1b2", null)]
    [InlineData("olab-demo-out.txt", null)]
    [InlineData("cap19658a", null)]
    [InlineData("olab-0a1b2c3", null)]
    public void Only_names_of_the_lab_map_to_a_run_id(string name, string? runId) =>
        Assert.Equal(runId, LabNames.RunIdOf(name));

    [Fact]
    public void Bad_declarations_are_refused_with_the_reason()
    {
        var topo = new LabTopology();
        Assert.Contains("lowercase", Assert.Throws<ArgumentException>(() => topo.AddNode("Router-1")).Message);
        Assert.Contains("lowercase", Assert.Throws<ArgumentException>(() => topo.AddNode("averyverylongname")).Message);
        var a = topo.AddNode("a");
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => topo.AddNode("a")).Message);
        var b = topo.AddNode("b");
        Assert.Contains("ADDRESS/LENGTH", Assert.Throws<FormatException>(() => topo.AddLink(a, "192.0.2.1", b, "192.0.2.2/30")).Message);
        Assert.Contains("ADDRESS/LENGTH", Assert.Throws<FormatException>(() => topo.AddLink(a, "192.0.2.1/33", b, "192.0.2.2/30")).Message);
        Assert.Throws<ArgumentException>(() => topo.AddLink(a, "192.0.2.1/30", a, "192.0.2.2/30"));
        var other = new LabTopology().AddNode("c");
        Assert.Throws<ArgumentException>(() => topo.AddLink(a, "192.0.2.1/30", other, "192.0.2.2/30"));
        Assert.Throws<ArgumentException>(() => new LabTopology("XYZ"));
    }

    [Fact]
    public void Any_FRR_daemon_brings_zebra_and_each_daemon_has_its_own_grpc_port()
    {
        var node = new LabTopology().AddNode("r").WithFrr(FrrDaemon.Bgpd, "router bgp 1\n");
        Assert.Equal([FrrDaemon.Zebra, FrrDaemon.Bgpd], node.FrrDaemons.Keys.Order());
        var ports = Enum.GetValues<FrrDaemon>().Select(d => d.GrpcPort()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.Equal(50051, FrrDaemon.Zebra.GrpcPort());
        Assert.Equal(50052, FrrDaemon.Staticd.GrpcPort());
        Assert.Equal(50053, FrrDaemon.Bfdd.GrpcPort());
    }
}
