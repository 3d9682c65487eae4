using System.Text.Json;

namespace Overlay.Linux.Tests.Support;

/// <summary>
/// A test namespace with a veth pair v0/v1 (both inside it, up) and 10.99.0.1/24 on v0, so unicast
/// routes have a device and a reachable gateway (10.99.0.2 is on v1's side of the same segment).
/// </summary>
public sealed class RoutedNamespace : IDisposable
{
    public RoutedNamespace(string purpose)
    {
        Ns = new TestNamespace(purpose);
        Ns.Ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
        Ns.Ip("link", "set", "v0", "up");
        Ns.Ip("link", "set", "v1", "up");
        Ns.Ip("addr", "add", "10.99.0.1/24", "dev", "v0");
        Ns.Ip("addr", "add", "10.99.0.2/24", "dev", "v1");
        Ns.Ip("-6", "addr", "add", "2001:db8:99::1/64", "dev", "v0", "nodad");
        V0 = IfIndex("v0");
        V1 = IfIndex("v1");
    }

    public TestNamespace Ns { get; }
    public int V0 { get; }
    public int V1 { get; }

    public int IfIndex(string name) =>
        JsonDocument.Parse(Ns.Ip("-j", "link", "show", "dev", name)).RootElement[0].GetProperty("ifindex").GetInt32();

    /// <summary><c>ip -j route show</c> with extra selectors, as parsed JSON elements.</summary>
    public List<JsonElement> IpRoutes(params string[] selectors)
    {
        var all = new List<JsonElement>();
        foreach (var family in new[] { "-4", "-6" })
        {
            var (code, stdout, stderr) = Sh.Exec("ip", ["-n", Ns.Name, "-j", family, "route", "show", .. selectors]);
            // A table with no routes of a family "does not exist"; a prefix of the other family is "expected".
            if (code != 0 && (stderr.Contains("does not exist") || stderr.Contains("prefix is expected"))) continue;
            if (code != 0) throw new InvalidOperationException($"ip route show {string.Join(' ', selectors)}: {stderr}");
            all.AddRange(JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(e => e.Clone()));
        }
        return all;
    }

    public void Dispose() => Ns.Dispose();
}
